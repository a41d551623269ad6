package router_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/router"
)

// source is a Source over a list the test changes.
type source struct {
	mu       sync.Mutex
	services []registry.Service
	lists    int
	err      error
}

func (s *source) List(_ context.Context, _ registry.ListFilter) ([]registry.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.err != nil {
		return nil, s.err
	}
	out := slices.Clone(s.services)
	for i := range out {
		out[i].Instances = slices.Clone(out[i].Instances)
	}
	return out, nil
}

func (s *source) set(services ...registry.Service) {
	s.mu.Lock()
	s.services = services
	s.mu.Unlock()
}

func (s *source) failWith(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *source) listCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

var (
	reputation = registry.Operation{Name: "reputation", Method: "GET", Path: "/v1/ip/{ip}/reputation"}
	notes      = registry.Operation{Name: "notes", Method: "POST", Path: "/v1/incidents/{id}/notes"}
)

func svc(name, version string, b registry.Balancing, ins ...registry.Instance) registry.Service {
	for i := range ins {
		ins[i].Service, ins[i].Version = name, version
		if ins[i].Status == "" {
			ins[i].Status = registry.StatusHealthy
		}
		if ins[i].Endpoint == "" {
			ins[i].Endpoint = "http://" + ins[i].ID + ".test"
		}
		if ins[i].HeartbeatAt.IsZero() {
			// Alive for years: these tests are not about heartbeats.
			ins[i].HeartbeatAt, ins[i].TTLSeconds = t0, 10*365*24*3600
		}
	}
	return registry.Service{Name: name, Version: version, Balancing: b, Capabilities: []string{"ip.reputation"},
		Operations: []registry.Operation{reputation, notes}, Instances: ins}
}

// t0 is when the tests' clocks start.
var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func inst(id string) registry.Instance { return registry.Instance{ID: id} }

func instStatus(id string, s registry.Status) registry.Instance {
	return registry.Instance{ID: id, Status: s}
}

func instWeight(id string, w int) registry.Instance { return registry.Instance{ID: id, Weight: w} }

type bundle struct {
	src    *source
	clock  *clocktest.Manual
	router *router.Router
	mu     sync.Mutex
	ejects []router.Ejection
}

func setup(t *testing.T, cfg router.Config, services ...registry.Service) *bundle {
	t.Helper()
	b := &bundle{src: &source{}, clock: clocktest.NewManual(t0)}
	b.src.set(services...)
	cfg.Source, cfg.NowFunc = b.src, b.clock.Now
	cfg.OnEjectFunc = func(_ context.Context, e router.Ejection) {
		b.mu.Lock()
		b.ejects = append(b.ejects, e)
		b.mu.Unlock()
	}
	r, err := router.New(cfg)
	require.NoError(t, err)
	b.router = r
	return b
}

func (b *bundle) ejections() []router.Ejection {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ejects)
}

var getReputation = router.Request{Service: "threat-intel", Method: "GET", Path: "/v1/ip/192.0.2.7/reputation"}

// pick routes req and takes the first pick.
func (b *bundle) pick(t *testing.T, req router.Request) *router.Pick {
	t.Helper()
	rt, err := b.router.Route(t.Context(), req)
	require.NoError(t, err)
	p, err := rt.Next()
	require.NoError(t, err)
	return p
}

func TestRoundRobinIsExactAndSkipsInstancesThatAreNotHealthy(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{}, svc("threat-intel", "1.2.0", "",
		inst("c"), inst("a"), instStatus("d", registry.StatusDraining), inst("b"),
		instStatus("e", registry.StatusUnhealthy), instStatus("f", registry.StatusStarting)))
	counts := map[string]int{}
	var order []string
	for range 300 {
		p := b.pick(t, getReputation)
		counts[p.Instance.ID]++
		if len(order) < 6 {
			order = append(order, p.Instance.ID)
		}
		require.Equal(t, "reputation", p.Operation.Name)
		require.Equal(t, map[string]string{"ip": "192.0.2.7"}, p.Params)
		p.Succeeded()
	}
	require.Equal(t, map[string]int{"a": 100, "b": 100, "c": 100}, counts)
	require.Equal(t, []string{"a", "b", "c", "a", "b", "c"}, order, "in order of instance id")
}

