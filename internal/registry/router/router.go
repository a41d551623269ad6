// Package router picks where a service step's call goes: the service
// version, the operation and the instance, from the services a Source (the
// registry) lists, read into an index that is refreshed every second or on
// Invalidate.
//
// A step names a service, with an optional semantic version constraint
// (^1.2, ~1.4, >=1.2 <2, 1.x), or a capability. By name, the call goes to
// the highest version satisfying the constraint that has a healthy
// instance; its operations must then match the method and path (the
// operation whose template has the most literal segments wins), else
// ErrNoOperation. The version is chosen by the registry's health alone: when
// every healthy instance of that version has an open circuit the call fails
// with ErrCircuitOpen rather than going to an older version, whose contract
// may differ.
//
// By capability, every service offering it is a candidate at its highest
// version (satisfying the constraint, if any) that has a healthy instance
// and an operation matching the method and path. Calls spread over the
// candidates in proportion to their healthy instances (smooth weighted
// round robin over services, each weighing its count of healthy
// instances), so that load is even per instance whichever service serves
// it; then each service's own balancing picks the instance. Failover tries
// the rest of the chosen service's instances, then the other candidates,
// the largest first.
//
// Only instances whose status is healthy take calls: starting, unhealthy
// (failed checks, missed heartbeats, ejected) and draining instances take
// none. A service version's Balancing spreads calls over its healthy
// instances: round_robin (the default) in order of instance id;
// least_outstanding to the instance with the fewest calls in flight (the
// counters this router keeps between Next and the Pick's outcome), ties
// broken in round-robin order; weighted by smooth weighted round robin (as
// nginx does it: deterministic, and each instance's share of every
// sum-of-weights picks is exactly its weight).
//
// Each instance has a circuit breaker: FailureThreshold consecutive failed
// calls open it, and the instance gets no calls for CoolDown; then one call
// (the probe) goes through: its success closes the breaker, its failure
// opens it again. Every opening is reported to OnEjectFunc, which the
// wiring points at the registry's passive ejection, so that the other
// workers stop calling the instance too.
package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/semver"

	"github.com/aiflow/aiflow/internal/pathtemplate"
	"github.com/aiflow/aiflow/internal/registry"
)

// Source lists the registered services with their instances, each
// instance's Status the effective one; *registry.Registry is one. The
// router lists every service (a zero ListFilter) and indexes them itself.
type Source interface {
	List(ctx context.Context, f registry.ListFilter) ([]registry.Service, error)
}

// Defaults of Config.
const (
	DefaultRefresh          = time.Second
	DefaultMaxStale         = 30 * time.Second
	DefaultFailureThreshold = 5
	DefaultCoolDown         = 30 * time.Second
)

// Config configures New.
type Config struct {
	// Source lists the services. Required.
	Source Source
	// Refresh is how long a listing serves before the next call lists
	// again; 0 means DefaultRefresh.
	Refresh time.Duration
	// MaxStale is how long the last listing still serves while the source
	// fails; 0 means DefaultMaxStale. Past it, Route returns the source's
	// error.
	MaxStale time.Duration
	// FailureThreshold is how many consecutive failed calls open an
	// instance's circuit breaker; 0 means DefaultFailureThreshold.
	FailureThreshold int
	// CoolDown is how long an open breaker keeps calls away before a
	// probe, and how long an ejection asks the registry to keep the
	// instance out; 0 means DefaultCoolDown.
	CoolDown time.Duration
	// OnEjectFunc, if set, is called when a breaker opens, on the
	// goroutine that reported the failure, after the router's locks are
	// released. The wiring points it at registry.Eject.
	OnEjectFunc func(ctx context.Context, e Ejection)
	// OnBreakerFunc, if set, is called when a breaker opens, and when a
	// half-open one closes after its probe succeeded, on the goroutine that
	// reported the call's outcome, after the router's locks are released;
	// it must not block. Metrics count these changes.
	OnBreakerFunc func(c BreakerChange)
	// NowFunc is the clock of the refreshes and breakers; nil means
	// time.Now.
	NowFunc func() time.Time
	// Logger receives listings that failed or were skipped; nil discards.
	Logger *slog.Logger
}

