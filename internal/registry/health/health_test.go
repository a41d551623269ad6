package health_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/health"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
)

// manual is a hand-moved clock for RunOnce, which never waits.
type manual struct{ *clocktest.Manual }

func (manual) AfterFunc(time.Duration, func()) func() bool {
	panic("RunOnce never waits")
}

// instanceServer is an instance whose health check answers what the test
// says.
type instanceServer struct {
	*httptest.Server
	status atomic.Int32
	hits   atomic.Int32
}

func newInstance(t *testing.T) *instanceServer {
	t.Helper()
	s := &instanceServer{}
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/base/healthz" {
			http.NotFound(w, r)
			return
		}
		s.hits.Add(1)
		code := int(s.status.Load())
		if code == http.StatusFound {
			http.Redirect(w, r, "/base/elsewhere", code)
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

type bundle struct {
	reg      *registry.Registry
	clock    *clocktest.Manual
	checker  *health.Checker
	internal atomic.Int32 // clients asked for internal instances
}

func setup(t *testing.T, clk clock.Clock, now func() time.Time) *bundle {
	t.Helper()
	b := &bundle{}
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), NowFunc: now})
	require.NoError(t, err)
	b.reg = reg
	b.checker = b.newChecker(t, clk)
	return b
}

func (b *bundle) newChecker(t *testing.T, clk clock.Clock) *health.Checker {
	t.Helper()
	c, err := health.New(health.Config{Registry: b.reg, Clock: clk, Tick: 50 * time.Millisecond, ClientFunc: func(internal bool) *http.Client {
		if internal {
			b.internal.Add(1)
		}
		return &http.Client{}
	}})
	require.NoError(t, err)
	return c
}

func manualSetup(t *testing.T) *bundle {
	t.Helper()
	clk := clocktest.NewManual(registrytest.T0)
	b := setup(t, manual{clk}, clk.Now)
	b.clock = clk
	return b
}

// register registers a checked service (interval 10 s, thresholds 2 and
// 3) with one internal instance on srv.
func (b *bundle) register(t *testing.T, name string, srv *instanceServer) {
	t.Helper()
	svc := registrytest.Service(name, "1.0.0")
	svc.HealthCheck = &registry.HealthCheck{Path: "/healthz", IntervalSeconds: 10, TimeoutSeconds: 1, HealthyThreshold: 2, UnhealthyThreshold: 3}
	in := registrytest.Endpoint(name, "1.0.0", "a")
	in.Endpoint, in.Internal = srv.URL+"/base/", true
	svc.Instances = []registry.Instance{in}
	_, err := b.reg.RegisterService(context.Background(), registrytest.Admin, svc)
	require.NoError(t, err)
}

func (b *bundle) status(t *testing.T, name string) registry.Instance {
	t.Helper()
	svcs, err := b.reg.Get(context.Background(), name)
	require.NoError(t, err)
	return svcs[0].Instances[0]
}

// round moves the clock by the interval and runs a round.
func (b *bundle) round(t *testing.T) registry.Instance {
	t.Helper()
	b.clock.Advance(10 * time.Second)
	require.NoError(t, b.checker.RunOnce(context.Background()))
	return b.status(t, "svc")
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := manualSetup(t)
	srv := newInstance(t)
	b.register(t, "svc", srv)

	require.NoError(t, b.checker.RunOnce(ctx))
	require.Equal(t, registry.StatusStarting, b.status(t, "svc").Status)
	require.NoError(t, b.checker.RunOnce(ctx))
	require.Equal(t, int32(1), srv.hits.Load(), "a check is not due before its interval")
	require.Equal(t, registry.StatusHealthy, b.round(t).Status)
	require.Positive(t, b.internal.Load(), "an internal instance is checked with the internal client")

	srv.status.Store(http.StatusServiceUnavailable)
	require.Equal(t, registry.StatusHealthy, b.round(t).Status)
	require.Equal(t, registry.StatusHealthy, b.round(t).Status)
	in := b.round(t)
	require.Equal(t, registry.StatusUnhealthy, in.Status)
	require.Equal(t, "health check failed: status 503, want 200", in.StatusReason)

	srv.status.Store(http.StatusOK)
	require.Equal(t, registry.StatusUnhealthy, b.round(t).Status)
	require.Equal(t, registry.StatusHealthy, b.round(t).Status)
	require.Equal(t, int32(7), srv.hits.Load())

	evs, err := b.reg.History(ctx, "svc", 0, 0)
	require.NoError(t, err)
	var changes []string
	for _, e := range evs {
		if e.Type == registry.EventInstanceHealthChanged {
			changes = append(changes, fmt.Sprintf("%s->%s %d/%d %d", e.From, e.To, e.Check.Passes, e.Check.Failures, e.Check.StatusCode))
			require.Equal(t, registry.ActorChecker, e.Actor)
		}
	}
	require.Equal(t, []string{"starting->healthy 2/0 200", "healthy->unhealthy 0/3 503", "unhealthy->healthy 2/0 200"}, changes)
}