func TestWeightedIsSmoothAndExact(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{}, svc("threat-intel", "1.2.0", registry.BalancingWeighted,
		instWeight("a", 5), instWeight("b", 1), instWeight("c", 1), instStatus("d", registry.StatusDraining)))
	var seq []string
	counts := map[string]int{}
	for i := range 700 {
		p := b.pick(t, getReputation)
		if i < 7 {
			seq = append(seq, p.Instance.ID)
		}
		counts[p.Instance.ID]++
		p.Succeeded()
	}
	require.Equal(t, []string{"a", "a", "b", "a", "c", "a", "a"}, seq, "nginx's smooth sequence for 5, 1, 1")
	require.Equal(t, map[string]int{"a": 500, "b": 100, "c": 100}, counts)

	// A weight of 0 means 100.
	b = setup(t, router.Config{}, svc("threat-intel", "1.2.0", registry.BalancingWeighted, inst("a"), instWeight("b", 300)))
	counts = map[string]int{}
	for range 400 {
		p := b.pick(t, getReputation)
		counts[p.Instance.ID]++
		p.Succeeded()
	}
	require.Equal(t, map[string]int{"a": 100, "b": 300}, counts)
}

func TestLeastOutstandingPicksTheFewestInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{}, svc("threat-intel", "1.2.0", registry.BalancingLeastOutstanding,
		inst("a"), inst("b"), inst("c"), instStatus("d", registry.StatusUnhealthy)))

	// Three calls in flight go to three instances; one ends, and the next
	// call goes where it ended.
	held := map[string]*router.Pick{}
	for range 3 {
		p := b.pick(t, getReputation)
		require.NotContains(t, held, p.Instance.ID)
		held[p.Instance.ID] = p
	}
	held["b"].Succeeded()
	p := b.pick(t, getReputation)
	require.Equal(t, "b", p.Instance.ID)
	p.Succeeded()
	held["a"].Succeeded()
	held["c"].Succeeded()

	// Many calls that end in a random order: every pick has the fewest in
	// flight, so the counts never differ by more than one, and every
	// instance gets close to a third.
	rng := rand.New(rand.NewPCG(1, 2))
	inflight := map[string]int{}
	counts := map[string]int{}
	var open []*router.Pick
	for range 3000 {
		if len(open) >= 7 {
			i := rng.IntN(len(open))
			inflight[open[i].Instance.ID]--
			open[i].Succeeded()
			open = slices.Delete(open, i, i+1)
		}
		p := b.pick(t, getReputation)
		for id, n := range inflight {
			require.LessOrEqual(t, inflight[p.Instance.ID], n, "picked %s with %d in flight while %s had %d", p.Instance.ID, inflight[p.Instance.ID], id, n)
		}
		inflight[p.Instance.ID]++
		counts[p.Instance.ID]++
		open = append(open, p)
	}
	for _, id := range []string{"a", "b", "c"} {
		require.InDelta(t, 1000, counts[id], 100, "instance %s got %d of 3000", id, counts[id])
	}
	require.Zero(t, counts["d"])
}

func TestFailoverGoesThroughEveryHealthyInstanceOnce(t *testing.T) {
	t.Parallel()
	for _, policy := range []registry.Balancing{registry.BalancingRoundRobin, registry.BalancingLeastOutstanding, registry.BalancingWeighted} {
		t.Run(string(policy), func(t *testing.T) {
			t.Parallel()
			b := setup(t, router.Config{}, svc("threat-intel", "1.2.0", policy,
				instWeight("a", 300), inst("b"), instStatus("x", registry.StatusDraining), inst("c")))
			for first := range 3 {
				rt, err := b.router.Route(t.Context(), getReputation)
				require.NoError(t, err)
				var got []string
				for {
					p, err := rt.Next()
					if err != nil {
						require.ErrorIs(t, err, router.ErrExhausted)
						break
					}
					require.Equal(t, len(got), p.Failovers)
					got = append(got, p.Instance.ID)
					p.Failed(t.Context(), errors.New("connection refused"))
				}
				require.ElementsMatch(t, []string{"a", "b", "c"}, got, "route %d", first)
				if policy == registry.BalancingRoundRobin {
					want := [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}}[first]
					require.Equal(t, want, got, "round robin fails over in id order from its pick")
				}
			}
		})
	}
}