// BreakerChange is an instance's breaker changing to State (Open or
// Closed; the turn to HalfOpen happens when a call claims the probe and is
// not reported).
type BreakerChange struct {
	Service    string
	Version    string
	InstanceID string
	State      State
}

// Ejection is an instance whose breaker opened: the registry should treat
// it as unhealthy For the cool-down, or until its health check passes.
type Ejection struct {
	Service    string
	Version    string
	InstanceID string
	Reason     string
	For        time.Duration
}

// Router routes service calls. It is safe for concurrent use.
type Router struct {
	cfg Config
	now func() time.Time
	log *slog.Logger

	// refresh serializes listings; mu guards the fields below it.
	refresh sync.Mutex
	mu      sync.Mutex
	snap    *snapshot
	// listedAt is when the source last answered, triedAt when it was
	// last asked, and lastErr its error then, served until the next try
	// once the last listing is older than MaxStale.
	listedAt    time.Time
	triedAt     time.Time
	lastErr     error
	invalidated bool
	// balancers and states outlive the listings: the balancing state of
	// each service version (name, version) and each instance's breaker
	// and in-flight count (name, version, id). A listing keeps those of
	// what it still lists.
	balancers map[string]*balancer
	states    map[string]*instState

	// capMu guards the offers' current weights.
	capMu sync.Mutex

	// constraints caches parsed version constraints (workflows name few).
	constraints  sync.Map
	nconstraints int
}

// maxConstraints bounds the constraints cache.
const maxConstraints = 1024

