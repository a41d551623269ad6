// Package registrytest is the conformance suite of the registry's Store
// port: the same cases, run against every adapter (the memory store, the
// PostgreSQL store), through the registry's use cases and the port
// itself. It also gives tests a valid service to register.
package registrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/registry"
)

// T0 is the time the suite's clocks start at.
var T0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

// Admin is a caller that manages every service.
var Admin = registry.Caller{Subject: "user:ada", Admin: true}

// ServiceCaller returns a caller that may manage only the service name.
func ServiceCaller(name string) registry.Caller {
	return registry.Caller{Subject: "service:" + name, Service: name}
}

// Service returns a valid registration of name at version, with a health
// check and no instances: three operations with schemas, auth and
// metadata, the shape of the threat-intel example. Its schemas are compact,
// as the registry stores them.
func Service(name, version string) registry.Service {
	return registry.Service{
		Name:         name,
		Version:      version,
		Description:  "IP reputation, geolocation and CVE lookups",
		Capabilities: []string{"ip.reputation", "ip.geolocation", "cve.lookup"},
		Metadata:     map[string]string{"owner": "secops", "tier": "2"},
		Operations: []registry.Operation{
			{
				Name: "reputation", Method: "GET", Path: "/v1/ip/{ip}/reputation",
				ResponseSchema: json.RawMessage(`{"type":"object","required":["ip","score"],"properties":{"ip":{"type":"string"},"score":{"type":"integer","minimum":0,"maximum":100}}}`),
			},
			{Name: "geolocation", Method: "GET", Path: "/v1/ip/{ip}/geolocation"},
			{
				Name: "add_note", Method: "POST", Path: "/v1/incidents/{id}/notes", TimeoutSeconds: 5,
				RequestSchema: json.RawMessage(`{"type":"object","required":["text"],"properties":{"text":{"type":"string"}}}`),
			},
		},
		Auth:        &registry.Auth{Type: "header", Secret: "aiflow/threat-intel/api-key", Header: "X-Api-Key"},
		HealthCheck: &registry.HealthCheck{Path: "/healthz"},
	}
}

// Unchecked returns Service without a health check: its instances are
// kept alive by their heartbeats.
func Unchecked(name, version string) registry.Service {
	s := Service(name, version)
	s.HealthCheck = nil
	return s
}

// Endpoint returns an instance of name at version on a documentation
// address.
func Endpoint(name, version, id string) registry.Instance {
	return registry.Instance{ID: id, Service: name, Version: version, Endpoint: "https://198.51.100.7:8443/" + id, Zone: "eu-west-1a"}
}

// Bundle is what each case gets: a registry over a fresh store, on a
// clock the case moves.
type Bundle struct {
	Store    registry.Store
	Registry *registry.Registry
	Clock    *clocktest.Manual
}

// NewStoreFunc returns a store with nothing in it, for one case.
type NewStoreFunc func(t *testing.T) registry.Store

func setup(t *testing.T, newStore NewStoreFunc) *Bundle {
	t.Helper()
	s := newStore(t)
	clk := clocktest.NewManual(T0)
	n := 0
	var mu sync.Mutex
	r, err := registry.New(registry.Config{Store: s, NowFunc: clk.Now, NewIDFunc: func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("generated-%d", n)
	}})
	require.NoError(t, err)
	return &Bundle{Store: s, Registry: r, Clock: clk}
}

// Run runs every case of the suite against the stores newStore makes.
func Run(t *testing.T, newStore NewStoreFunc) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, setup(t, newStore))
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, b *Bundle)
}

var cases = []testCase{
	{"StoreRoundTrip", storeRoundTrip},
	{"StoreStale", storeStale},
	{"StoreRefusesAnInstanceOfNoVersion", storeRefusesOrphan},
	{"StoreListFilters", storeListFilters},
	{"StoreEventsPage", storeEventsPage},
	{"RegisterService", registerService},
	{"RegisterServiceAgainIsQuiet", registerAgainIsQuiet},
	{"RegisterServiceUpdates", registerUpdates},
	{"RegisterInstance", registerInstance},
	{"RegisterInstanceAgain", registerInstanceAgain},
	{"RegisterInstanceConflict", registerInstanceConflict},
	{"HeartbeatExpiry", heartbeatExpiry},
	{"HealthThresholds", healthThresholds},
	{"RecordChecks", recordChecks},
	{"Drain", drain},
	{"Deregister", deregister},
	{"Authorization", authorization},
	{"Eject", eject},
	{"EjectChecked", ejectChecked},
	{"ReplayAgrees", replayAgrees},
	{"ConcurrentChanges", concurrentChanges},
}

var ctx = context.Background()

