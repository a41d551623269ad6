package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/semver"
	"github.com/aiflow/aiflow/internal/textgate"
)

// Config configures New.
type Config struct {
	// Store keeps services, instances and their history; required.
	Store Store
	// Events, when set, receives a copy of every event after its change
	// is saved (see EventAppender); the history is the Store's.
	Events EventAppender
	// NowFunc is the registry's clock; nil means time.Now.
	NowFunc func() time.Time
	// NewIDFunc makes the ids of instances registered without one; nil
	// means random UUIDs.
	NewIDFunc func() string
	// Logger receives what goes wrong outside a caller's request (the
	// event feed); nil discards it.
	Logger *slog.Logger
	// CheckEndpointFunc, when set, is asked about every instance endpoint
	// registered (internal says whether the instance is internal): an
	// error refuses the registration, its text the problem's detail. The
	// wiring passes the egress guard's CheckURL.
	CheckEndpointFunc func(endpoint string, internal bool) error
}

// Registry holds the registry's use cases. It is safe for concurrent use;
// several registries may share one store (API functions, the checker),
// since every change is saved only if nothing changed its service
// meanwhile, and decided again otherwise.
type Registry struct {
	store         Store
	events        EventAppender
	now           func() time.Time
	newID         func() string
	logger        *slog.Logger
	checkEndpoint func(string, bool) error
}