func TestBreakerOpensHalfOpensAndCloses(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{FailureThreshold: 3, CoolDown: 10 * time.Second},
		svc("threat-intel", "1.2.0", "", inst("a"), inst("b")))
	fail := errors.New("503 Service Unavailable")

	// Failures of a, interleaved with successes of b: a opens after three
	// in a row.
	for range 3 {
		p := b.pick(t, getReputation)
		require.Equal(t, "a", p.Instance.ID)
		p.Failed(t.Context(), fail)
		p = b.pick(t, getReputation)
		require.Equal(t, "b", p.Instance.ID)
		p.Succeeded()
	}
	require.Equal(t, router.Open, b.router.Breaker("threat-intel", "1.2.0", "a"))
	ej := b.ejections()
	require.Len(t, ej, 1)
	require.Equal(t, router.Ejection{Service: "threat-intel", Version: "1.2.0", InstanceID: "a", For: 10 * time.Second,
		Reason: "circuit breaker opened: 3 failed calls in a row; the last: 503 Service Unavailable"}, ej[0])

	// Open: every call goes to b.
	for range 4 {
		p := b.pick(t, getReputation)
		require.Equal(t, "b", p.Instance.ID)
		p.Succeeded()
	}
	// b opens too: no call goes anywhere.
	for range 3 {
		p := b.pick(t, getReputation)
		require.Equal(t, "b", p.Instance.ID)
		p.Failed(t.Context(), fail)
	}
	rt, err := b.router.Route(t.Context(), getReputation)
	require.NoError(t, err)
	_, err = rt.Next()
	require.ErrorIs(t, err, router.ErrCircuitOpen)
	require.ErrorContains(t, err, "the circuit breaker of every healthy instance of threat-intel 1.2.0 is open (a, b)")

	// After the cool-down: one probe per instance, and no other call
	// meanwhile.
	b.clock.Advance(7 * time.Second)
	rt, err = b.router.Route(t.Context(), getReputation)
	require.NoError(t, err)
	_, err = rt.Next()
	require.ErrorIs(t, err, router.ErrCircuitOpen, "still cooling down")
	b.clock.Advance(3 * time.Second)
	require.Equal(t, router.HalfOpen, b.router.Breaker("threat-intel", "1.2.0", "a"))
	probeA := b.pick(t, getReputation)
	probeB := b.pick(t, getReputation)
	require.ElementsMatch(t, []string{"a", "b"}, []string{probeA.Instance.ID, probeB.Instance.ID})
	if probeA.Instance.ID != "a" {
		probeA, probeB = probeB, probeA
	}
	rt, err = b.router.Route(t.Context(), getReputation)
	require.NoError(t, err)
	_, err = rt.Next()
	require.ErrorIs(t, err, router.ErrCircuitOpen, "both probes are out")

	// a's probe fails: open again, ejected again. b's succeeds: closed.
	probeA.Failed(t.Context(), fail)
	probeB.Succeeded()
	require.Equal(t, router.Open, b.router.Breaker("threat-intel", "1.2.0", "a"))
	require.Equal(t, router.Closed, b.router.Breaker("threat-intel", "1.2.0", "b"))
	ej = b.ejections()
	require.Len(t, ej, 3)
	require.Equal(t, "b", ej[1].InstanceID)
	require.Equal(t, router.Ejection{Service: "threat-intel", Version: "1.2.0", InstanceID: "a", For: 10 * time.Second,
		Reason: "circuit breaker opened: the probe call after the cool-down failed: 503 Service Unavailable"}, ej[2])
	for range 2 {
		p := b.pick(t, getReputation)
		require.Equal(t, "b", p.Instance.ID)
		p.Succeeded()
	}

	// An abandoned probe lets another probe go.
	b.clock.Advance(10 * time.Second)
	probeA = b.pick(t, getReputation)
	require.Equal(t, "a", probeA.Instance.ID)
	probeA.Abandoned()
	probeA = b.pick(t, getReputation)
	if probeA.Instance.ID == "b" { // round robin's turn
		probeA.Succeeded()
		probeA = b.pick(t, getReputation)
	}
	require.Equal(t, "a", probeA.Instance.ID)
	// A probe that succeeds closes the breaker.
	probeA.Succeeded()
	require.Equal(t, router.Closed, b.router.Breaker("threat-intel", "1.2.0", "a"))
	require.Len(t, b.ejections(), 3)
}

func TestBreakerIgnoresOutcomesOfCallsPickedBeforeItChanged(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{FailureThreshold: 2, CoolDown: time.Second},
		svc("threat-intel", "1.2.0", registry.BalancingLeastOutstanding, inst("a")))
	slow := b.pick(t, getReputation) // picked while closed
	for range 2 {
		p := b.pick(t, getReputation)
		p.Failed(t.Context(), errors.New("refused"))
	}
	require.Equal(t, router.Open, b.router.Breaker("threat-intel", "1.2.0", "a"))
	slow.Succeeded()
	require.Equal(t, router.Open, b.router.Breaker("threat-intel", "1.2.0", "a"), "a success from before it opened does not close it")
}