func storeRoundTrip(t *testing.T, b *Bundle) {
	st, err := b.Store.Load(ctx, "round")
	require.NoError(t, err)
	require.Equal(t, registry.State{Name: "round"}, st)

	svc := Service("round", "1.0.0")
	svc.Balancing = registry.BalancingWeighted
	svc.RegisteredAt, svc.UpdatedAt = T0, T0.Add(time.Second)
	idem := true
	svc.Operations[1].Idempotent = &idem
	in := Endpoint("round", "1.0.0", "a")
	in.Weight, in.TTLSeconds, in.Internal = 7, 60, true
	in.Metadata = map[string]string{"host": "a"}
	in.Status, in.StatusReason = registry.StatusUnhealthy, "ejected: boom"
	in.RegisteredAt, in.HeartbeatAt, in.CheckedAt, in.EjectedUntil = T0, T0.Add(time.Minute), T0.Add(2*time.Minute), T0.Add(3*time.Minute)
	in.CheckPasses, in.CheckFailures = 0, 2
	fn := registry.Instance{ID: "b", Service: "round", Version: "1.0.0", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:round", Weight: 100, TTLSeconds: 30, Status: registry.StatusHealthy}
	ev := registry.Event{Type: registry.EventInstanceHealthChanged, At: T0, Actor: "health-checker", Service: "round", Version: "1.0.0", Instance: "a",
		From: registry.StatusHealthy, To: registry.StatusUnhealthy, Reason: "ejected: boom", Until: T0.Add(3 * time.Minute),
		Check: &registry.CheckResult{Service: "round", Instance: "a", StatusCode: 500, Error: "status 500", Duration: 1500 * time.Microsecond, At: T0, Failures: 2}}
	def := svc
	reg := registry.Event{Type: registry.EventServiceRegistered, At: T0, Actor: "user:ada", Service: "round", Version: "1.0.0", Definition: &def}
	state := in
	insEv := registry.Event{Type: registry.EventInstanceRegistered, At: T0, Service: "round", Version: "1.0.0", Instance: "a", State: &state}
	require.NoError(t, b.Store.Save(ctx, registry.Change{Name: "round", PutServices: []registry.Service{svc},
		PutInstances: []registry.Instance{in, fn}, Events: []registry.Event{reg, insEv, ev}}))

	st, err = b.Store.Load(ctx, "round")
	require.NoError(t, err)
	require.Equal(t, int64(1), st.Revision)
	want := svc
	want.Instances = []registry.Instance{in, fn}
	require.Equal(t, []registry.Service{want}, st.Services)

	evs, err := b.Store.Events(ctx, "round", 0, 10)
	require.NoError(t, err)
	reg.Sequence, insEv.Sequence, ev.Sequence = 1, 2, 3
	// Schemas in events may come back in another spelling of the same
	// JSON (a jsonb column's).
	jsonEq(t, []registry.Event{reg, insEv, ev}, evs)

	// Deleting a version takes its instances.
	require.NoError(t, b.Store.Save(ctx, registry.Change{Name: "round", Revision: 1, DeleteServices: []string{"1.0.0"}}))
	st, err = b.Store.Load(ctx, "round")
	require.NoError(t, err)
	require.Equal(t, registry.State{Name: "round", Revision: 2}, st)
	// The same ids may be registered again afterwards.
	require.NoError(t, b.Store.Save(ctx, registry.Change{Name: "round", Revision: 2, PutServices: []registry.Service{svc}, PutInstances: []registry.Instance{in}}))
	st, err = b.Store.Load(ctx, "round")
	require.NoError(t, err)
	require.Len(t, st.Services[0].Instances, 1)
	// Deleting an instance.
	require.NoError(t, b.Store.Save(ctx, registry.Change{Name: "round", Revision: 3, DeleteInstances: []string{"a"}}))
	st, err = b.Store.Load(ctx, "round")
	require.NoError(t, err)
	require.Empty(t, st.Services[0].Instances)
}

func storeStale(t *testing.T, b *Bundle) {
	svc := Service("stale", "1.0.0")
	require.NoError(t, b.Store.Save(ctx, registry.Change{Name: "stale", PutServices: []registry.Service{svc}}))
	err := b.Store.Save(ctx, registry.Change{Name: "stale", PutServices: []registry.Service{svc},
		Events: []registry.Event{{Type: registry.EventServiceUpdated, At: T0, Service: "stale"}}})
	require.ErrorIs(t, err, registry.ErrStale)
	evs, err := b.Store.Events(ctx, "stale", 0, 10)
	require.NoError(t, err)
	require.Empty(t, evs, "a stale change writes no event")
	st, err := b.Store.Load(ctx, "stale")
	require.NoError(t, err)
	require.Equal(t, int64(1), st.Revision)
}

func storeRefusesOrphan(t *testing.T, b *Bundle) {
	err := b.Store.Save(ctx, registry.Change{Name: "orphan", PutInstances: []registry.Instance{Endpoint("orphan", "1.0.0", "a")},
		Events: []registry.Event{{Type: registry.EventInstanceRegistered, At: T0, Service: "orphan"}}})
	require.Error(t, err)
	st, err := b.Store.Load(ctx, "orphan")
	require.NoError(t, err)
	require.Zero(t, st.Revision, "nothing of the change was written")
	evs, err := b.Store.Events(ctx, "orphan", 0, 10)
	require.NoError(t, err)
	require.Empty(t, evs)
}

func storeListFilters(t *testing.T, b *Bundle) {
	for _, s := range []registry.Service{Service("beta", "1.10.0"), Service("beta", "1.9.0"), Service("alpha", "2.0.0")} {
		_, err := b.Registry.RegisterService(ctx, Admin, s)
		require.NoError(t, err)
	}
	other := Service("gamma", "1.0.0")
	other.Capabilities = []string{"chat.post"}
	_, err := b.Registry.RegisterService(ctx, Admin, other)
	require.NoError(t, err)

	all, err := b.Store.List(ctx, registry.ListFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{"alpha 2.0.0", "beta 1.9.0", "beta 1.10.0", "gamma 1.0.0"}, names(all))
	got, err := b.Store.List(ctx, registry.ListFilter{Name: "beta"})
	require.NoError(t, err)
	require.Equal(t, []string{"beta 1.9.0", "beta 1.10.0"}, names(got))
	got, err = b.Store.List(ctx, registry.ListFilter{Capability: "chat.post"})
	require.NoError(t, err)
	require.Equal(t, []string{"gamma 1.0.0"}, names(got))
	got, err = b.Store.List(ctx, registry.ListFilter{Name: "alpha", Capability: "chat.post"})
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = b.Store.List(ctx, registry.ListFilter{Capability: "chat"})
	require.NoError(t, err)
	require.Empty(t, got, "a capability matches whole")
}

func names(svcs []registry.Service) []string {
	var out []string
	for _, s := range svcs {
		out = append(out, s.Name+" "+s.Version)
	}
	return out
}

func storeEventsPage(t *testing.T, b *Bundle) {
	_, err := b.Registry.RegisterService(ctx, Admin, Service("paged", "1.0.0"))
	require.NoError(t, err)
	for i := range 4 {
		_, err := b.Registry.RegisterInstance(ctx, Admin, Endpoint("paged", "1.0.0", fmt.Sprintf("i%d", i)))
		require.NoError(t, err)
	}
	evs, err := b.Registry.History(ctx, "paged", 0, 0)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	for i, e := range evs {
		require.Equal(t, int64(i+1), e.Sequence)
	}
	page, err := b.Registry.History(ctx, "paged", 2, 2)
	require.NoError(t, err)
	require.Equal(t, evs[2:4], page)
	page, err = b.Registry.History(ctx, "paged", 5, 2)
	require.NoError(t, err)
	require.Empty(t, page)
	page, err = b.Registry.History(ctx, "nobody", 0, 2)
	require.NoError(t, err)
	require.Empty(t, page)
}

func registerService(t *testing.T, b *Bundle) {
	svc := Service("threat-intel", "v1.2.0")
	svc.Instances = []registry.Instance{Endpoint("", "", "a"), {FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:threat-intel:live"}}
	got, err := b.Registry.RegisterService(ctx, ServiceCaller("threat-intel"), svc)
	require.NoError(t, err)
	require.Equal(t, "1.2.0", got.Version, "v1.2.0 reads as 1.2.0")
	require.Equal(t, registry.BalancingRoundRobin, got.Balancing)
	require.Equal(t, &registry.HealthCheck{Path: "/healthz", ExpectedStatus: 200, IntervalSeconds: 10, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 3}, got.HealthCheck)
	require.Equal(t, T0, got.RegisteredAt)
	require.Len(t, got.Instances, 2)
	a, fn := got.Instances[0], got.Instances[1]
	require.Equal(t, "a", a.ID)
	require.Equal(t, registry.StatusStarting, a.Status, "a checked instance starts starting")
	require.Equal(t, 100, a.Weight)
	require.Equal(t, 30, a.TTLSeconds)
	require.Equal(t, T0, a.HeartbeatAt)
	require.Equal(t, "generated-1", fn.ID)
	require.Equal(t, registry.StatusHealthy, fn.Status, "a function is not checked")
	require.Equal(t, "1.2.0", fn.Version)
	require.Equal(t, "threat-intel", fn.Service)

	svcs, err := b.Registry.Get(ctx, "threat-intel")
	require.NoError(t, err)
	require.Equal(t, []registry.Service{got}, svcs)
	_, err = b.Registry.Get(ctx, "nothing")
	require.ErrorIs(t, err, registry.ErrNotFound)

	evs, err := b.Registry.History(ctx, "threat-intel", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventServiceRegistered, registry.EventInstanceRegistered, registry.EventInstanceRegistered}, types(evs))
	require.Equal(t, "service:threat-intel", evs[0].Actor)
	require.Empty(t, evs[0].Definition.Instances)
	jsonEq(t, got.Operations, evs[0].Definition.Operations)
}

func jsonEq(t *testing.T, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g))
}

