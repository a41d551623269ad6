package serviceworker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
	"github.com/aiflow/aiflow/internal/registrystore"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/serviceworker"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

func lookupOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// sfnStub answers the Step Functions API's task callbacks and records
// them by target.
type sfnStub struct {
	mu    sync.Mutex
	calls map[string][]string
}

func (s *sfnStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.calls[r.Header.Get("X-Amz-Target")] = append(s.calls[r.Header.Get("X-Amz-Target")], string(b))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	fmt.Fprint(w, "{}")
}

func (s *sfnStub) of(target string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls["AWSStepFunctions."+target]
}

// threatIntel answers the reputation of any address, and says who called.
func threatIntel(t *testing.T) (*httptest.Server, func() http.Header) {
	t.Helper()
	var (
		mu   sync.Mutex
		last http.Header
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ip": "203.0.113.7", "score": 91, "verdict": "malicious"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() http.Header { mu.Lock(); defer mu.Unlock(); return last }
}

// TestWorkerRunsAServiceStep builds the worker as functions/servicestep
// does, from variables, over a registry in PostgreSQL, and runs a step
// message: the service is called with the step's idempotency key and its
// secret, and the task succeeds with the answer.
func TestWorkerRunsAServiceStep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgclustertest.Database(t)
	srv, lastHeaders := threatIntel(t)

	reg := registryOn(t, dsn)
	svc := registrytest.Unchecked("threat-intel", "1.2.0")
	svc.Instances = []registry.Instance{{ID: "ti-1", Service: "threat-intel", Version: "1.2.0", Endpoint: srv.URL, Internal: true}}
	_, err := reg.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)

	stub := &sfnStub{calls: map[string][]string{}}
	sfnSrv := httptest.NewServer(stub)
	t.Cleanup(sfnSrv.Close)
	cfg, err := config.LoadServiceStep(lookupOf(map[string]string{"DATABASE_URL": dsn, "AIFLOW_SFN_ENDPOINT": sfnSrv.URL}))
	require.NoError(t, err)
	w, err := serviceworker.New(ctx, cfg, stepworker.Options{LogWriter: io.Discard, SecretsLookupFunc: lookupOf(map[string]string{"AIFLOW_THREAT_INTEL_API_KEY": "k-123"})})
	require.NoError(t, err)
	t.Cleanup(w.Close)

	msg := map[string]any{
		"version": 1, "taskToken": "tok-1",
		"execution": map[string]any{"id": "arn:aws:states:eu-west-1:123456789012:execution:incident-enrichment:run-1", "name": "run-1"},
		"step":      map[string]any{"id": "reputation", "kind": "service", "attempt": 0, "enteredTime": time.Now().UTC().Format(time.RFC3339Nano)},
		"spec":      map[string]any{"service": "threat-intel", "version": "^1.2", "method": "GET", "timeout_seconds": 30},
		"data":      map[string]any{"path": "/v1/ip/203.0.113.7/reputation"},
	}
	raw, err := json.Marshal(msg)
	require.NoError(t, err)
	resp, err := w.Runtime.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(raw)}}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Empty(t, stub.of("SendTaskFailure"))
	ok := stub.of("SendTaskSuccess")
	require.Len(t, ok, 1)
	var in struct{ TaskToken, Output string }
	require.NoError(t, json.Unmarshal([]byte(ok[0]), &in))
	require.Equal(t, "tok-1", in.TaskToken)
	require.JSONEq(t, `{"output": {"ip": "203.0.113.7", "score": 91, "verdict": "malicious"}}`, in.Output)

	var m steps.Message
	require.NoError(t, json.Unmarshal(raw, &m))
	h := lastHeaders()
	require.Equal(t, m.IdempotencyKey(), h.Get("Idempotency-Key"))
	require.Equal(t, "k-123", h.Get("X-Api-Key"), "the secret the service names, from the worker's secret store")
}

func registryOn(t *testing.T, dsn string) *registry.Registry {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ev, err := eventstore.Open(context.Background(), pool, eventstore.Options{})
	require.NoError(t, err)
	reg, err := registry.New(registry.Config{Store: registrystore.New(ev)})
	require.NoError(t, err)
	return reg
}

func TestNewNeedsTheDatabase(t *testing.T) {
	t.Parallel()
	_, err := serviceworker.New(t.Context(), config.ServiceStep{}, stepworker.Options{LogWriter: io.Discard})
	require.ErrorContains(t, err, "it reads the service registry from the database, and none is configured (DATABASE_URL)")
}

// TestHandlerEjectsThroughTheRegistry: a breaker that opens in the
// handler NewHandler builds takes the instance out in the registry.
func TestHandlerEjectsThroughTheRegistry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(srv.Close)
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	svc := registrytest.Unchecked("threat-intel", "1.2.0")
	svc.Auth = nil
	svc.Instances = []registry.Instance{{ID: "ti-1", Service: "threat-intel", Version: "1.2.0", Endpoint: srv.URL, Internal: true}}
	_, err = reg.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)
	h, err := serviceworker.NewHandler(serviceworker.Params{Registry: reg, Config: config.ServiceStep{ServiceCalls: config.ServiceCalls{MaxAttempts: 1, BreakerFailures: 1, BreakerCoolDown: time.Minute}}})
	require.NoError(t, err)
	var m steps.Message
	require.NoError(t, json.Unmarshal([]byte(`{"taskToken": "t", "execution": {"id": "e"}, "step": {"id": "s", "kind": "service"},
		"spec": {"service": "threat-intel", "method": "GET"}, "data": {"path": "/v1/ip/203.0.113.7/reputation"}}`), &m))
	_, err = h.Run(ctx, m)
	var f *steps.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, steps.CodeServiceHTTP5xx, f.Name)
	got, err := reg.Get(ctx, "threat-intel")
	require.NoError(t, err)
	require.Equal(t, registry.StatusUnhealthy, got[0].Instances[0].Status)
	require.Contains(t, got[0].Instances[0].StatusReason, "circuit breaker opened")

	_, err = serviceworker.NewHandler(serviceworker.Params{})
	require.ErrorContains(t, err, "no registry")
}