// New returns a registry over cfg.Store. It returns an error when the
// store is missing.
func New(cfg Config) (*Registry, error) {
	if cfg.Store == nil {
		return nil, errors.New("making the registry: no store")
	}
	r := &Registry{
		store:         cfg.Store,
		events:        cfg.Events,
		now:           cfg.NowFunc,
		newID:         cfg.NewIDFunc,
		logger:        cfg.Logger,
		checkEndpoint: cfg.CheckEndpointFunc,
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.newID == nil {
		r.newID = uuid.NewString
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// maxAttempts bounds how often a change is decided again after another
// change of its service won the race.
const maxAttempts = 30

// DefaultEjection is how long Eject keeps an instance without an active
// check out when it is given no duration.
const DefaultEjection = 30 * time.Second

// The actors of what the registry does without a caller.
const (
	ActorRegistry = "registry"
	ActorChecker  = "health-checker"
	ActorEjection = "service-step"
)

// now returns the time as the stores keep it: UTC, in microseconds.
func (r *Registry) clock() time.Time { return r.now().UTC().Truncate(time.Microsecond) }

// update loads a service name, lets decide fill in a change, and saves
// it, deciding again when another change was saved meanwhile. decide may
// run more than once, and must reset what it reports each time.
func (r *Registry) update(ctx context.Context, name string, decide func(st *State, ch *Change) error) error {
	for attempt := 1; ; attempt++ {
		st, err := r.store.Load(ctx, name)
		if err != nil {
			return fmt.Errorf("loading service %s: %w", name, err)
		}
		ch := Change{Name: name, Revision: st.Revision}
		if err := decide(&st, &ch); err != nil {
			return err
		}
		if len(ch.PutServices)+len(ch.DeleteServices)+len(ch.PutInstances)+len(ch.DeleteInstances)+len(ch.Events) == 0 {
			return nil
		}
		err = r.store.Save(ctx, ch)
		if errors.Is(err, ErrStale) && attempt < maxAttempts {
			// Many writers of one service (instances heartbeating, checks
			// recorded) would otherwise retry in step and starve one of
			// them: wait a random time, longer after each loss.
			if err := clock.Sleep(ctx, rand.N(time.Duration(attempt)*time.Millisecond)); err != nil {
				return fmt.Errorf("saving service %s: %w", name, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("saving service %s: %w", name, err)
		}
		if r.events != nil && len(ch.Events) > 0 {
			if err := r.events.AppendEvents(ctx, StreamID(name), ch.Events); err != nil {
				r.logger.Warn("the registry's event feed refused events", "service", name, "events", len(ch.Events), "error", err)
			}
		}
		return nil
	}
}

// authorize checks that c may manage the service name.
func authorize(c Caller, name string) error {
	if c.Admin || (c.Service != "" && c.Service == name) {
		return nil
	}
	who := c.Subject
	if who == "" {
		who = "the caller"
	}
	return fmt.Errorf("%s may not manage service %q: %w", who, name, ErrForbidden)
}

func actor(c Caller) string {
	if c.Subject != "" {
		return c.Subject
	}
	if c.Admin {
		return "admin"
	}
	return "service:" + c.Service
}

// service returns the version of the state, or nil.
func (st *State) service(version string) *Service {
	for i := range st.Services {
		if st.Services[i].Version == version {
			return &st.Services[i]
		}
	}
	return nil
}

// instance returns an instance of any version of the state, with its
// version, or nils.
func (st *State) instance(id string) (*Service, *Instance) {
	for i := range st.Services {
		for k := range st.Services[i].Instances {
			if st.Services[i].Instances[k].ID == id {
				return &st.Services[i], &st.Services[i].Instances[k]
			}
		}
	}
	return nil, nil
}

// RegisterService registers a service version, or replaces the definition
// of a registered one, and registers (or registers again) the instances
// it lists; instances it does not list stay. It returns the version with
// all its instances, their statuses as List reads them. Errors:
// ErrForbidden when c may not manage the service or registers an internal
// instance without being an admin, *ValidationError listing every problem
// of s, ErrConflict when an instance id is registered for another
// version, and the store's.
func (r *Registry) RegisterService(ctx context.Context, c Caller, s Service) (Service, error) {
	if err := authorize(c, s.Name); err != nil {
		return Service{}, fmt.Errorf("registering service %s: %w", s.Name, err)
	}
	s = cloneService(s)
	for i, in := range s.Instances {
		if in.Internal && !c.Admin {
			return Service{}, fmt.Errorf("registering service %s: instance %d is internal, which only an admin may register: %w", s.Name, i, ErrForbidden)
		}
	}
	var ps problems
	normalizeService(&s, &ps)
	for i, in := range s.Instances {
		r.checkInstanceEndpoint(&ps, fmt.Sprintf("/instances/%d/endpoint", i), in)
	}
	if err := ps.err(); err != nil {
		return Service{}, err
	}
	for i := range s.Instances {
		if s.Instances[i].ID == "" {
			s.Instances[i].ID = r.newID()
		}
	}
	now := r.clock()
	who := actor(c)
	err := r.update(ctx, s.Name, func(st *State, ch *Change) error {
		def := s
		def.Instances = nil
		ex := st.service(s.Version)
		switch {
		case ex == nil:
			def.RegisteredAt, def.UpdatedAt = now, now
			ch.PutServices = append(ch.PutServices, def)
			d := cloneService(def)
			ch.Events = append(ch.Events, Event{Type: EventServiceRegistered, At: now, Actor: who, Service: s.Name, Version: s.Version, Definition: &d})
			st.Services = append(st.Services, def)
			ex = &st.Services[len(st.Services)-1]
		case !sameDefinition(*ex, def):
			def.RegisteredAt, def.UpdatedAt = ex.RegisteredAt, now
			ch.PutServices = append(ch.PutServices, def)
			d := cloneService(def)
			ch.Events = append(ch.Events, Event{Type: EventServiceUpdated, At: now, Actor: who, Service: s.Name, Version: s.Version, Definition: &d})
			if ex.HealthCheck != nil && def.HealthCheck == nil {
				// Its endpoints live by their heartbeats from now on: each
				// gets a full TTL, and those the check held back are healthy.
				for _, in := range ex.Instances {
					if in.Endpoint == "" || in.Status == StatusDraining {
						continue
					}
					from := in.Status
					in.HeartbeatAt, in.CheckPasses, in.CheckFailures = now, 0, 0
					if from != StatusHealthy && in.EjectedUntil.IsZero() {
						in.Status, in.StatusReason = StatusHealthy, ReasonHealthCheckRemove
						ch.Events = append(ch.Events, statusEvent(EventInstanceHealthChanged, now, who, in, from))
					}
					ch.PutInstances = append(ch.PutInstances, in)
					putInState(st, in)
				}
			}
			instances := ex.Instances
			*ex = def
			ex.Instances = instances
		}
		for _, in := range s.Instances {
			if err := r.upsertInstance(st, ch, *ex, in, now, who); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Service{}, fmt.Errorf("registering service %s %s: %w", s.Name, s.Version, err)
	}
	svcs, err := r.List(ctx, ListFilter{Name: s.Name})
	if err != nil {
		return Service{}, fmt.Errorf("registering service %s %s: %w", s.Name, s.Version, err)
	}
	for _, got := range svcs {
		if got.Version == s.Version {
			return got, nil
		}
	}
	return Service{}, fmt.Errorf("registering service %s %s: deregistered meanwhile: %w", s.Name, s.Version, ErrNotFound)
}

// sameDefinition reports whether two versions are defined alike, times
// and instances aside.
func sameDefinition(a, b Service) bool {
	a.Instances, b.Instances = nil, nil
	a.RegisteredAt, a.UpdatedAt, b.RegisteredAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func (r *Registry) checkInstanceEndpoint(ps *problems, at string, in Instance) {
	if r.checkEndpoint == nil || in.Endpoint == "" || slices.ContainsFunc(*ps, func(p Problem) bool { return p.Pointer == at }) {
		return
	}
	if err := r.checkEndpoint(in.Endpoint, in.Internal); err != nil {
		ps.add(at, "%s", err.Error())
	}
}

// upsertInstance adds to ch the registration of in, an instance of svc
// (as it is after the change), and applies it to st.
func (r *Registry) upsertInstance(st *State, ch *Change, svc Service, in Instance, now time.Time, who string) error {
	exSvc, ex := st.instance(in.ID)
	if ex != nil && exSvc.Version != in.Version {
		return fmt.Errorf("instance %s is registered for version %s, not %s; deregister it first: %w", in.ID, exSvc.Version, in.Version, ErrConflict)
	}
	in.Service = svc.Name
	var evs []Event
	if ex == nil || ex.Status == StatusDraining || ex.Endpoint != in.Endpoint || ex.FunctionARN != in.FunctionARN {
		// A new instance, or one that starts over: its process is new.
		in.Status, in.StatusReason = initialStatus(svc, in)
		in.RegisteredAt, in.HeartbeatAt = now, now
		in.CheckPasses, in.CheckFailures, in.CheckedAt, in.EjectedUntil = 0, 0, time.Time{}, time.Time{}
		state := cloneInstance(in)
		evs = append(evs, Event{Type: EventInstanceRegistered, At: now, Actor: who, Service: in.Service, Version: in.Version, Instance: in.ID, To: in.Status, Reason: in.StatusReason, State: &state})
	} else {
		// The same instance registering again: its settings change, its
		// health goes on, and the registration counts as a heartbeat.
		upd := *ex
		upd.Weight, upd.Zone, upd.Internal, upd.Metadata, upd.TTLSeconds = in.Weight, in.Zone, in.Internal, in.Metadata, in.TTLSeconds
		evs = heartbeat(svc, &upd, now, who)
		if upd.Weight != ex.Weight || upd.Zone != ex.Zone || upd.Internal != ex.Internal || upd.TTLSeconds != ex.TTLSeconds || !maps.Equal(upd.Metadata, ex.Metadata) {
			state := cloneInstance(upd)
			evs = append(evs, Event{Type: EventInstanceRegistered, At: now, Actor: who, Service: upd.Service, Version: upd.Version, Instance: upd.ID, To: upd.Status, Reason: upd.StatusReason, State: &state})
		}
		in = upd
	}
	ch.PutInstances = append(ch.PutInstances, in)
	ch.Events = append(ch.Events, evs...)
	putInState(st, in)
	return nil
}

// putInState replaces or adds in in its version of st.
func putInState(st *State, in Instance) {
	s := st.service(in.Version)
	if s == nil {
		return
	}
	if k := slices.IndexFunc(s.Instances, func(x Instance) bool { return x.ID == in.ID }); k >= 0 {
		s.Instances[k] = in
		return
	}
	s.Instances = append(s.Instances, in)
}

// checked reports whether the active health check governs in: its
// service has one and it has an endpoint to check.
func checked(svc Service, in Instance) bool { return svc.HealthCheck != nil && in.Endpoint != "" }

// heartbeatKept reports whether in is alive only while it heartbeats: an
// endpoint no active check watches. A Lambda function's availability is
// AWS's, and failed calls eject it.
func heartbeatKept(svc Service, in Instance) bool { return in.Endpoint != "" && svc.HealthCheck == nil }

func initialStatus(svc Service, in Instance) (Status, string) {
	if checked(svc, in) {
		return StatusStarting, ReasonAwaitingCheck
	}
	return StatusHealthy, ReasonRegistered
}

func ttl(in Instance) time.Duration {
	s := in.TTLSeconds
	if s <= 0 {
		s = DefaultTTLSeconds
	}
	return time.Duration(s) * time.Second
}

// expired reports whether in, kept alive by heartbeats, missed them.
func expired(svc Service, in Instance, now time.Time) bool {
	return heartbeatKept(svc, in) && now.Sub(in.HeartbeatAt) > ttl(in)
}

// ejectionEnded reports whether the ejection of in, which no active
// check watches, has run its time.
func ejectionEnded(svc Service, in Instance, now time.Time) bool {
	return !checked(svc, in) && !in.EjectedUntil.IsZero() && !now.Before(in.EjectedUntil)
}

// Effective returns in, an instance of svc as stored, with the status a
// reader sees at now: a missed heartbeat reads as unhealthy ("heartbeat
// expired") and an ejection without an active check that has run its time
// as healthy, before the checker's sweep writes them. List applies it; a
// router that keeps what List returned for a while applies it again as
// time passes.
func Effective(svc Service, in Instance, now time.Time) Instance {
	return effective(svc, in, now)
}

func effective(svc Service, in Instance, now time.Time) Instance {
	switch {
	case in.Status == StatusDraining:
	case expired(svc, in, now):
		in.Status, in.StatusReason = StatusUnhealthy, ReasonHeartbeatExpired
	case in.Status == StatusUnhealthy && ejectionEnded(svc, in, now):
		in.Status, in.StatusReason = StatusHealthy, ReasonEjectionEnded
	}
	return in
}

func statusEvent(typ EventType, now time.Time, who string, in Instance, from Status) Event {
	return Event{Type: typ, At: now, Actor: who, Service: in.Service, Version: in.Version, Instance: in.ID, From: from, To: in.Status, Reason: in.StatusReason}
}

// heartbeat refreshes in's heartbeat and returns the events of what that
// changes: an expiry not recorded yet is recorded, and an instance kept
// alive by heartbeats, or ejected without a check, whose time has come is
// healthy again. A draining instance stays draining.
func heartbeat(svc Service, in *Instance, now time.Time, who string) []Event {
	var evs []Event
	if in.Status != StatusDraining {
		if expired(svc, *in, now) && in.StatusReason != ReasonHeartbeatExpired {
			evs = append(evs, recordExpiry(in, now, ActorRegistry))
		}
		switch {
		case heartbeatKept(svc, *in) && in.Status == StatusUnhealthy && in.StatusReason == ReasonHeartbeatExpired:
			in.Status, in.StatusReason = StatusHealthy, ReasonHeartbeatResumed
			evs = append(evs, statusEvent(EventInstanceHealthChanged, now, who, *in, StatusUnhealthy))
		case in.Status == StatusUnhealthy && ejectionEnded(svc, *in, now):
			in.Status, in.StatusReason, in.EjectedUntil = StatusHealthy, ReasonEjectionEnded, time.Time{}
			evs = append(evs, statusEvent(EventInstanceHealthChanged, now, who, *in, StatusUnhealthy))
		}
	}
	in.HeartbeatAt = now
	return evs
}

// recordExpiry marks in unhealthy for its missed heartbeats; the ejection
// it may have had ends with it.
func recordExpiry(in *Instance, now time.Time, who string) Event {
	from := in.Status
	in.Status, in.StatusReason, in.EjectedUntil = StatusUnhealthy, ReasonHeartbeatExpired, time.Time{}
	return statusEvent(EventInstanceHeartbeatExpired, now, who, *in, from)
}

// RegisterInstance registers an instance of a registered service version
// (in.Service, in.Version), or registers it again: an instance registered
// again with the same endpoint or function keeps its status and health
// counts and counts as a heartbeat; one that was draining, or that moved
// to another endpoint or function, starts over as a new one (starting
// when its service has a health check, healthy otherwise). An empty ID is
// filled in. Errors: ErrForbidden, *ValidationError, ErrNotFound when the
// version is not registered, ErrConflict when the id is registered for
// another version, and the store's.
func (r *Registry) RegisterInstance(ctx context.Context, c Caller, in Instance) (Instance, error) {
	if err := authorize(c, in.Service); err != nil {
		return Instance{}, fmt.Errorf("registering an instance of %s: %w", in.Service, err)
	}
	if in.Internal && !c.Admin {
		return Instance{}, fmt.Errorf("registering an instance of %s: an internal instance may be registered only by an admin: %w", in.Service, ErrForbidden)
	}
	in = cloneInstance(in)
	var ps problems
	if !nameRE.MatchString(in.Service) {
		ps.add("/service", "must be lowercase letters, digits and hyphens, start with a letter and have at most %d characters", MaxNameLength)
	}
	if v, err := semver.Normalize(in.Version); err != nil {
		ps.add("/version", "%s", err.Error())
	} else {
		in.Version = v
	}
	normalizeInstance(&in, "", &ps)
	r.checkInstanceEndpoint(&ps, "/endpoint", in)
	if err := ps.err(); err != nil {
		return Instance{}, err
	}
	if in.ID == "" {
		in.ID = r.newID()
	}
	now := r.clock()
	var out Instance
	err := r.update(ctx, in.Service, func(st *State, ch *Change) error {
		svc := st.service(in.Version)
		if svc == nil {
			return fmt.Errorf("version %s is not registered: %w", in.Version, ErrNotFound)
		}
		if err := r.upsertInstance(st, ch, *svc, in, now, actor(c)); err != nil {
			return err
		}
		out = effective(*svc, ch.PutInstances[len(ch.PutInstances)-1], now)
		return nil
	})
	if err != nil {
		return Instance{}, fmt.Errorf("registering instance %s of %s %s: %w", in.ID, in.Service, in.Version, err)
	}
	return out, nil
}

// changeInstance runs fn on a copy of an instance of the service name
// and saves the copy with fn's events when fn reports a change. It
// returns the instance as saved, its status as List reads it.
func (r *Registry) changeInstance(ctx context.Context, name, id string, fn func(svc Service, in *Instance, now time.Time) (bool, []Event)) (Instance, error) {
	var out Instance
	err := r.update(ctx, name, func(st *State, ch *Change) error {
		svc, ex := st.instance(id)
		if ex == nil {
			return fmt.Errorf("no instance %s: %w", id, ErrNotFound)
		}
		now := r.clock()
		in := cloneInstance(*ex)
		changed, evs := fn(*svc, &in, now)
		if changed {
			ch.PutInstances = append(ch.PutInstances, in)
			ch.Events = append(ch.Events, evs...)
		}
		out = effective(*svc, in, now)
		return nil
	})
	return out, err
}

// Heartbeat keeps an instance alive: it refreshes its heartbeat, and an
// instance that missed its heartbeats is healthy again. A draining
// instance stays draining. Errors: ErrForbidden, ErrNotFound, and the
// store's.
func (r *Registry) Heartbeat(ctx context.Context, c Caller, service, instanceID string) (Instance, error) {
	if err := authorize(c, service); err != nil {
		return Instance{}, fmt.Errorf("heartbeating instance %s of %s: %w", instanceID, service, err)
	}
	who := actor(c)
	in, err := r.changeInstance(ctx, service, instanceID, func(svc Service, in *Instance, now time.Time) (bool, []Event) {
		return true, heartbeat(svc, in, now, who)
	})
	if err != nil {
		return Instance{}, fmt.Errorf("heartbeating instance %s of %s: %w", instanceID, service, err)
	}
	return in, nil
}

// Drain marks an instance draining: it takes no new calls, and stays
// draining through heartbeats and checks until it is deregistered (or
// registered again). Draining a draining instance changes nothing.
// Errors: ErrForbidden, ErrNotFound, and the store's.
func (r *Registry) Drain(ctx context.Context, c Caller, service, instanceID string) (Instance, error) {
	if err := authorize(c, service); err != nil {
		return Instance{}, fmt.Errorf("draining instance %s of %s: %w", instanceID, service, err)
	}
	who := actor(c)
	in, err := r.changeInstance(ctx, service, instanceID, func(svc Service, in *Instance, now time.Time) (bool, []Event) {
		if in.Status == StatusDraining {
			return false, nil
		}
		from := effective(svc, *in, now).Status
		in.Status, in.StatusReason = StatusDraining, ReasonDraining
		return true, []Event{statusEvent(EventInstanceDraining, now, who, *in, from)}
	})
	if err != nil {
		return Instance{}, fmt.Errorf("draining instance %s of %s: %w", instanceID, service, err)
	}
	return in, nil
}

// DeregisterInstance removes an instance. Errors: ErrForbidden,
// ErrNotFound, and the store's.
func (r *Registry) DeregisterInstance(ctx context.Context, c Caller, service, instanceID string) error {
	if err := authorize(c, service); err != nil {
		return fmt.Errorf("deregistering instance %s of %s: %w", instanceID, service, err)
	}
	err := r.update(ctx, service, func(st *State, ch *Change) error {
		svc, ex := st.instance(instanceID)
		if ex == nil {
			return fmt.Errorf("no instance %s: %w", instanceID, ErrNotFound)
		}
		ch.DeleteInstances = append(ch.DeleteInstances, instanceID)
		ch.Events = append(ch.Events, Event{Type: EventInstanceDeregistered, At: r.clock(), Actor: actor(c), Service: service, Version: svc.Version, Instance: instanceID, From: ex.Status})
		return nil
	})
	if err != nil {
		return fmt.Errorf("deregistering instance %s of %s: %w", instanceID, service, err)
	}
	return nil
}

// DeregisterService removes a version of a service with its instances;
// version "" removes every version. Errors: ErrForbidden,
// *ValidationError for a version that is not one, ErrNotFound when
// nothing is registered, and the store's.
func (r *Registry) DeregisterService(ctx context.Context, c Caller, name, version string) error {
	if err := authorize(c, name); err != nil {
		return fmt.Errorf("deregistering service %s: %w", name, err)
	}
	if version != "" {
		v, err := semver.Normalize(version)
		if err != nil {
			return &ValidationError{Problems: []Problem{{Pointer: "/version", Detail: err.Error()}}}
		}
		version = v
	}
	err := r.update(ctx, name, func(st *State, ch *Change) error {
		now := r.clock()
		for _, s := range st.Services {
			if version == "" || s.Version == version {
				ch.DeleteServices = append(ch.DeleteServices, s.Version)
				ch.Events = append(ch.Events, Event{Type: EventServiceDeregistered, At: now, Actor: actor(c), Service: name, Version: s.Version})
			}
		}
		if len(ch.DeleteServices) == 0 {
			if version == "" {
				return ErrNotFound
			}
			return fmt.Errorf("version %s: %w", version, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deregistering service %s: %w", name, err)
	}
	return nil
}

// List returns the service versions f selects, sorted by name and then
// by version (oldest first), each with its instances (sorted by id),
// their statuses as they are now: an instance that missed its heartbeats
// reads as unhealthy ("heartbeat expired") even before the checker
// records it. It returns the store's errors.
func (r *Registry) List(ctx context.Context, f ListFilter) ([]Service, error) {
	svcs, err := r.store.List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	now := r.clock()
	for i := range svcs {
		for k := range svcs[i].Instances {
			svcs[i].Instances[k] = effective(svcs[i], svcs[i].Instances[k], now)
		}
	}
	return svcs, nil
}

// Get returns every version of a service as List reads them, or
// ErrNotFound.
func (r *Registry) Get(ctx context.Context, name string) ([]Service, error) {
	svcs, err := r.List(ctx, ListFilter{Name: name})
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return nil, fmt.Errorf("reading service %s: %w", name, ErrNotFound)
	}
	return svcs, nil
}

// MaxHistory bounds one History read.
const MaxHistory = 1000

// History returns up to limit events of a service's history after the
// sequence number after (0 for the first), oldest first; limit 0 means
// 100, and more than MaxHistory means MaxHistory. Replay rebuilds the
// service's statuses from them. A service with no history reads as empty.
func (r *Registry) History(ctx context.Context, name string, after int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxHistory)
	evs, err := r.store.Events(ctx, name, max(after, 0), limit)
	if err != nil {
		return nil, fmt.Errorf("reading the history of service %s: %w", name, err)
	}
	return evs, nil
}

// Eject takes an instance out after failed calls (passive ejection): it
// is unhealthy until its active check passes again or, when nothing
// checks it, until d has passed (0 means DefaultEjection). Ejecting an
// ejected instance extends its ejection without another event; a
// draining instance stays draining. It returns the instance as List reads
// it. An instance that missed its heartbeats is not ejected: it is
// unhealthy until it heartbeats again (the expiry is recorded). Errors:
// ErrNotFound, and the store's.
func (r *Registry) Eject(ctx context.Context, service, instanceID, reason string, d time.Duration) (Instance, error) {
	if d <= 0 {
		d = DefaultEjection
	}
	reason = textgate.Clean(strings.TrimSpace(reason))
	if len(reason) > 512 {
		reason = strings.ToValidUTF8(reason[:512], "")
	}
	if reason == "" {
		reason = "failed calls"
	}
	in, err := r.changeInstance(ctx, service, instanceID, func(svc Service, in *Instance, now time.Time) (bool, []Event) {
		if in.Status == StatusDraining {
			return false, nil
		}
		until := now.Add(d)
		eff := effective(svc, *in, now)
		if eff.Status == StatusUnhealthy && !in.EjectedUntil.IsZero() {
			if until.After(in.EjectedUntil) {
				in.EjectedUntil = until
				return true, nil
			}
			return false, nil
		}
		if expired(svc, *in, now) {
			// It takes no calls already, until it heartbeats again.
			if in.StatusReason == ReasonHeartbeatExpired {
				return false, nil
			}
			return true, []Event{recordExpiry(in, now, ActorRegistry)}
		}
		in.Status, in.StatusReason, in.EjectedUntil = StatusUnhealthy, reasonEjectedPrefix+reason, until
		in.CheckPasses, in.CheckFailures = 0, 0
		ev := statusEvent(EventInstanceEjected, now, ActorEjection, *in, eff.Status)
		ev.Until = until
		return true, []Event{ev}
	})
	if err != nil {
		return Instance{}, fmt.Errorf("ejecting instance %s of %s: %w", instanceID, service, err)
	}
	return in, nil
}

// RecordCheck records the result of an active health check of an
// instance and moves its status at its service's thresholds: starting
// becomes healthy after HealthyThreshold passes in a row, healthy (or
// starting) unhealthy after UnhealthyThreshold failures in a row, and
// unhealthy healthy again after HealthyThreshold passes, or after one
// pass when it was ejected. A draining instance, one no active check
// governs, and one that moved to another endpoint since the check began
// are left as they are. It returns the instance as List reads it. Errors:
// ErrNotFound (deregistered meanwhile), and the store's.
func (r *Registry) RecordCheck(ctx context.Context, res CheckResult) (Instance, error) {
	in, err := r.changeInstance(ctx, res.Service, res.Instance, func(svc Service, in *Instance, now time.Time) (bool, []Event) {
		return applyCheck(svc, in, res, now)
	})
	if err != nil {
		return Instance{}, fmt.Errorf("recording a health check of instance %s of %s: %w", res.Instance, res.Service, err)
	}
	return in, nil
}

// RecordChecks records many results as RecordCheck does, in one change
// per service, so that the checks of one round never race each other;
// results of instances deregistered meanwhile are dropped. It returns the
// store's errors, joined.
func (r *Registry) RecordChecks(ctx context.Context, results []CheckResult) error {
	var names []string
	byName := map[string][]CheckResult{}
	for _, res := range results {
		if _, ok := byName[res.Service]; !ok {
			names = append(names, res.Service)
		}
		byName[res.Service] = append(byName[res.Service], res)
	}
	var errs []error
	for _, name := range names {
		err := r.update(ctx, name, func(st *State, ch *Change) error {
			now := r.clock()
			for _, res := range byName[name] {
				svc, ex := st.instance(res.Instance)
				if ex == nil {
					continue
				}
				in := cloneInstance(*ex)
				if changed, evs := applyCheck(*svc, &in, res, now); changed {
					ch.PutInstances = append(ch.PutInstances, in)
					ch.Events = append(ch.Events, evs...)
					putInState(st, in)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("recording the health checks of %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// applyCheck applies a check's result to in, an instance of svc.
func applyCheck(svc Service, in *Instance, res CheckResult, now time.Time) (bool, []Event) {
	if in.Status == StatusDraining || !checked(svc, *in) || (res.Endpoint != "" && res.Endpoint != in.Endpoint) {
		return false, nil
	}
	hc := *svc.HealthCheck
	in.CheckedAt = res.At.UTC().Truncate(time.Microsecond)
	if res.Passed {
		in.CheckPasses, in.CheckFailures = in.CheckPasses+1, 0
	} else {
		in.CheckPasses, in.CheckFailures = 0, in.CheckFailures+1
	}
	res.Passes, res.Failures = in.CheckPasses, in.CheckFailures
	from := in.Status
	switch {
	case res.Passed && from == StatusUnhealthy && !in.EjectedUntil.IsZero():
		in.Status, in.StatusReason, in.EjectedUntil = StatusHealthy, ReasonCheckPassed+"; the ejection ends", time.Time{}
	case res.Passed && from != StatusHealthy && in.CheckPasses >= max(hc.HealthyThreshold, 1):
		in.Status, in.StatusReason = StatusHealthy, ReasonCheckPassed
	case !res.Passed && from != StatusUnhealthy && in.CheckFailures >= max(hc.UnhealthyThreshold, 1):
		in.Status, in.StatusReason = StatusUnhealthy, ReasonCheckFailed
		if res.Error != "" {
			in.StatusReason += ": " + res.Error
		}
	default:
		return true, nil
	}
	ev := statusEvent(EventInstanceHealthChanged, now, ActorChecker, *in, from)
	ev.Check = &res
	return true, []Event{ev}
}

// Sweep records what time alone changed: an instance kept alive by
// heartbeats that missed them becomes unhealthy (one
// InstanceHeartbeatExpired event), and an ejection without an active
// check that has run its time ends (InstanceHealthChanged). Reads show
// both before Sweep writes them; Sweep makes the history say so, once.
// The checker calls it on each round. It returns the store's errors.
func (r *Registry) Sweep(ctx context.Context) error {
	svcs, err := r.store.List(ctx, ListFilter{})
	if err != nil {
		return fmt.Errorf("sweeping the registry: %w", err)
	}
	now := r.clock()
	var names []string
	for _, s := range svcs {
		for _, in := range s.Instances {
			if sweepable(s, in, now) && !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	var errs []error
	for _, name := range names {
		err := r.update(ctx, name, func(st *State, ch *Change) error {
			now := r.clock()
			for _, s := range st.Services {
				for _, in := range s.Instances {
					if !sweepable(s, in, now) {
						continue
					}
					var ev Event
					if expired(s, in, now) {
						ev = recordExpiry(&in, now, ActorRegistry)
					} else {
						from := in.Status
						in.Status, in.StatusReason, in.EjectedUntil = StatusHealthy, ReasonEjectionEnded, time.Time{}
						ev = statusEvent(EventInstanceHealthChanged, now, ActorRegistry, in, from)
					}
					ch.PutInstances = append(ch.PutInstances, in)
					ch.Events = append(ch.Events, ev)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("sweeping service %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// sweepable reports whether Sweep has something to record of in.
func sweepable(s Service, in Instance, now time.Time) bool {
	if in.Status == StatusDraining {
		return false
	}
	if expired(s, in, now) {
		return in.StatusReason != ReasonHeartbeatExpired
	}
	return in.Status == StatusUnhealthy && ejectionEnded(s, in, now)
}