func types(evs []registry.Event) []registry.EventType {
	var out []registry.EventType
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func registerAgainIsQuiet(t *testing.T, b *Bundle) {
	svc := Unchecked("quiet", "1.0.0")
	svc.Instances = []registry.Instance{Endpoint("quiet", "1.0.0", "a")}
	_, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	b.Clock.Advance(10 * time.Second)
	got, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	require.Equal(t, T0.Add(10*time.Second), got.Instances[0].HeartbeatAt, "registering again is a heartbeat")
	require.Equal(t, T0, got.UpdatedAt)
	evs, err := b.Registry.History(ctx, "quiet", 0, 0)
	require.NoError(t, err)
	require.Len(t, evs, 2, "the same registration again writes no event")
}

func registerUpdates(t *testing.T, b *Bundle) {
	svc := Service("upd", "1.0.0")
	svc.Instances = []registry.Instance{Endpoint("upd", "1.0.0", "a")}
	_, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	b.Clock.Advance(time.Second)
	svc.Description = "changed"
	svc.HealthCheck = nil
	svc.Instances = nil
	got, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	require.Equal(t, "changed", got.Description)
	require.Equal(t, T0, got.RegisteredAt)
	require.Equal(t, T0.Add(time.Second), got.UpdatedAt)
	require.Len(t, got.Instances, 1, "instances not listed stay")
	require.Equal(t, registry.StatusHealthy, got.Instances[0].Status, "without a health check a starting instance is healthy")
	require.Equal(t, T0.Add(time.Second), got.Instances[0].HeartbeatAt, "and lives by its heartbeats from the change")
	evs, err := b.Registry.History(ctx, "upd", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventServiceRegistered, registry.EventInstanceRegistered, registry.EventServiceUpdated, registry.EventInstanceHealthChanged}, types(evs))
}

