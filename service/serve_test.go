package service_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/service"
)

var testKey = []byte("the service tests' key of 32 b..")

// bundle is the real API handler with the registry on its memory store,
// served on loopback, and tokens to call it.
type bundle struct {
	api   *httptest.Server
	reg   *registry.Registry
	admin string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	// No endpoint check: the instances live on loopback, which the
	// egress guard refuses for anything but internal instances; the
	// guard is not what these tests are about.
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	api := httptest.NewServer(httpapi.New(httpapi.Options{Authenticator: verifier, Registry: reg}))
	t.Cleanup(api.Close)
	return &bundle{api: api, reg: reg, admin: token(t, "admin-user", auth.RoleAdmin)}
}

func token(t *testing.T, subject string, role auth.Role) string {
	t.Helper()
	tok, err := auth.MintDevToken(testKey, subject, []auth.Role{role}, time.Hour)
	require.NoError(t, err)
	return tok
}

func threatIntel() service.Definition {
	return service.Definition{
		Name: "threat-intel", Version: "1.2.0", Capabilities: []string{"ip.reputation"},
		Operations: []service.Operation{{Name: "work", Method: "GET", Path: "/work"}},
	}
}

// instances returns the instances of threat-intel 1.2.0 as the registry
// reads them.
func (b *bundle) instances(t *testing.T) []registry.Instance {
	t.Helper()
	svcs, err := b.reg.Get(t.Context(), "threat-intel")
	require.NoError(t, err)
	require.Len(t, svcs, 1)
	return svcs[0].Instances
}

// TestServeLifecycle: the instance registers with the service's own
// token, heartbeats, and on cancellation drains, lets the request in
// flight finish, and deregisters.
func TestServeLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "http://" + ln.Addr().String()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- service.Serve(ctx, service.Options{
			APIURL: b.api.URL, Token: token(t, auth.ServiceSubject("threat-intel"), auth.RoleService),
			Service: threatIntel(), Instance: service.Instance{ID: "ti-1", Zone: "zone-a", Weight: 10},
			Handler: mux, Listener: ln, HeartbeatInterval: 10 * time.Millisecond, DrainTimeout: time.Minute,
			Signals: []os.Signal{},
		})
	}()

	// Registered, healthy (no health check: alive while it beats), on the
	// listener's address; and beating.
	var first registry.Instance
	require.Eventually(t, func() bool {
		svcs, err := b.reg.Get(t.Context(), "threat-intel")
		if err != nil || len(svcs) == 0 || len(svcs[0].Instances) == 0 {
			return false
		}
		first = svcs[0].Instances[0]
		return true
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, "ti-1", first.ID)
	require.Equal(t, endpoint, first.Endpoint)
	require.Equal(t, registry.StatusHealthy, first.Status)
	require.Equal(t, "zone-a", first.Zone)
	require.Eventually(t, func() bool {
		return b.instances(t)[0].HeartbeatAt.After(first.HeartbeatAt)
	}, 10*time.Second, 5*time.Millisecond, "a heartbeat is seen")

	// The health check's path is answered by Serve.
	resp, err := http.Get(endpoint + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"status":"ok"}`, string(body))

	// A request in flight, then the end.
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get(endpoint + "/work")
		if err != nil {
			answered <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered <- string(body)
	}()
	<-started
	cancel()
	require.Eventually(t, func() bool {
		ins := b.instances(t)
		return len(ins) == 1 && ins[0].Status == registry.StatusDraining
	}, 10*time.Second, 5*time.Millisecond, "the instance drains first")
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}
	close(release)
	require.Equal(t, "done", <-answered, "the request in flight finishes")
	require.NoError(t, <-done)
	require.Empty(t, b.instances(t), "deregistered")

	// The history tells the same story.
	events, err := b.reg.History(t.Context(), "threat-intel", 0, 100)
	require.NoError(t, err)
	var types []registry.EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	require.Equal(t, []registry.EventType{registry.EventServiceRegistered, registry.EventInstanceRegistered,
		registry.EventInstanceDraining, registry.EventInstanceDeregistered}, types)
	require.Equal(t, auth.ServiceSubject("threat-intel"), events[3].Actor)
}

// TestServeDrainTimeout: a request that outlives DrainTimeout is cut,
// the instance is deregistered all the same, and Serve says so.
func TestServeDrainTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- service.Serve(ctx, service.Options{
			APIURL: b.api.URL, Token: b.admin, Service: threatIntel(), Handler: mux, Listener: ln,
			DrainTimeout: 50 * time.Millisecond, Signals: []os.Signal{},
		})
	}()
	require.Eventually(t, func() bool {
		svcs, err := b.reg.Get(t.Context(), "threat-intel")
		return err == nil && len(svcs[0].Instances) == 1
	}, 10*time.Second, 5*time.Millisecond)
	id := b.instances(t)[0].ID
	require.NotEmpty(t, id, "the registry chose the id")
	go func() {
		if resp, err := http.Get("http://" + ln.Addr().String() + "/work"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	err = <-done
	require.ErrorContains(t, err, "waiting for the requests in flight")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Empty(t, b.instances(t))
}

// TestServeRegistersAgain: an instance the registry lost (deregistered
// by hand) registers again at its next heartbeat.
func TestServeRegistersAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- service.Serve(ctx, service.Options{
			APIURL: b.api.URL, Token: b.admin, Service: threatIntel(), Instance: service.Instance{ID: "ti-7"},
			Handler: http.NotFoundHandler(), HeartbeatInterval: 10 * time.Millisecond, Signals: []os.Signal{},
		})
	}()
	require.Eventually(t, func() bool {
		svcs, err := b.reg.Get(t.Context(), "threat-intel")
		return err == nil && len(svcs[0].Instances) == 1
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, b.reg.DeregisterService(t.Context(), registry.Caller{Subject: "admin-user", Admin: true}, "threat-intel", ""))
	require.Eventually(t, func() bool {
		svcs, err := b.reg.Get(t.Context(), "threat-intel")
		return err == nil && len(svcs[0].Instances) == 1 && svcs[0].Instances[0].ID == "ti-7"
	}, 10*time.Second, 5*time.Millisecond, "the service and the instance are registered again")
	cancel()
	require.NoError(t, <-done)
}

// TestServeRefused: a registration the API refuses ends Serve at once
// with the API's problem, and the listener is closed.
func TestServeRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = service.Serve(t.Context(), service.Options{
		APIURL: b.api.URL, Token: token(t, auth.ServiceSubject("incident-desk"), auth.RoleService),
		Service: threatIntel(), Handler: http.NotFoundHandler(), Listener: ln, Signals: []os.Signal{},
	})
	var ae *service.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusForbidden, ae.Status)
	require.Contains(t, ae.Detail, `may not manage service "threat-intel"`)
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed")

	err = service.Serve(t.Context(), service.Options{APIURL: b.api.URL, Token: b.admin, Service: threatIntel(),
		Handler: http.NotFoundHandler(), Addr: ":0", Signals: []os.Signal{}})
	require.ErrorContains(t, err, "the instance's address is not known: set Instance.Endpoint")

	err = service.Serve(t.Context(), service.Options{APIURL: b.api.URL})
	require.ErrorContains(t, err, "the options lack [Service.Name Service.Version Handler]")
	require.False(t, errors.Is(err, context.Canceled))
}