// TestCountsSurviveTheChecker runs each round on a new checker, as a
// scheduled function does: the counts in a row are the registry's.
func TestCountsSurviveTheChecker(t *testing.T) {
	t.Parallel()
	b := manualSetup(t)
	srv := newInstance(t)
	b.register(t, "svc", srv)
	for _, want := range []registry.Status{registry.StatusStarting, registry.StatusHealthy} {
		b.checker = b.newChecker(t, manual{b.clock})
		require.Equal(t, want, b.round(t).Status)
	}
	srv.status.Store(http.StatusInternalServerError)
	for _, want := range []registry.Status{registry.StatusHealthy, registry.StatusHealthy, registry.StatusUnhealthy} {
		b.checker = b.newChecker(t, manual{b.clock})
		require.Equal(t, want, b.round(t).Status)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		server func(t *testing.T) string
		want   string
	}{
		{"redirects are not followed", func(t *testing.T) string {
			srv := newInstance(t)
			srv.status.Store(http.StatusFound)
			return srv.URL + "/base"
		}, "status 302, want 200"},
		{"no answer in time", func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
			t.Cleanup(srv.Close)
			return srv.URL
		}, "no answer within 1s"},
		{"the connection drops", func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					_ = conn.Close()
				}
			})
			t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
			return "http://" + ln.Addr().String()
		}, "/healthz"}, // the client's words vary (EOF, a closed connection); they name the URL
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := manualSetup(t)
			svc := registrytest.Service("svc", "1.0.0")
			svc.HealthCheck = &registry.HealthCheck{Path: "/healthz", TimeoutSeconds: 1}
			in := registrytest.Endpoint("svc", "1.0.0", "a")
			in.Endpoint = tc.server(t)
			res := b.checker.Check(ctx, svc, in)
			require.False(t, res.Passed)
			require.Contains(t, res.Error, tc.want)
		})
	}
}

func TestLeavesDrainingAndFunctions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := manualSetup(t)
	srv := newInstance(t)
	b.register(t, "svc", srv)
	_, err := b.reg.RegisterInstance(ctx, registrytest.Admin, registry.Instance{ID: "fn", Service: "svc", Version: "1.0.0", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:svc"})
	require.NoError(t, err)
	_, err = b.reg.Drain(ctx, registrytest.Admin, "svc", "a")
	require.NoError(t, err)
	srv.status.Store(http.StatusInternalServerError)
	for range 4 {
		b.round(t)
	}
	require.Zero(t, srv.hits.Load(), "a draining instance is not checked")
	svcs, err := b.reg.Get(ctx, "svc")
	require.NoError(t, err)
	require.Equal(t, registry.StatusDraining, svcs[0].Instances[0].Status)
	require.Equal(t, registry.StatusHealthy, svcs[0].Instances[1].Status, "a function is not checked")
}

func TestClearsEjections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := manualSetup(t)
	srv := newInstance(t)
	b.register(t, "svc", srv)
	b.round(t)
	require.Equal(t, registry.StatusHealthy, b.round(t).Status)
	_, err := b.reg.Eject(ctx, "svc", "a", "3 calls timed out", time.Hour)
	require.NoError(t, err)
	in := b.round(t)
	require.Equal(t, registry.StatusHealthy, in.Status, "one passing check ends the ejection")
	require.Zero(t, in.EjectedUntil)
}

func TestSweepsHeartbeats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := manualSetup(t)
	svc := registrytest.Unchecked("beat", "1.0.0")
	svc.Instances = []registry.Instance{registrytest.Endpoint("beat", "1.0.0", "a")}
	_, err := b.reg.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)
	b.clock.Advance(time.Minute)
	for range 3 {
		require.NoError(t, b.checker.RunOnce(ctx))
	}
	evs, err := b.reg.History(ctx, "beat", 0, 0)
	require.NoError(t, err)
	require.Equal(t, registry.EventInstanceHeartbeatExpired, evs[len(evs)-1].Type)
	require.Len(t, evs, 3, "the expiry is written once")
}