func registerInstance(t *testing.T, b *Bundle) {
	_, err := b.Registry.RegisterInstance(ctx, Admin, Endpoint("inst", "1.0.0", "a"))
	require.ErrorIs(t, err, registry.ErrNotFound, "the version must be registered")
	_, err = b.Registry.RegisterService(ctx, Admin, Unchecked("inst", "1.0.0"))
	require.NoError(t, err)
	in := Endpoint("inst", "v1.0.0", "")
	in.Endpoint += "/"
	got, err := b.Registry.RegisterInstance(ctx, ServiceCaller("inst"), in)
	require.NoError(t, err)
	require.Equal(t, "generated-1", got.ID)
	require.Equal(t, "1.0.0", got.Version)
	require.Equal(t, "https://198.51.100.7:8443", got.Endpoint, "the trailing slash goes")
	require.Equal(t, registry.StatusHealthy, got.Status)
	require.Equal(t, T0, got.RegisteredAt)

	var verr *registry.ValidationError
	_, err = b.Registry.RegisterInstance(ctx, Admin, registry.Instance{Service: "inst", Version: "1.0", Endpoint: "ftp://x"})
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []string{"/version", "/endpoint"}, pointers(verr))
}

func pointers(v *registry.ValidationError) []string {
	var out []string
	for _, p := range v.Problems {
		out = append(out, p.Pointer)
	}
	return out
}

func registerInstanceAgain(t *testing.T, b *Bundle) {
	_, err := b.Registry.RegisterService(ctx, Admin, Service("again", "1.0.0"))
	require.NoError(t, err)
	in := Endpoint("again", "1.0.0", "a")
	_, err = b.Registry.RegisterInstance(ctx, Admin, in)
	require.NoError(t, err)
	for range 2 {
		_, err = b.Registry.RecordCheck(ctx, registry.CheckResult{Service: "again", Instance: "a", Passed: true, At: b.Clock.Now()})
		require.NoError(t, err)
	}
	// Registering again with new settings keeps the health.
	in.Weight = 5
	got, err := b.Registry.RegisterInstance(ctx, Admin, in)
	require.NoError(t, err)
	require.Equal(t, registry.StatusHealthy, got.Status)
	require.Equal(t, 5, got.Weight)
	require.Equal(t, 2, got.CheckPasses)
	// Moving to another endpoint starts over.
	in.Endpoint = "https://198.51.100.8"
	got, err = b.Registry.RegisterInstance(ctx, Admin, in)
	require.NoError(t, err)
	require.Equal(t, registry.StatusStarting, got.Status)
	require.Zero(t, got.CheckPasses)
	// So does a draining instance registering again.
	for range 2 {
		_, err = b.Registry.RecordCheck(ctx, registry.CheckResult{Service: "again", Instance: "a", Passed: true, At: b.Clock.Now()})
		require.NoError(t, err)
	}
	_, err = b.Registry.Drain(ctx, Admin, "again", "a")
	require.NoError(t, err)
	got, err = b.Registry.RegisterInstance(ctx, Admin, in)
	require.NoError(t, err)
	require.Equal(t, registry.StatusStarting, got.Status)
}

func registerInstanceConflict(t *testing.T, b *Bundle) {
	for _, v := range []string{"1.0.0", "2.0.0"} {
		_, err := b.Registry.RegisterService(ctx, Admin, Unchecked("conf", v))
		require.NoError(t, err)
	}
	_, err := b.Registry.RegisterInstance(ctx, Admin, Endpoint("conf", "1.0.0", "a"))
	require.NoError(t, err)
	_, err = b.Registry.RegisterInstance(ctx, Admin, Endpoint("conf", "2.0.0", "a"))
	require.ErrorIs(t, err, registry.ErrConflict)
	svc := Unchecked("conf", "2.0.0")
	svc.Instances = []registry.Instance{Endpoint("conf", "2.0.0", "a")}
	_, err = b.Registry.RegisterService(ctx, Admin, svc)
	require.ErrorIs(t, err, registry.ErrConflict)
}