func TestBreakersOutliveRefreshes(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{FailureThreshold: 1, CoolDown: time.Minute}, svc("threat-intel", "1.2.0", "", inst("a")))
	b.pick(t, getReputation).Failed(t.Context(), errors.New("refused"))
	b.clock.Advance(2 * time.Second)
	b.router.Invalidate()
	rt, err := b.router.Route(t.Context(), getReputation)
	require.NoError(t, err)
	_, err = rt.Next()
	require.ErrorIs(t, err, router.ErrCircuitOpen)
	require.Equal(t, 2, b.src.listCount())
}

func TestVersionConstraints(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{},
		svc("threat-intel", "1.0.0", "", inst("v100")),
		svc("threat-intel", "v1.2.0", "", inst("v120")),
		svc("threat-intel", "1.3.0", "", instStatus("v130", registry.StatusUnhealthy)),
		svc("threat-intel", "2.0.0", "", inst("v200")),
		svc("threat-intel", "2.1.0-beta.1", "", inst("v210b")),
	)
	for _, c := range []struct{ constraint, want string }{
		{"", "v200"},
		{"^1", "v120"}, // 1.3.0 has no healthy instance
		{"^1.2", "v120"},
		{"~1.0", "v100"},
		{">=1.1 <2", "v120"},
		{"1.x", "v120"},
		{"2", "v200"},
		{">=2.1.0-0", "v210b"},
	} {
		req := getReputation
		req.Version = c.constraint
		p := b.pick(t, req)
		require.Equal(t, c.want, p.Instance.ID, "constraint %q", c.constraint)
		p.Succeeded()
	}
	req := getReputation
	req.Version = ">=3"
	_, err := b.router.Route(t.Context(), req)
	require.ErrorIs(t, err, router.ErrNotFound)
	require.EqualError(t, err, `no version of service "threat-intel" satisfies ">=3" (registered: 2.1.0-beta.1, 2.0.0, 1.3.0, v1.2.0, 1.0.0)`)

	req.Version = "~1.3"
	_, err = b.router.Route(t.Context(), req)
	require.ErrorIs(t, err, router.ErrUnavailable)
	require.EqualError(t, err, `service "threat-intel" has no healthy instance in a version satisfying "~1.3" (1.3.0: v130 unhealthy)`)

	req.Version = "^^1"
	_, err = b.router.Route(t.Context(), req)
	require.ErrorIs(t, err, router.ErrBadRequest)
	require.ErrorContains(t, err, `"^^1" is not a version constraint (such as ^1.2, ~1.4, >=1.2 <2 or 1.x)`)
}

func TestUnknownServiceNoHealthyInstanceAndBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{}, svc("threat-intel", "1.2.0", "",
		instStatus("a", registry.StatusDraining), instStatus("b", registry.StatusStarting)))
	_, err := b.router.Route(t.Context(), router.Request{Service: "nope", Method: "GET", Path: "/"})
	require.ErrorIs(t, err, router.ErrNotFound)
	require.EqualError(t, err, `no service named "nope" is registered`)

	_, err = b.router.Route(t.Context(), getReputation)
	require.ErrorIs(t, err, router.ErrUnavailable)
	require.EqualError(t, err, `service "threat-intel" has no healthy instance (1.2.0: a draining, b starting)`)

	_, err = b.router.Route(t.Context(), router.Request{Method: "GET", Path: "/"})
	require.ErrorIs(t, err, router.ErrBadRequest)
	_, err = b.router.Route(t.Context(), router.Request{Service: "a", Capability: "b", Method: "GET", Path: "/"})
	require.ErrorIs(t, err, router.ErrBadRequest)
}