func TestManyInstancesInOneRound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := manualSetup(t)
	srv := newInstance(t)
	svc := registrytest.Service("many", "1.0.0")
	svc.HealthCheck = &registry.HealthCheck{Path: "/healthz", HealthyThreshold: 1}
	for i := range 40 {
		in := registrytest.Endpoint("many", "1.0.0", fmt.Sprintf("i%02d", i))
		in.Endpoint = srv.URL + "/base"
		svc.Instances = append(svc.Instances, in)
	}
	_, err := b.reg.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)
	require.NoError(t, b.checker.RunOnce(ctx))
	require.Equal(t, int32(40), srv.hits.Load())
	svcs, err := b.reg.Get(ctx, "many")
	require.NoError(t, err)
	for _, in := range svcs[0].Instances {
		require.Equal(t, registry.StatusHealthy, in.Status, in.ID)
	}
}

// TestRunAndRunFor run on the system clock with a one-second interval:
// they are checked for what they do, never for how long it takes.
func TestRunAndRunFor(t *testing.T) {
	t.Parallel()
	b := setup(t, clock.System{}, time.Now)
	srv := newInstance(t)
	svc := registrytest.Service("svc", "1.0.0")
	svc.HealthCheck = &registry.HealthCheck{Path: "/healthz", IntervalSeconds: 1, TimeoutSeconds: 1, HealthyThreshold: 2}
	in := registrytest.Endpoint("svc", "1.0.0", "a")
	in.Endpoint = srv.URL + "/base"
	svc.Instances = []registry.Instance{in}
	_, err := b.reg.RegisterService(context.Background(), registrytest.Admin, svc)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = b.checker.Run(ctx) })
	require.Eventually(t, func() bool { return b.status(t, "svc").Status == registry.StatusHealthy }, 20*time.Second, 20*time.Millisecond)
	cancel()
	wg.Wait()
	require.ErrorIs(t, runErr, context.Canceled)

	srv.status.Store(http.StatusInternalServerError)
	before := srv.hits.Load()
	require.NoError(t, b.checker.RunFor(context.Background(), 1500*time.Millisecond))
	require.Greater(t, srv.hits.Load(), before, "RunFor checks until its time is up, then returns")

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, b.checker.RunFor(ctx, time.Hour), context.Canceled)
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, err := health.New(health.Config{ClientFunc: func(bool) *http.Client { return http.DefaultClient }})
	require.Error(t, err)
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	_, err = health.New(health.Config{Registry: reg})
	require.Error(t, err)
}

// TestFunction is functions/healthcheck's handler: one invocation checks
// for RunFor, or until a little before the invocation's deadline when
// that comes sooner.
func TestFunction(t *testing.T) {
	t.Parallel()
	b := setup(t, clock.System{}, time.Now)
	srv := newInstance(t)
	svc := registrytest.Service("svc", "1.0.0")
	svc.HealthCheck = &registry.HealthCheck{Path: "/healthz", IntervalSeconds: 1, TimeoutSeconds: 1, HealthyThreshold: 1}
	in := registrytest.Endpoint("svc", "1.0.0", "a")
	in.Endpoint = srv.URL + "/base"
	svc.Instances = []registry.Instance{in}
	_, err := b.reg.RegisterService(context.Background(), registrytest.Admin, svc)
	require.NoError(t, err)

	f := &health.Function{Checker: b.checker, RunFor: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	res, err := f.Handle(context.Background(), events.EventBridgeEvent{ID: "e1", DetailType: "Scheduled Event"})
	require.NoError(t, err)
	require.InDelta(t, 0.3, res.RanForSeconds, 0.001)
	require.Equal(t, registry.StatusHealthy, b.status(t, "svc").Status, "the round checked the instance")

	// Five seconds before the deadline are kept for the reply: an
	// invocation with less runs one round and returns.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f.RunFor = time.Hour
	res, err = f.Handle(ctx, events.EventBridgeEvent{ID: "e2"})
	require.NoError(t, err)
	require.Zero(t, res.RanForSeconds)
}