func heartbeatExpiry(t *testing.T, b *Bundle) {
	svc := Unchecked("beat", "1.0.0")
	a := Endpoint("beat", "1.0.0", "a")
	a.TTLSeconds = 10
	fn := registry.Instance{ID: "fn", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:beat"}
	svc.Instances = []registry.Instance{a, fn}
	_, err := b.Registry.RegisterService(ctx, ServiceCaller("beat"), svc)
	require.NoError(t, err)

	b.Clock.Advance(10 * time.Second)
	require.Equal(t, registry.StatusHealthy, status(t, b, "beat", "a"), "at the TTL it is still alive")
	b.Clock.Advance(time.Second)
	require.Equal(t, registry.StatusUnhealthy, status(t, b, "beat", "a"))
	require.Equal(t, registry.StatusHealthy, status(t, b, "beat", "fn"), "a function does not heartbeat")
	svcs, err := b.Registry.Get(ctx, "beat")
	require.NoError(t, err)
	require.Equal(t, registry.ReasonHeartbeatExpired, svcs[0].Instances[0].StatusReason)
	evs, err := b.Registry.History(ctx, "beat", 0, 0)
	require.NoError(t, err)
	require.Len(t, evs, 3, "reading writes nothing")
	st, err := b.Store.Load(ctx, "beat")
	require.NoError(t, err)
	require.Equal(t, registry.StatusHealthy, st.Services[0].Instances[0].Status)

	// The sweep records it, once.
	require.NoError(t, b.Registry.Sweep(ctx))
	require.NoError(t, b.Registry.Sweep(ctx))
	evs, err = b.Registry.History(ctx, "beat", 3, 0)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, registry.EventInstanceHeartbeatExpired, evs[0].Type)
	require.Equal(t, registry.StatusHealthy, evs[0].From)
	require.Equal(t, registry.StatusUnhealthy, evs[0].To)
	require.Equal(t, "a", evs[0].Instance)

	// A heartbeat brings it back.
	b.Clock.Advance(time.Minute)
	in, err := b.Registry.Heartbeat(ctx, ServiceCaller("beat"), "beat", "a")
	require.NoError(t, err)
	require.Equal(t, registry.StatusHealthy, in.Status)
	require.Equal(t, registry.ReasonHeartbeatResumed, in.StatusReason)
	require.Equal(t, b.Clock.Now(), in.HeartbeatAt)
	evs, err = b.Registry.History(ctx, "beat", 4, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventInstanceHealthChanged}, types(evs))

	// An expiry no sweep saw is recorded by the heartbeat that ends it.
	b.Clock.Advance(time.Minute)
	_, err = b.Registry.Heartbeat(ctx, ServiceCaller("beat"), "beat", "a")
	require.NoError(t, err)
	evs, err = b.Registry.History(ctx, "beat", 5, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventInstanceHeartbeatExpired, registry.EventInstanceHealthChanged}, types(evs))
	_, err = b.Registry.Heartbeat(ctx, ServiceCaller("beat"), "beat", "nobody")
	require.ErrorIs(t, err, registry.ErrNotFound)
}

func status(t *testing.T, b *Bundle, name, id string) registry.Status {
	t.Helper()
	svcs, err := b.Registry.Get(ctx, name)
	require.NoError(t, err)
	for _, s := range svcs {
		for _, in := range s.Instances {
			if in.ID == id {
				return in.Status
			}
		}
	}
	t.Fatalf("no instance %s of %s", id, name)
	return ""
}

func check(t *testing.T, b *Bundle, name, id string, passed bool) registry.Instance {
	t.Helper()
	res := registry.CheckResult{Service: name, Instance: id, Passed: passed, At: b.Clock.Now()}
	if !passed {
		res.StatusCode, res.Error = 503, "status 503, want 200"
	}
	in, err := b.Registry.RecordCheck(ctx, res)
	require.NoError(t, err)
	return in
}

func healthThresholds(t *testing.T, b *Bundle) {
	svc := Service("thr", "1.0.0")
	svc.HealthCheck.HealthyThreshold, svc.HealthCheck.UnhealthyThreshold = 2, 3
	svc.Instances = []registry.Instance{Endpoint("thr", "1.0.0", "a")}
	_, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)

	steps := []struct {
		passed bool
		want   registry.Status
	}{
		{true, registry.StatusStarting}, {true, registry.StatusHealthy},
		{false, registry.StatusHealthy}, {false, registry.StatusHealthy}, {true, registry.StatusHealthy},
		{false, registry.StatusHealthy}, {false, registry.StatusHealthy}, {false, registry.StatusUnhealthy},
		{false, registry.StatusUnhealthy}, {true, registry.StatusUnhealthy}, {true, registry.StatusHealthy},
	}
	for i, s := range steps {
		b.Clock.Advance(10 * time.Second)
		in := check(t, b, "thr", "a", s.passed)
		require.Equal(t, s.want, in.Status, "after check %d", i)
		require.Equal(t, b.Clock.Now(), in.CheckedAt)
	}
	evs, err := b.Registry.History(ctx, "thr", 2, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventInstanceHealthChanged, registry.EventInstanceHealthChanged, registry.EventInstanceHealthChanged}, types(evs))
	require.Equal(t, []registry.Status{registry.StatusStarting, registry.StatusHealthy, registry.StatusUnhealthy}, []registry.Status{evs[0].From, evs[1].From, evs[2].From})
	require.Equal(t, 3, evs[1].Check.Failures)
	require.Equal(t, 503, evs[1].Check.StatusCode)
	require.Contains(t, evs[1].Reason, "status 503")

	// A starting instance that never passes becomes unhealthy.
	_, err = b.Registry.RegisterInstance(ctx, Admin, Endpoint("thr", "1.0.0", "b"))
	require.NoError(t, err)
	for range 3 {
		check(t, b, "thr", "b", false)
	}
	require.Equal(t, registry.StatusUnhealthy, status(t, b, "thr", "b"))
	// A check of an instance that is gone says so.
	_, err = b.Registry.RecordCheck(ctx, registry.CheckResult{Service: "thr", Instance: "gone", Passed: true, At: T0})
	require.ErrorIs(t, err, registry.ErrNotFound)
}