func TestOperations(t *testing.T) {
	t.Parallel()
	s := svc("threat-intel", "1.2.0", "", inst("a"))
	s.Operations = []registry.Operation{
		{Name: "item", Method: "GET", Path: "/v1/items/{id}"},
		{Name: "special", Method: "get", Path: "/v1/items/special"},
		{Name: "update", Method: "PUT", Path: "/v1/items/{id}"},
		{Name: "broken", Method: "GET", Path: "no-slash"},
	}
	b := setup(t, router.Config{}, s)
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/v1/items/7", "item"},
		{"GET", "/v1/items/special", "special"}, // the most literal segments win
		{"get", "/v1/items/special?x=1", "special"},
		{"PUT", "/v1/items/special", "update"},
	} {
		p := b.pick(t, router.Request{Service: "threat-intel", Method: c.method, Path: c.path})
		require.Equal(t, c.want, p.Operation.Name, "%s %s", c.method, c.path)
		p.Succeeded()
	}
	_, err := b.router.Route(t.Context(), router.Request{Service: "threat-intel", Method: "DELETE", Path: "/v1/items/7"})
	require.ErrorIs(t, err, router.ErrNoOperation)
	var re *router.Error
	require.ErrorAs(t, err, &re)
	require.EqualError(t, err, "service threat-intel 1.2.0 has no operation DELETE /v1/items/7 (it has: GET /v1/items/special, GET /v1/items/{id}, PUT /v1/items/{id})")
	_, err = b.router.Route(t.Context(), router.Request{Service: "threat-intel", Method: "GET", Path: "/v1/items/7/extra"})
	require.ErrorIs(t, err, router.ErrNoOperation)
}

func TestCapabilityRouting(t *testing.T) {
	t.Parallel()
	big := svc("intel-a", "1.0.0", "", inst("a1"), inst("a2"))
	small := svc("intel-b", "3.1.0", "", inst("b1"))
	older := svc("intel-b", "2.0.0", "", inst("b-old"))
	noOp := svc("intel-c", "1.0.0", "", inst("c1"))
	noOp.Operations = []registry.Operation{{Name: "other", Method: "GET", Path: "/v2/reputation/{ip}"}}
	other := svc("geo", "1.0.0", "", inst("g1"))
	other.Capabilities = []string{"ip.geolocation"}
	b := setup(t, router.Config{}, big, small, older, noOp, other)

	req := router.Request{Capability: "ip.reputation", Method: "GET", Path: "/v1/ip/192.0.2.7/reputation"}
	counts := map[string]int{}
	for range 300 {
		p := b.pick(t, req)
		counts[p.Instance.ID]++
		p.Succeeded()
	}
	require.Equal(t, map[string]int{"a1": 100, "a2": 100, "b1": 100}, counts, "even per instance across services, each at its highest version, only those with the operation")

	// Failover runs through the chosen service's instances, then the next.
	rt, err := b.router.Route(t.Context(), req)
	require.NoError(t, err)
	var got []string
	for {
		p, err := rt.Next()
		if err != nil {
			require.ErrorIs(t, err, router.ErrExhausted)
			break
		}
		got = append(got, p.Service.Name+"/"+p.Instance.ID)
		p.Failed(t.Context(), errors.New("refused"))
	}
	require.Len(t, got, 3)
	if got[0] == "intel-b/b1" {
		require.ElementsMatch(t, []string{"intel-a/a1", "intel-a/a2"}, got[1:])
	} else {
		require.Equal(t, "intel-b/b1", got[2])
	}

	req.Version = "^2"
	p := b.pick(t, req)
	require.Equal(t, "b-old", p.Instance.ID, "the constraint holds for every service")
	p.Succeeded()

	_, err = b.router.Route(t.Context(), router.Request{Capability: "cve.lookup", Method: "GET", Path: "/"})
	require.ErrorIs(t, err, router.ErrNotFound)
	require.EqualError(t, err, `no registered service offers the capability "cve.lookup"`)
	_, err = b.router.Route(t.Context(), router.Request{Capability: "ip.geolocation", Method: "GET", Path: "/v1/geo"})
	require.ErrorIs(t, err, router.ErrNoOperation)
	require.ErrorContains(t, err, "service geo 1.0.0 has no operation GET /v1/geo")
	_, err = b.router.Route(t.Context(), router.Request{Capability: "ip.reputation", Method: "GET", Path: "/v1/nothing"})
	require.ErrorIs(t, err, router.ErrNoOperation)
	require.EqualError(t, err, `no service offering the capability "ip.reputation" has an operation GET /v1/nothing (healthy: intel-a 1.0.0, intel-b 3.1.0, intel-c 1.0.0)`)
}