// New returns a Router; it lists nothing until the first Route. It
// returns an error when Source is nil.
func New(cfg Config) (*Router, error) {
	if cfg.Source == nil {
		return nil, errors.New("making the service router: Config.Source is required")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.MaxStale <= 0 {
		cfg.MaxStale = DefaultMaxStale
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = DefaultFailureThreshold
	}
	if cfg.CoolDown <= 0 {
		cfg.CoolDown = DefaultCoolDown
	}
	r := &Router{cfg: cfg, now: cfg.NowFunc, log: cfg.Logger,
		balancers: map[string]*balancer{}, states: map[string]*instState{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Invalidate makes the next Route list the services again, such as after
// a registration this process made.
func (r *Router) Invalidate() {
	r.mu.Lock()
	r.invalidated = true
	r.mu.Unlock()
}

// Breaker returns the state of an instance's circuit breaker, Closed for
// an instance the router has not seen.
func (r *Router) Breaker(service, version, instanceID string) State {
	r.mu.Lock()
	st := r.states[stateKey(service, version, instanceID)]
	r.mu.Unlock()
	if st == nil {
		return Closed
	}
	st.bal.mu.Lock()
	defer st.bal.mu.Unlock()
	return st.brk.current(r.now(), r.cfg.CoolDown)
}

// snapshot returns the index of the services, listing them again when the
// source was last asked Refresh ago or the index was invalidated. While
// the source fails, the last listing serves for MaxStale, its statuses
// moved on as time passes (registry.Effective: missed heartbeats, ended
// ejections).
func (r *Router) snapshot(ctx context.Context) (*snapshot, error) {
	if s, err, ok := r.cached(); ok {
		return s, err
	}
	r.refresh.Lock()
	defer r.refresh.Unlock()
	if s, err, ok := r.cached(); ok {
		return s, err // another caller listed meanwhile
	}
	r.mu.Lock()
	r.invalidated = false
	prev, listedAt := r.snap, r.listedAt
	r.mu.Unlock()
	listed, err := r.cfg.Source.List(ctx, registry.ListFilter{})
	now := r.now()
	if err != nil {
		if prev != nil && now.Sub(listedAt) < r.cfg.MaxStale {
			r.log.Warn("listing the services failed; routing on the last listing", "listed_at", listedAt, "error", err)
			s := r.index(cloneListing(prev.listed), now)
			r.mu.Lock()
			r.snap, r.triedAt, r.lastErr = s, now, nil
			r.mu.Unlock()
			return s, nil
		}
		e := &Error{Kind: ErrSource, Message: fmt.Sprintf("listing the registered services: %v", err), Err: err}
		r.mu.Lock()
		r.triedAt, r.lastErr = now, e
		r.mu.Unlock()
		return nil, e
	}
	s := r.index(listed, now)
	r.mu.Lock()
	r.snap, r.listedAt, r.triedAt, r.lastErr = s, now, now, nil
	r.mu.Unlock()
	return s, nil
}

// cached returns what the last try of the source left, if it may serve:
// the index, or the source's error.
func (r *Router) cached() (*snapshot, error, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.invalidated || r.triedAt.IsZero() || r.now().Sub(r.triedAt) >= r.cfg.Refresh {
		return nil, nil, false
	}
	if r.lastErr != nil {
		return nil, r.lastErr, true
	}
	return r.snap, nil, true
}

// cloneListing copies what index changes and points into: the services
// and their instances.
func cloneListing(listed []registry.Service) []registry.Service {
	out := slices.Clone(listed)
	for i := range out {
		out[i].Instances = slices.Clone(out[i].Instances)
	}
	return out
}

// snapshot is one listing, indexed.
type snapshot struct {
	// listed is the listing the index points into.
	listed []registry.Service
	// byName holds each name's versions, the highest first.
	byName map[string][]*version
	// byCapability holds, for each capability, the names offering it
	// (sorted) and each name's versions that offer it, the highest first.
	byCapability map[string]*offer
}

type offer struct {
	names    []string
	versions [][]*version
	// current is the smooth weighted round robin's current weight of
	// each name, carried from listing to listing; guarded by capMu.
	current []int
}

// version is one service version of a listing.
type version struct {
	svc *registry.Service
	ver *semver.Version
	// ops are the operations, the most literal segments first.
	ops []operation
	// healthy are the instances taking calls, by id.
	healthy []*instance
	all     []*instance
	bal     *balancer
}

type operation struct {
	method string
	tpl    *pathtemplate.Template
	op     *registry.Operation
}

type instance struct {
	in     *registry.Instance
	st     *instState
	weight int
}

// instState is what the router keeps of an instance across listings,
// guarded by bal.mu.
type instState struct {
	bal      *balancer
	brk      breaker
	current  int // smooth weighted round robin
	inflight int
}

// index builds the snapshot of a listing, each instance's status as it
// reads at now, keeping the balancing state and breakers of the service
// versions and instances it still lists. It changes listed.
func (r *Router) index(listed []registry.Service, now time.Time) *snapshot {
	s := &snapshot{listed: listed, byName: map[string][]*version{}, byCapability: map[string]*offer{}}
	r.mu.Lock()
	oldBal, oldStates := r.balancers, r.states
	r.mu.Unlock()
	bals := make(map[string]*balancer, len(oldBal))
	states := make(map[string]*instState, len(oldStates))
	for i := range listed {
		svc := &listed[i]
		ver, err := semver.Parse(svc.Version)
		if err != nil {
			r.log.Warn("a registered service's version is not a semantic version; it is not routed to", "service", svc.Name, "version", svc.Version)
			continue
		}
		v := &version{svc: svc, ver: ver}
		bkey := svc.Name + "\x00" + ver.String()
		v.bal = oldBal[bkey]
		if v.bal == nil {
			v.bal = &balancer{policy: svc.Balancing}
		}
		v.bal.mu.Lock()
		v.bal.policy = svc.Balancing
		v.bal.mu.Unlock()
		bals[bkey] = v.bal
		for j := range svc.Operations {
			op := &svc.Operations[j]
			tpl, err := pathtemplate.Parse(op.Path)
			if err != nil {
				r.log.Warn("an operation's path template does not parse; it is not routed to", "service", svc.Name, "version", svc.Version, "operation", op.Name, "error", err)
				continue
			}
			v.ops = append(v.ops, operation{method: strings.ToUpper(op.Method), tpl: tpl, op: op})
		}
		slices.SortStableFunc(v.ops, func(a, b operation) int { return b.tpl.Literals() - a.tpl.Literals() })
		for j := range svc.Instances {
			in := &svc.Instances[j]
			*in = registry.Effective(*svc, *in, now)
			key := stateKey(svc.Name, ver.String(), in.ID)
			st := oldStates[key]
			if st == nil || st.bal != v.bal {
				st = &instState{bal: v.bal}
			}
			states[key] = st
			w := in.Weight
			if w <= 0 {
				w = 100
			}
			ins := &instance{in: in, st: st, weight: w}
			v.all = append(v.all, ins)
			if in.Status == registry.StatusHealthy {
				v.healthy = append(v.healthy, ins)
			}
		}
		slices.SortFunc(v.healthy, func(a, b *instance) int { return strings.Compare(a.in.ID, b.in.ID) })
		s.byName[svc.Name] = append(s.byName[svc.Name], v)
	}
	capNames := map[string][]string{}
	for name, vs := range s.byName {
		slices.SortFunc(vs, func(a, b *version) int { return b.ver.Compare(a.ver) })
		seen := map[string]bool{}
		for _, v := range vs {
			for _, c := range v.svc.Capabilities {
				if !seen[c] {
					seen[c] = true
					capNames[c] = append(capNames[c], name)
				}
			}
		}
	}
	r.mu.Lock()
	prev := r.snap
	r.mu.Unlock()
	r.capMu.Lock()
	defer r.capMu.Unlock()
	for c, names := range capNames {
		slices.Sort(names)
		o := &offer{names: names, current: make([]int, len(names))}
		var old *offer
		if prev != nil {
			old = prev.byCapability[c]
		}
		for i, name := range names {
			o.versions = append(o.versions, slices.DeleteFunc(slices.Clone(s.byName[name]), func(v *version) bool { return !slices.Contains(v.svc.Capabilities, c) }))
			if old != nil {
				if j, found := slices.BinarySearch(old.names, name); found {
					o.current[i] = old.current[j]
				}
			}
		}
		s.byCapability[c] = o
	}
	r.mu.Lock()
	r.balancers, r.states = bals, states
	r.mu.Unlock()
	return s
}

func stateKey(service, version, id string) string {
	return service + "\x00" + version + "\x00" + id
}

// Request is what a step asks to call.
type Request struct {
	// Service names the service; or Capability names what it must offer.
	Service    string
	Capability string
	// Version is a semantic version constraint (^1.2, ~1.4, >=1.2 <2);
	// empty means any version.
	Version string
	// Method and Path are the call's (the path as the step rendered it,
	// still escaped; a query string is ignored for matching).
	Method string
	Path   string
}

// candidate is a service version that can take the call, with the
// operation it matched.
type candidate struct {
	v      *version
	op     *registry.Operation
	params map[string]string
	// offer is the service's index in its capability's offer.
	offer int
}

// Route chooses the service version and operation of req and returns the
// route whose Next picks the instances, the balancer's choice first. Its
// errors are *Error: ErrBadRequest (neither or both of service and
// capability, or a constraint that does not parse), ErrNotFound (no such
// service, no service offering the capability, no version satisfying the
// constraint), ErrUnavailable (no healthy instance), ErrNoOperation (the
// method and path match no operation) and ErrSource (the services could
// not be listed).
func (r *Router) Route(ctx context.Context, req Request) (*Route, error) {
	if (req.Service == "") == (req.Capability == "") {
		return nil, errorf(ErrBadRequest, "name a service or a capability (got service %q, capability %q)", req.Service, req.Capability)
	}
	constraint, err := r.constraint(req.Version)
	if err != nil {
		return nil, err
	}
	s, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(req.Method)
	if req.Service != "" {
		c, err := r.byName(s, req, constraint, method)
		if err != nil {
			return nil, err
		}
		return &Route{r: r, cands: []candidate{c}}, nil
	}
	cands, err := r.byCapability(s, req, constraint, method)
	if err != nil {
		return nil, err
	}
	return &Route{r: r, cands: cands}, nil
}

// constraint parses a version constraint, once.
func (r *Router) constraint(text string) (*semver.Constraint, error) {
	if text == "" {
		return nil, nil
	}
	if c, ok := r.constraints.Load(text); ok {
		return c.(*semver.Constraint), nil
	}
	c, err := semver.ParseConstraint(text)
	if err != nil {
		return nil, errorf(ErrBadRequest, "%v", err)
	}
	r.mu.Lock()
	if r.nconstraints < maxConstraints {
		r.nconstraints++
		r.constraints.Store(text, c)
	}
	r.mu.Unlock()
	return c, nil
}

// chooseVersion is the highest version of vs satisfying constraint that
// has a healthy instance; satisfied reports whether any version satisfied
// it. Without a constraint a release is preferred to a pre-release, which
// serves only when no release has a healthy instance.
func chooseVersion(vs []*version, constraint *semver.Constraint) (chosen *version, satisfied bool) {
	var pre *version
	for _, v := range vs {
		if constraint != nil && !constraint.Check(v.ver) {
			continue
		}
		satisfied = true
		if len(v.healthy) == 0 {
			continue
		}
		if constraint == nil && v.ver.Prerelease() != "" {
			if pre == nil {
				pre = v
			}
			continue
		}
		return v, true
	}
	return pre, satisfied
}

func (r *Router) byName(s *snapshot, req Request, constraint *semver.Constraint, method string) (candidate, error) {
	vs := s.byName[req.Service]
	if len(vs) == 0 {
		return candidate{}, errorf(ErrNotFound, "no service named %q is registered", req.Service)
	}
	v, satisfied := chooseVersion(vs, constraint)
	switch {
	case !satisfied:
		return candidate{}, errorf(ErrNotFound, "no version of service %q satisfies %q (registered: %s)", req.Service, req.Version, versionList(vs))
	case v == nil:
		return candidate{}, errorf(ErrUnavailable, "service %q has no healthy instance%s (%s)", req.Service, constraintText(req.Version), instanceList(vs, constraint))
	}
	op, params := v.match(method, req.Path)
	if op == nil {
		return candidate{}, noOperation(v, method, req.Path)
	}
	return candidate{v: v, op: op, params: params}, nil
}

func (r *Router) byCapability(s *snapshot, req Request, constraint *semver.Constraint, method string) ([]candidate, error) {
	o := s.byCapability[req.Capability]
	if o == nil {
		return nil, errorf(ErrNotFound, "no registered service offers the capability %q", req.Capability)
	}
	var (
		cands        = make([]candidate, 0, len(o.names))
		anySatisfied bool
		nHealthy     int
		memo         matchMemo
	)
	for i := range o.names {
		v, satisfied := chooseVersion(o.versions[i], constraint)
		anySatisfied = anySatisfied || satisfied
		if v == nil {
			continue
		}
		nHealthy++
		if op, params := memo.match(v, method, req.Path); op != nil {
			cands = append(cands, candidate{v: v, op: op, params: params, offer: i})
		}
	}
	names := func() string { return strings.Join(o.names, ", ") }
	switch {
	case len(cands) > 0:
	case !anySatisfied:
		return nil, errorf(ErrNotFound, "no service offering the capability %q has a version satisfying %q (offered by: %s)", req.Capability, req.Version, names())
	case nHealthy == 0:
		return nil, errorf(ErrUnavailable, "no service offering the capability %q has a healthy instance%s (offered by: %s)", req.Capability, constraintText(req.Version), names())
	default:
		var healthy []*version
		for i := range o.names {
			if v, _ := chooseVersion(o.versions[i], constraint); v != nil {
				healthy = append(healthy, v)
			}
		}
		if len(healthy) == 1 {
			return nil, noOperation(healthy[0], method, req.Path)
		}
		var served []string
		for _, v := range healthy {
			served = append(served, v.svc.Name+" "+v.svc.Version)
		}
		return nil, errorf(ErrNoOperation, "no service offering the capability %q has an operation %s %s (healthy: %s)", req.Capability, method, req.Path, strings.Join(served, ", "))
	}
	if len(cands) > 1 {
		r.orderCandidates(o, cands)
	}
	return cands, nil
}

// matchMemo remembers the matches of one path against the templates
// already tried, so that services with the same operations (versions,
// replicas of an API) match the path once.
type matchMemo struct {
	tried []memoEntry
}

type memoEntry struct {
	tpl    string
	params map[string]string
	ok     bool
}

// match is v.match, remembered.
func (m *matchMemo) match(v *version, method, path string) (*registry.Operation, map[string]string) {
	for _, o := range v.ops {
		if o.method != method {
			continue
		}
		raw := o.tpl.String()
		var e *memoEntry
		for i := range m.tried {
			if m.tried[i].tpl == raw {
				e = &m.tried[i]
				break
			}
		}
		if e == nil {
			params, ok := o.tpl.Match(path)
			m.tried = append(m.tried, memoEntry{tpl: raw, params: params, ok: ok})
			e = &m.tried[len(m.tried)-1]
		}
		if e.ok {
			return o.op, e.params
		}
	}
	return nil, nil
}

// orderCandidates puts first the service the smooth weighted round robin
// over the candidates (each weighing its healthy instances) picks.
func (r *Router) orderCandidates(o *offer, cands []candidate) {
	r.capMu.Lock()
	total, best := 0, -1
	for i, c := range cands {
		w := len(c.v.healthy)
		o.current[c.offer] += w
		total += w
		if best < 0 || o.current[c.offer] > o.current[cands[best].offer] {
			best = i
		}
	}
	o.current[cands[best].offer] -= total
	r.capMu.Unlock()
	first := cands[best]
	copy(cands[1:best+1], cands[:best])
	cands[0] = first
}

// sortFailover orders the candidates after the first for failover: the
// most healthy instances first, then by name. Route sorts them only when
// a call fails over past the first service.
func sortFailover(cands []candidate) {
	slices.SortStableFunc(cands[1:], func(a, b candidate) int {
		return cmp.Or(len(b.v.healthy)-len(a.v.healthy), strings.Compare(a.v.svc.Name, b.v.svc.Name))
	})
}

// match finds the operation of method and path: of those that match, the
// one with the most literal segments (the first declared among equals).
func (v *version) match(method, path string) (*registry.Operation, map[string]string) {
	for _, o := range v.ops {
		if o.method != method {
			continue
		}
		if params, ok := o.tpl.Match(path); ok {
			return o.op, params
		}
	}
	return nil, nil
}

func noOperation(v *version, method, path string) error {
	var ops []string
	for _, o := range v.ops {
		ops = append(ops, o.method+" "+o.tpl.String())
	}
	has := "no operations"
	if len(ops) > 0 {
		has = strings.Join(ops, ", ")
	}
	return errorf(ErrNoOperation, "service %s %s has no operation %s %s (it has: %s)", v.svc.Name, v.svc.Version, method, path, has)
}

func versionList(vs []*version) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.svc.Version)
	}
	return strings.Join(out, ", ")
}

func constraintText(c string) string {
	if c == "" {
		return ""
	}
	return fmt.Sprintf(" in a version satisfying %q", c)
}

// instanceList says what the instances of the satisfying versions are
// doing, for an error: "1.2.0: a draining, b unhealthy".
func instanceList(vs []*version, constraint *semver.Constraint) string {
	var parts []string
	for _, v := range vs {
		if constraint != nil && !constraint.Check(v.ver) {
			continue
		}
		if len(v.all) == 0 {
			parts = append(parts, v.svc.Version+": no instances")
			continue
		}
		var ins []string
		for _, in := range v.all {
			ins = append(ins, in.in.ID+" "+string(in.in.Status))
		}
		parts = append(parts, v.svc.Version+": "+strings.Join(ins, ", "))
	}
	return strings.Join(parts, "; ")
}

var _ Source = (*registry.Registry)(nil)