// recordChecks records a round's results in one change: a result of an
// instance gone, or of an endpoint the instance left, changes nothing.
func recordChecks(t *testing.T, b *Bundle) {
	svc := Service("batch", "1.0.0")
	svc.HealthCheck.HealthyThreshold = 1
	svc.Instances = []registry.Instance{Endpoint("batch", "1.0.0", "a"), Endpoint("batch", "1.0.0", "b"), Endpoint("batch", "1.0.0", "c")}
	got, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	st, err := b.Store.Load(ctx, "batch")
	require.NoError(t, err)
	res := func(id, endpoint string, passed bool) registry.CheckResult {
		return registry.CheckResult{Service: "batch", Instance: id, Endpoint: endpoint, Passed: passed, At: b.Clock.Now()}
	}
	require.NoError(t, b.Registry.RecordChecks(ctx, []registry.CheckResult{
		res("a", got.Instances[0].Endpoint, true),
		res("b", "https://198.51.100.99", true), // b moved since
		res("c", got.Instances[2].Endpoint, false),
		res("gone", "https://198.51.100.1", true),
	}))
	after, err := b.Store.Load(ctx, "batch")
	require.NoError(t, err)
	require.Equal(t, st.Revision+1, after.Revision, "one change for the round")
	require.Equal(t, map[string]string{
		"1.0.0/a": "healthy " + registry.ReasonCheckPassed,
		"1.0.0/b": "starting " + registry.ReasonAwaitingCheck,
		"1.0.0/c": "starting " + registry.ReasonAwaitingCheck,
	}, statuses(after.Services))
	require.Equal(t, 1, after.Services[0].Instances[2].CheckFailures)
	require.NoError(t, b.Registry.RecordChecks(ctx, nil))
}

func drain(t *testing.T, b *Bundle) {
	svc := Service("drn", "1.0.0")
	svc.Instances = []registry.Instance{Endpoint("drn", "1.0.0", "a")}
	_, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	for range 2 {
		check(t, b, "drn", "a", true)
	}
	in, err := b.Registry.Drain(ctx, ServiceCaller("drn"), "drn", "a")
	require.NoError(t, err)
	require.Equal(t, registry.StatusDraining, in.Status)
	_, err = b.Registry.Drain(ctx, ServiceCaller("drn"), "drn", "a")
	require.NoError(t, err)
	for range 4 {
		in = check(t, b, "drn", "a", false)
		require.Equal(t, registry.StatusDraining, in.Status, "checks leave a draining instance")
	}
	b.Clock.Advance(time.Hour)
	in, err = b.Registry.Heartbeat(ctx, ServiceCaller("drn"), "drn", "a")
	require.NoError(t, err)
	require.Equal(t, registry.StatusDraining, in.Status, "and so do heartbeats")
	in, err = b.Registry.Eject(ctx, "drn", "a", "timeouts", time.Minute)
	require.NoError(t, err)
	require.Equal(t, registry.StatusDraining, in.Status, "and ejections")
	require.NoError(t, b.Registry.Sweep(ctx))
	require.Equal(t, registry.StatusDraining, status(t, b, "drn", "a"))
	evs, err := b.Registry.History(ctx, "drn", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventServiceRegistered, registry.EventInstanceRegistered, registry.EventInstanceHealthChanged, registry.EventInstanceDraining}, types(evs))
	require.Equal(t, registry.StatusHealthy, evs[3].From)
	_, err = b.Registry.Drain(ctx, Admin, "drn", "nobody")
	require.ErrorIs(t, err, registry.ErrNotFound)
}

func deregister(t *testing.T, b *Bundle) {
	for _, v := range []string{"1.0.0", "2.0.0"} {
		svc := Unchecked("dereg", v)
		svc.Instances = []registry.Instance{Endpoint("dereg", v, "i"+v)}
		_, err := b.Registry.RegisterService(ctx, Admin, svc)
		require.NoError(t, err)
	}
	require.NoError(t, b.Registry.DeregisterInstance(ctx, ServiceCaller("dereg"), "dereg", "i1.0.0"))
	require.ErrorIs(t, b.Registry.DeregisterInstance(ctx, Admin, "dereg", "i1.0.0"), registry.ErrNotFound)
	svcs, err := b.Registry.Get(ctx, "dereg")
	require.NoError(t, err)
	require.Empty(t, svcs[0].Instances)
	require.Len(t, svcs[1].Instances, 1)

	require.ErrorIs(t, b.Registry.DeregisterService(ctx, Admin, "dereg", "3.0.0"), registry.ErrNotFound)
	var verr *registry.ValidationError
	require.ErrorAs(t, b.Registry.DeregisterService(ctx, Admin, "dereg", "three"), &verr)
	require.NoError(t, b.Registry.DeregisterService(ctx, Admin, "dereg", "v2.0.0"))
	svcs, err = b.Registry.Get(ctx, "dereg")
	require.NoError(t, err)
	require.Equal(t, []string{"dereg 1.0.0"}, names(svcs))

	require.NoError(t, b.Registry.DeregisterService(ctx, ServiceCaller("dereg"), "dereg", ""))
	_, err = b.Registry.Get(ctx, "dereg")
	require.ErrorIs(t, err, registry.ErrNotFound)
	require.ErrorIs(t, b.Registry.DeregisterService(ctx, Admin, "dereg", ""), registry.ErrNotFound)
	evs, err := b.Registry.History(ctx, "dereg", 0, 0)
	require.NoError(t, err)
	require.Equal(t, registry.EventInstanceDeregistered, evs[4].Type)
	require.Equal(t, registry.EventServiceDeregistered, evs[5].Type)
	require.Equal(t, registry.EventServiceDeregistered, evs[6].Type)
	require.Empty(t, registry.Replay(evs))

	// A name deregistered may be registered again, and its history goes on.
	_, err = b.Registry.RegisterService(ctx, Admin, Unchecked("dereg", "1.0.0"))
	require.NoError(t, err)
	evs, err = b.Registry.History(ctx, "dereg", 7, 0)
	require.NoError(t, err)
	require.Equal(t, int64(8), evs[0].Sequence)
}