func TestListingsAreCachedRefreshedAndInvalidated(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{Refresh: time.Second, MaxStale: 10 * time.Second}, svc("threat-intel", "1.2.0", "", inst("a")))
	b.pick(t, getReputation).Succeeded()
	b.pick(t, getReputation).Succeeded()
	require.Equal(t, 1, b.src.listCount())

	// A draining instance gets no new calls once the router lists again.
	b.src.set(svc("threat-intel", "1.2.0", "", instStatus("a", registry.StatusDraining), inst("b")))
	b.clock.Advance(time.Second)
	for range 3 {
		p := b.pick(t, getReputation)
		require.Equal(t, "b", p.Instance.ID)
		p.Succeeded()
	}
	require.Equal(t, 2, b.src.listCount())

	b.src.set(svc("threat-intel", "1.2.0", "", inst("c")))
	b.router.Invalidate()
	require.Equal(t, "c", b.pick(t, getReputation).Instance.ID)
	require.Equal(t, 3, b.src.listCount())

	// A failing source: the last listing serves for MaxStale, asked again
	// once per Refresh.
	b.src.failWith(errors.New("connection refused"))
	b.clock.Advance(9 * time.Second)
	require.Equal(t, "c", b.pick(t, getReputation).Instance.ID)
	require.Equal(t, "c", b.pick(t, getReputation).Instance.ID)
	require.Equal(t, 4, b.src.listCount())
	b.clock.Advance(time.Second)
	_, err := b.router.Route(t.Context(), getReputation)
	require.ErrorIs(t, err, router.ErrSource)
	require.EqualError(t, err, "listing the registered services: connection refused")
	_, err = b.router.Route(t.Context(), getReputation)
	require.ErrorIs(t, err, router.ErrSource)
	require.Equal(t, 5, b.src.listCount(), "the error serves for Refresh too")

	// The source answers again.
	b.src.failWith(nil)
	b.clock.Advance(time.Second)
	require.Equal(t, "c", b.pick(t, getReputation).Instance.ID)
}

func TestAStaleListingReadsAsTimePasses(t *testing.T) {
	t.Parallel()
	short := inst("short")
	short.HeartbeatAt, short.TTLSeconds = t0, 30
	b := setup(t, router.Config{MaxStale: time.Minute}, svc("threat-intel", "1.2.0", "", short, inst("long")))
	ids := map[string]int{}
	for range 2 {
		p := b.pick(t, getReputation)
		ids[p.Instance.ID]++
		p.Succeeded()
	}
	require.Equal(t, map[string]int{"short": 1, "long": 1}, ids)

	// The registry is unreachable, and short's heartbeat expires: the
	// kept listing reads it as unhealthy.
	b.src.failWith(errors.New("connection refused"))
	b.clock.Advance(31 * time.Second)
	for range 3 {
		p := b.pick(t, getReputation)
		require.Equal(t, "long", p.Instance.ID)
		p.Succeeded()
	}
}

func TestConcurrentRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, router.Config{}, svc("threat-intel", "1.2.0", registry.BalancingLeastOutstanding, inst("a"), inst("b")))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				rt, err := b.router.Route(context.Background(), getReputation)
				if err != nil {
					panic(err)
				}
				p, err := rt.Next()
				if err != nil {
					panic(err)
				}
				if (g+i)%50 == 0 {
					b.router.Invalidate()
				}
				p.Succeeded()
			}
		})
	}
	wg.Wait()
	require.Equal(t, router.Closed, b.router.Breaker("threat-intel", "1.2.0", "a"))
}

func ExampleRouter_Route() {
	ctx := context.Background()
	reg, _ := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	_, err := reg.RegisterService(ctx, registry.Caller{Subject: "user:ada", Admin: true}, registry.Service{
		Name: "threat-intel", Version: "1.2.0",
		Operations: []registry.Operation{{Name: "reputation", Method: "GET", Path: "/v1/ip/{ip}/reputation"}},
		Instances: []registry.Instance{
			{ID: "ti-1", Endpoint: "http://10.0.0.1:8080", Internal: true},
			{ID: "ti-2", Endpoint: "http://10.0.0.2:8080", Internal: true},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ := router.New(router.Config{Source: reg})
	rt, err := r.Route(ctx, router.Request{Service: "threat-intel", Version: "^1", Method: "GET", Path: "/v1/ip/192.0.2.7/reputation"})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := rt.Next()
	fmt.Println(p.Service.Version, p.Operation.Name, p.Params["ip"], p.Instance.ID)
	p.Failed(ctx, errors.New("connection refused"))
	p, _ = rt.Next() // fail over
	fmt.Println(p.Instance.ID, p.Failovers)
	p.Succeeded()
	// Output:
	// 1.2.0 reputation 192.0.2.7 ti-1
	// ti-2 1
}