func authorization(t *testing.T, b *Bundle) {
	own := ServiceCaller("mine")
	svc := Unchecked("mine", "1.0.0")
	svc.Instances = []registry.Instance{Endpoint("mine", "1.0.0", "a")}
	_, err := b.Registry.RegisterService(ctx, own, svc)
	require.NoError(t, err)
	other := ServiceCaller("theirs")
	viewer := registry.Caller{Subject: "user:viewer"}

	for _, c := range []registry.Caller{other, viewer} {
		_, err = b.Registry.RegisterService(ctx, c, svc)
		require.ErrorIs(t, err, registry.ErrForbidden)
		_, err = b.Registry.RegisterInstance(ctx, c, Endpoint("mine", "1.0.0", "b"))
		require.ErrorIs(t, err, registry.ErrForbidden)
		_, err = b.Registry.Heartbeat(ctx, c, "mine", "a")
		require.ErrorIs(t, err, registry.ErrForbidden)
		_, err = b.Registry.Drain(ctx, c, "mine", "a")
		require.ErrorIs(t, err, registry.ErrForbidden)
		require.ErrorIs(t, b.Registry.DeregisterInstance(ctx, c, "mine", "a"), registry.ErrForbidden)
		require.ErrorIs(t, b.Registry.DeregisterService(ctx, c, "mine", ""), registry.ErrForbidden)
	}
	// An invalid registration by a caller who may not make it is refused
	// as forbidden, before anything is said of its content.
	_, err = b.Registry.RegisterService(ctx, other, registry.Service{Name: "mine"})
	require.ErrorIs(t, err, registry.ErrForbidden)

	// Internal instances are for admins only.
	internal := Endpoint("mine", "1.0.0", "int")
	internal.Endpoint, internal.Internal = "http://10.0.0.7:8080", true
	_, err = b.Registry.RegisterInstance(ctx, own, internal)
	require.ErrorIs(t, err, registry.ErrForbidden)
	svc.Instances = []registry.Instance{internal}
	_, err = b.Registry.RegisterService(ctx, own, svc)
	require.ErrorIs(t, err, registry.ErrForbidden)
	got, err := b.Registry.RegisterInstance(ctx, Admin, internal)
	require.NoError(t, err)
	require.True(t, got.Internal)

	svcs, err := b.Registry.Get(ctx, "mine")
	require.NoError(t, err)
	require.Len(t, svcs[0].Instances, 2, "nothing forbidden was written")
}

func eject(t *testing.T, b *Bundle) {
	svc := Unchecked("ej", "1.0.0")
	a := Endpoint("ej", "1.0.0", "a")
	a.TTLSeconds = 3600
	svc.Instances = []registry.Instance{a}
	_, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	in, err := b.Registry.Eject(ctx, "ej", "a", "3 calls failed", time.Minute)
	require.NoError(t, err)
	require.Equal(t, registry.StatusUnhealthy, in.Status)
	require.Equal(t, "ejected: 3 calls failed", in.StatusReason)
	require.Equal(t, T0.Add(time.Minute), in.EjectedUntil)
	// Ejecting again extends it, quietly.
	b.Clock.Advance(30 * time.Second)
	in, err = b.Registry.Eject(ctx, "ej", "a", "more", time.Minute)
	require.NoError(t, err)
	require.Equal(t, T0.Add(90*time.Second), in.EjectedUntil)
	b.Clock.Advance(59 * time.Second)
	require.Equal(t, registry.StatusUnhealthy, status(t, b, "ej", "a"))
	b.Clock.Advance(time.Second)
	require.Equal(t, registry.StatusHealthy, status(t, b, "ej", "a"), "the ejection ran its time")
	require.NoError(t, b.Registry.Sweep(ctx))
	require.NoError(t, b.Registry.Sweep(ctx))
	evs, err := b.Registry.History(ctx, "ej", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventServiceRegistered, registry.EventInstanceRegistered, registry.EventInstanceEjected, registry.EventInstanceHealthChanged}, types(evs))
	require.Equal(t, T0.Add(time.Minute), evs[2].Until)
	require.Equal(t, registry.ReasonEjectionEnded, evs[3].Reason)
	st, err := b.Store.Load(ctx, "ej")
	require.NoError(t, err)
	require.Zero(t, st.Services[0].Instances[0].EjectedUntil)
	_, err = b.Registry.Eject(ctx, "ej", "nobody", "x", 0)
	require.ErrorIs(t, err, registry.ErrNotFound)

	// An instance that missed its heartbeats is not ejected: the expiry
	// is recorded instead, once.
	b.Clock.Advance(2 * time.Hour)
	for range 2 {
		in, err = b.Registry.Eject(ctx, "ej", "a", "refused", time.Minute)
		require.NoError(t, err)
		require.Equal(t, registry.ReasonHeartbeatExpired, in.StatusReason)
	}
	evs, err = b.Registry.History(ctx, "ej", 4, 0)
	require.NoError(t, err)
	require.Equal(t, []registry.EventType{registry.EventInstanceHeartbeatExpired}, types(evs))
}

func ejectChecked(t *testing.T, b *Bundle) {
	svc := Service("ejc", "1.0.0")
	svc.Instances = []registry.Instance{Endpoint("ejc", "1.0.0", "a")}
	_, err := b.Registry.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	check(t, b, "ejc", "a", true)
	check(t, b, "ejc", "a", true)
	_, err = b.Registry.Eject(ctx, "ejc", "a", "timeouts", time.Second)
	require.NoError(t, err)
	b.Clock.Advance(time.Hour)
	require.Equal(t, registry.StatusUnhealthy, status(t, b, "ejc", "a"), "a checked instance waits for its check")
	in := check(t, b, "ejc", "a", false)
	require.Equal(t, registry.StatusUnhealthy, in.Status)
	in = check(t, b, "ejc", "a", true)
	require.Equal(t, registry.StatusHealthy, in.Status, "one passing check ends the ejection")
	require.Zero(t, in.EjectedUntil)
}

// replayAgrees drives one service through every kind of change and checks
// that its history replays to what the store holds.
func replayAgrees(t *testing.T, b *Bundle) {
	r := b.Registry
	svc := Service("replay", "1.0.0")
	svc.Instances = []registry.Instance{Endpoint("replay", "1.0.0", "a"), Endpoint("replay", "1.0.0", "b"), Endpoint("replay", "1.0.0", "c")}
	_, err := r.RegisterService(ctx, Admin, svc)
	require.NoError(t, err)
	_, err = r.RegisterService(ctx, Admin, Unchecked("replay", "2.0.0"))
	require.NoError(t, err)
	_, err = r.RegisterInstance(ctx, Admin, Endpoint("replay", "2.0.0", "d"))
	require.NoError(t, err)
	_, err = r.RegisterInstance(ctx, Admin, Endpoint("replay", "2.0.0", "e"))
	require.NoError(t, err)
	for range 2 {
		check(t, b, "replay", "a", true)
		check(t, b, "replay", "b", true)
	}
	for range 3 {
		check(t, b, "replay", "b", false)
	}
	_, err = r.Drain(ctx, Admin, "replay", "c")
	require.NoError(t, err)
	_, err = r.Eject(ctx, "replay", "a", "refused", time.Minute)
	require.NoError(t, err)
	in := Endpoint("replay", "2.0.0", "d")
	in.Weight = 9
	_, err = r.RegisterInstance(ctx, Admin, in)
	require.NoError(t, err)
	b.Clock.Advance(time.Hour)
	require.NoError(t, r.Sweep(ctx))
	_, err = r.Heartbeat(ctx, Admin, "replay", "e")
	require.NoError(t, err)
	require.NoError(t, r.DeregisterInstance(ctx, Admin, "replay", "b"))
	_, err = r.RegisterService(ctx, Admin, Unchecked("replay", "3.0.0"))
	require.NoError(t, err)
	require.NoError(t, r.DeregisterService(ctx, Admin, "replay", "3.0.0"))

	evs, err := r.History(ctx, "replay", 0, registry.MaxHistory)
	require.NoError(t, err)
	st, err := b.Store.Load(ctx, "replay")
	require.NoError(t, err)
	require.Equal(t, statuses(st.Services), statuses(registry.Replay(evs)))
	require.Equal(t, map[string]string{
		"1.0.0/a": "unhealthy ejected: refused", "1.0.0/c": "draining draining",
		"2.0.0/d": "unhealthy heartbeat expired", "2.0.0/e": "healthy heartbeat resumed",
	}, statuses(st.Services))
	// Replay stops where the history is cut: a point in the past.
	require.Equal(t, map[string]string{"1.0.0/a": "starting " + registry.ReasonAwaitingCheck}, statuses(registry.Replay(evs[:2])))
}

func statuses(svcs []registry.Service) map[string]string {
	out := map[string]string{}
	for _, s := range svcs {
		for _, in := range s.Instances {
			out[s.Version+"/"+in.ID] = string(in.Status) + " " + in.StatusReason
		}
	}
	return out
}

// concurrentChanges races registrations, heartbeats and checks of one
// service: none is lost.
func concurrentChanges(t *testing.T, b *Bundle) {
	_, err := b.Registry.RegisterService(ctx, Admin, Service("race", "1.0.0"))
	require.NoError(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("i%d", i)
			if _, err := b.Registry.RegisterInstance(ctx, Admin, Endpoint("race", "1.0.0", id)); err != nil {
				errs <- err
				return
			}
			for range 2 {
				if _, err := b.Registry.RecordCheck(ctx, registry.CheckResult{Service: "race", Instance: id, Passed: true, At: T0}); err != nil {
					errs <- err
				}
			}
			if _, err := b.Registry.Heartbeat(ctx, Admin, "race", id); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	svcs, err := b.Registry.Get(ctx, "race")
	require.NoError(t, err)
	require.Len(t, svcs[0].Instances, n)
	for _, in := range svcs[0].Instances {
		require.Equal(t, registry.StatusHealthy, in.Status, in.ID)
	}
	evs, err := b.Registry.History(ctx, "race", 0, registry.MaxHistory)
	require.NoError(t, err)
	require.Len(t, evs, 1+2*n)
}
