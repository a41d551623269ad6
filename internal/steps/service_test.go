package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
	"github.com/aiflow/aiflow/internal/registry/router"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
)

// desk is a test service on loopback: it records the requests it gets
// and answers with what the test sets.
type desk struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []deskRequest
	// answer answers the n-th request (from 1); nil answers 200 with the
	// incident.
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

type deskRequest struct {
	Method, Path, IdempotencyKey, Authorization, ContentType, Body string
}

func newDesk(t testing.TB) *desk {
	t.Helper()
	d := &desk{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.got = append(d.got, deskRequest{r.Method, r.URL.RequestURI(), r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		n, answer := len(d.got), d.answer
		d.mu.Unlock()
		if answer != nil {
			answer(n, w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"note_id": "n-1", "incident_id": "7", "created_at": "2026-12-06T08:00:00Z"}`)
			return
		}
		fmt.Fprint(w, `{"id": "7", "status": "firing", "notes": 0, "escalated": false}`)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *desk) setAnswer(f func(n int, w http.ResponseWriter, r *http.Request)) {
	d.mu.Lock()
	d.answer = f
	d.mu.Unlock()
}

func (d *desk) requests() []deskRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type": "about:blank", "title": %q, "status": %d, "detail": %q}`, http.StatusText(status), status, detail)
}

// deskService is the incident-desk service's registration with the
// given instances.
func deskService(ins ...registry.Instance) registry.Service {
	idem := true
	for i := range ins {
		ins[i].Service, ins[i].Version = "incident-desk", "1.0.0"
	}
	return registry.Service{
		Name: "incident-desk", Version: "1.0.0", Capabilities: []string{"incident.notes", "incident.status"},
		Auth: &registry.Auth{Type: "bearer", Secret: "desk-token"},
		Operations: []registry.Operation{
			{Name: "get_incident", Method: "GET", Path: "/v1/incidents/{id}",
				ResponseSchema: json.RawMessage(`{"type": "object", "required": ["id", "status"], "properties": {"id": {"type": "string"}, "status": {"enum": ["firing", "acknowledged", "resolved"]}}}`)},
			{Name: "add_note", Method: "POST", Path: "/v1/incidents/{id}/notes", TimeoutSeconds: 1,
				RequestSchema:  json.RawMessage(`{"type": "object", "required": ["title", "text"], "properties": {"title": {"type": "string"}, "text": {"type": "string"}}}`),
				ResponseSchema: json.RawMessage(`{"type": "object", "required": ["note_id"]}`)},
			{Name: "set_status", Method: "PUT", Path: "/v1/incidents/{id}/status", Idempotent: &idem},
			{Name: "slow", Method: "GET", Path: "/v1/slow", TimeoutSeconds: 1},
		},
		Instances: ins,
	}
}

func endpoint(id string, d *desk, internal bool) registry.Instance {
	return registry.Instance{ID: id, Endpoint: d.srv.URL, Internal: internal}
}

type serviceBundle struct {
	reg     *registry.Registry
	router  *router.Router
	handler *steps.Service
	details *steps.MemoryDetails
	mu      sync.Mutex
	sleeps  []time.Duration
}

// setupService registers svc on a registry in memory and builds the
// handler over the real router and egress guard; the handler's sleeps are
// recorded, not slept, and its jitter is always one half.
func setupService(t testing.TB, svc registry.Service, tweak func(*steps.ServiceConfig, *router.Config)) *serviceBundle {
	t.Helper()
	b := &serviceBundle{details: &steps.MemoryDetails{}}
	var err error
	b.reg, err = registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	_, err = b.reg.RegisterService(context.Background(), registrytest.Admin, svc)
	require.NoError(t, err)
	rcfg := router.Config{Source: b.reg, OnEjectFunc: func(ctx context.Context, e router.Ejection) {
		_, _ = b.reg.Eject(ctx, e.Service, e.InstanceID, e.Reason, e.For)
	}}
	cfg := steps.ServiceConfig{
		Clients: egress.New(egress.Config{}),
		Secrets: secrets.Env{LookupEnvFunc: func(k string) (string, bool) {
			if k == "DESK_TOKEN" {
				return "s3cret", true
			}
			return "", false
		}},
		Details:  b.details,
		RandFunc: func() float64 { return 0.5 },
		SleepFunc: func(_ context.Context, d time.Duration) error {
			b.mu.Lock()
			b.sleeps = append(b.sleeps, d)
			b.mu.Unlock()
			return nil
		},
	}
	if tweak != nil {
		tweak(&cfg, &rcfg)
	}
	b.router, err = router.New(rcfg)
	require.NoError(t, err)
	cfg.Router = b.router
	b.handler = steps.NewService(cfg)
	return b
}

func (b *serviceBundle) slept() []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sleeps)
}

func serviceMessage(t testing.TB, spec, data any) steps.Message {
	t.Helper()
	var m steps.Message
	require.NoError(t, json.Unmarshal([]byte(body(t, "token-1", "service", spec, data)), &m))
	return m
}

var (
	getIncident = map[string]any{"service": "incident-desk", "method": "GET", "timeout_seconds": 30}
	addNote     = map[string]any{"service": "incident-desk", "method": "POST", "timeout_seconds": 30}
	note        = map[string]any{"path": "/v1/incidents/7/notes", "body": map[string]any{"title": "enriched", "text": "203.0.113.7 is malicious"}}
)

func requireFailure(t *testing.T, err error, name, cause string) *steps.Failure {
	t.Helper()
	var f *steps.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, name, f.Name, f.Cause)
	require.Contains(t, f.Cause, cause)
	return f
}

func TestServiceStepCallsTheService(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	b := setupService(t, deskService(endpoint("a", d, true)), nil)

	m := serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"})
	res, err := b.handler.Run(t.Context(), m)
	require.NoError(t, err)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.JSONEq(t, `{"output": {"id": "7", "status": "firing", "notes": 0, "escalated": false}}`, string(out))

	pm := serviceMessage(t, addNote, note)
	res, err = b.handler.Run(t.Context(), pm)
	require.NoError(t, err)
	require.JSONEq(t, `{"note_id": "n-1", "incident_id": "7", "created_at": "2026-12-06T08:00:00Z"}`, string(res.Output.(json.RawMessage)))
	// The same message again (a redelivery): the same key.
	_, err = b.handler.Run(t.Context(), pm)
	require.NoError(t, err)

	got := d.requests()
	require.Len(t, got, 3)
	require.Equal(t, deskRequest{Method: "GET", Path: "/v1/incidents/7", IdempotencyKey: m.IdempotencyKey(), Authorization: "Bearer s3cret"}, got[0])
	require.Equal(t, "POST", got[1].Method)
	require.Equal(t, "/v1/incidents/7/notes", got[1].Path)
	require.Equal(t, "application/json", got[1].ContentType)
	require.JSONEq(t, `{"title": "enriched", "text": "203.0.113.7 is malicious"}`, got[1].Body)
	require.Equal(t, pm.IdempotencyKey(), got[1].IdempotencyKey)
	require.Equal(t, got[1].IdempotencyKey, got[2].IdempotencyKey, "a redelivery carries the same key")
	require.NotEqual(t, got[0].IdempotencyKey, got[1].IdempotencyKey)

	ds := b.details.Details(execID)
	require.Len(t, ds, 3)
	require.Equal(t, steps.DetailServiceCalled, ds[0].Type)
	call := ds[0].Data.(steps.ServiceCall)
	call.LatencyMS = 0
	require.Equal(t, steps.ServiceCall{Step: "summarize", Service: "incident-desk", Version: "1.0.0", Instance: "a", Endpoint: d.srv.URL,
		Operation: "get_incident", Method: "GET", Attempts: 1, Status: 200}, call)
}

func TestServiceStepByCapabilityAndEmptyAnswers(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	d.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	b := setupService(t, deskService(endpoint("a", d, true)), nil)
	res, err := b.handler.Run(t.Context(), serviceMessage(t,
		map[string]any{"capability": "incident.status", "method": "PUT"},
		map[string]any{"path": "/v1/incidents/7/status", "body": map[string]any{"status": "resolved"}}))
	require.NoError(t, err)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.JSONEq(t, `{"output": null}`, string(out))
}

func TestServiceStepFailsOverToTheNextInstance(t *testing.T) {
	t.Parallel()
	dead, live := newDesk(t), newDesk(t)
	dead.srv.Close() // connection refused: the request was never sent
	b := setupService(t, deskService(endpoint("a", dead, true), endpoint("b", live, true)), nil)

	m := serviceMessage(t, addNote, note)
	res, err := b.handler.Run(t.Context(), m)
	require.NoError(t, err, "a POST fails over when it was not sent")
	require.NotNil(t, res.Output)
	require.Len(t, live.requests(), 1)
	require.Equal(t, m.IdempotencyKey(), live.requests()[0].IdempotencyKey)
	call := b.details.Details(execID)[0].Data.(steps.ServiceCall)
	require.Equal(t, 2, call.Attempts)
	require.Equal(t, 1, call.Failovers)
	require.Equal(t, "b", call.Instance)
	require.Empty(t, b.slept(), "a failover to another instance does not wait")
}

func TestServiceStepRetriesOnlyIdempotentOperations(t *testing.T) {
	t.Parallel()
	t.Run("a POST that failed with 503 is not sent again", func(t *testing.T) {
		t.Parallel()
		d, other := newDesk(t), newDesk(t)
		d.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { problem(w, 503, "overloaded") })
		b := setupService(t, deskService(endpoint("a", d, true), endpoint("b", other, true)), nil)
		_, err := b.handler.Run(t.Context(), serviceMessage(t, addNote, note))
		requireFailure(t, err, steps.CodeServiceHTTP5xx, "incident-desk 1.0.0 (instance a) POST /v1/incidents/7/notes answered 503 Service Unavailable: overloaded; the request may have reached the service, and POST /v1/incidents/7/notes (operation add_note) is not idempotent, so it was not sent again")
		require.Len(t, d.requests(), 1)
		require.Empty(t, other.requests(), "no failover either")
		require.Empty(t, b.slept())
	})
	t.Run("a GET is retried with backoff and full jitter", func(t *testing.T) {
		t.Parallel()
		d := newDesk(t)
		d.setAnswer(func(n int, w http.ResponseWriter, _ *http.Request) {
			if n < 3 {
				problem(w, 503, "overloaded")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id": "7", "status": "acknowledged"}`)
		})
		b := setupService(t, deskService(endpoint("a", d, true)), nil)
		res, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
		require.NoError(t, err)
		require.JSONEq(t, `{"id": "7", "status": "acknowledged"}`, string(res.Output.(json.RawMessage)))
		require.Len(t, d.requests(), 3)
		require.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, b.slept(), "half of 200ms, then half of 400ms")
		call := b.details.Details(execID)[0].Data.(steps.ServiceCall)
		require.Equal(t, 3, call.Attempts)
		require.Zero(t, call.Failovers)
	})
	t.Run("a GET that keeps failing ends with Service.HTTP5xx after MaxAttempts", func(t *testing.T) {
		t.Parallel()
		d := newDesk(t)
		d.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { problem(w, 500, "boom") })
		b := setupService(t, deskService(endpoint("a", d, true)), func(c *steps.ServiceConfig, _ *router.Config) { c.MaxAttempts = 4 })
		_, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
		requireFailure(t, err, steps.CodeServiceHTTP5xx, "answered 500 Internal Server Error: boom (after 4 attempts, 0 on other instances)")
		require.Len(t, d.requests(), 4)
		require.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, b.slept())
	})
	t.Run("429 with Retry-After is waited for, up to the cap", func(t *testing.T) {
		t.Parallel()
		d := newDesk(t)
		d.setAnswer(func(n int, w http.ResponseWriter, _ *http.Request) {
			switch n {
			case 1:
				w.Header().Set("Retry-After", "2")
				problem(w, 429, "slow down")
			case 2:
				w.Header().Set("Retry-After", "60")
				problem(w, 429, "slow down more")
			}
		})
		b := setupService(t, deskService(endpoint("a", d, true)), nil)
		_, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
		requireFailure(t, err, steps.CodeServiceHTTP4xx, "answered 429 Too Many Requests: slow down more; the service asked to retry after 1m0s, more than the 10s this worker waits")
		require.Len(t, d.requests(), 2)
		require.Equal(t, []time.Duration{2 * time.Second}, b.slept())
		require.Equal(t, router.Closed, b.router.Breaker("incident-desk", "1.0.0", "a"), "a 429 is no failure of the instance")
	})
}

func TestServiceStepNamesTheServicesAnswers(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	b := setupService(t, deskService(endpoint("a", d, true)), func(_ *steps.ServiceConfig, r *router.Config) { r.FailureThreshold = 1 })
	for _, c := range []struct {
		name   string
		answer func(n int, w http.ResponseWriter, r *http.Request)
		spec   map[string]any
		data   map[string]any
		want   string
		cause  string
	}{
		{"4xx with the problem's detail", func(_ int, w http.ResponseWriter, _ *http.Request) { problem(w, 404, "no incident 7") }, getIncident, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceHTTP4xx, "incident-desk 1.0.0 (instance a) GET /v1/incidents/7 answered 404 Not Found: no incident 7"},
		{"4xx without a problem", func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(400); fmt.Fprint(w, "bad id") }, getIncident, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceHTTP4xx, "answered 400 Bad Request: bad id"},
		{"a body that does not fit the response schema", func(_ int, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"id": "7", "status": "on fire"}`) }, getIncident, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceBadResponse, "answered 200 with a body that does not fit the operation's response schema: at /status: value must be one of"},
		{"a body that is not JSON", func(_ int, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `<html>`) }, getIncident, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceBadResponse, "answered 200 with a body that is not JSON (<html>)"},
		{"a body that does not fit the step's output_schema", nil,
			map[string]any{"service": "incident-desk", "method": "GET", "output_schema": map[string]any{"type": "object", "required": []string{"severity"}}}, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceBadResponse, "does not fit the step's output_schema: at /: missing property 'severity'"},
		{"a body that does not fit the request schema", nil, addNote, map[string]any{"path": "/v1/incidents/7/notes", "body": map[string]any{"title": 7}},
			steps.CodeServiceInvalidRequest, `the body of step "summarize" does not fit the request schema of incident-desk 1.0.0 operation add_note: at /: missing property 'text'; at /title: got number, want string`},
		{"no body where the request schema wants one", nil, addNote, map[string]any{"path": "/v1/incidents/7/notes"},
			steps.CodeServiceInvalidRequest, "at /: got null, want object"},
		{"no operation", nil, map[string]any{"service": "incident-desk", "method": "DELETE"}, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceNoOperation, "service incident-desk 1.0.0 has no operation DELETE /v1/incidents/7 (it has: "},
		{"no such service", nil, map[string]any{"service": "nope", "method": "GET"}, map[string]any{"path": "/"},
			steps.CodeServiceUnavailable, `no service named "nope" is registered`},
		{"no version satisfying the constraint", nil, map[string]any{"service": "incident-desk", "version": "^2", "method": "GET"}, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeServiceUnavailable, `no version of service "incident-desk" satisfies "^2" (registered: 1.0.0)`},
		{"a constraint that is not one", nil, map[string]any{"service": "incident-desk", "version": "^^2", "method": "GET"}, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeMalformedMessage, `"^^2" is not a version constraint`},
		{"a spec naming nothing", nil, map[string]any{"method": "GET"}, map[string]any{"path": "/v1/incidents/7"},
			steps.CodeMalformedMessage, "spec.method and one of spec.service and spec.capability are required"},
		{"a path that is not one", nil, getIncident, map[string]any{"path": "v1/incidents/7"},
			steps.CodeMalformedMessage, `the path of service step "summarize", "v1/incidents/7", does not start with /`},
	} {
		d.setAnswer(c.answer)
		before := len(d.requests())
		_, err := b.handler.Run(t.Context(), serviceMessage(t, c.spec, c.data))
		requireFailure(t, err, c.want, c.cause)
		if c.want == steps.CodeServiceInvalidRequest {
			require.Len(t, d.requests(), before, "%s: a refused body is not sent", c.name)
		}
	}
	require.Equal(t, router.Closed, b.router.Breaker("incident-desk", "1.0.0", "a"), "answers, even bad ones, do not open the breaker")
}

func TestServiceStepTimeouts(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	d.setAnswer(func(_ int, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	b := setupService(t, deskService(endpoint("a", d, true)), nil)

	// The operation's timeout (1 s) of a POST: not sent again.
	_, err := b.handler.Run(t.Context(), serviceMessage(t, addNote, note))
	requireFailure(t, err, steps.CodeServiceTimeout, "incident-desk 1.0.0 (instance a) POST /v1/incidents/7/notes took longer than the operation's timeout of 1s; the request may have reached the service")
	require.Len(t, d.requests(), 1)

	// The step's own deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = b.handler.Run(ctx, serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
	requireFailure(t, err, steps.CodeServiceTimeout, "GET /v1/incidents/7: the step ran out of time during the call")
	require.Len(t, d.requests(), 2)
	require.Equal(t, router.Closed, b.router.Breaker("incident-desk", "1.0.0", "a"), "the step's own deadline does not judge the instance")
}

func TestServiceStepOpensTheCircuit(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	d.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { problem(w, 502, "upstream gone") })
	b := setupService(t, deskService(endpoint("a", d, true)), func(_ *steps.ServiceConfig, r *router.Config) {
		r.FailureThreshold, r.CoolDown = 2, time.Hour
	})
	for range 2 {
		_, err := b.handler.Run(t.Context(), serviceMessage(t, addNote, note))
		requireFailure(t, err, steps.CodeServiceHTTP5xx, "answered 502 Bad Gateway: upstream gone")
	}
	_, err := b.handler.Run(t.Context(), serviceMessage(t, addNote, note))
	requireFailure(t, err, steps.CodeServiceCircuitOpen, "the circuit breaker of every healthy instance of incident-desk 1.0.0 is open (a)")
	require.Len(t, d.requests(), 2)

	// The breaker's opening ejected the instance in the registry.
	got, err := b.reg.Get(t.Context(), "incident-desk")
	require.NoError(t, err)
	require.Equal(t, registry.StatusUnhealthy, got[0].Instances[0].Status)
	require.Contains(t, got[0].Instances[0].StatusReason, "circuit breaker opened")
	b.router.Invalidate()
	_, err = b.handler.Run(t.Context(), serviceMessage(t, addNote, note))
	requireFailure(t, err, steps.CodeServiceUnavailable, `service "incident-desk" has no healthy instance (1.0.0: a unhealthy)`)
}

func TestServiceStepSendsNoNewCallsToADrainingInstance(t *testing.T) {
	t.Parallel()
	a, c := newDesk(t), newDesk(t)
	b := setupService(t, deskService(endpoint("a", a, true), endpoint("c", c, true)), nil)
	_, err := b.reg.Drain(t.Context(), registrytest.ServiceCaller("incident-desk"), "incident-desk", "a")
	require.NoError(t, err)
	b.router.Invalidate()
	for range 4 {
		_, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
		require.NoError(t, err)
	}
	require.Empty(t, a.requests())
	require.Len(t, c.requests(), 4)
}

func TestServiceStepEgressRefusesAnInstanceThatIsNotInternal(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	b := setupService(t, deskService(endpoint("a", d, false)), nil)
	_, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
	f := requireFailure(t, err, steps.CodeServiceForbidden, "incident-desk 1.0.0 (instance a) GET /v1/incidents/7: egress refused")
	require.Contains(t, f.Cause, "loopback")
	require.Empty(t, d.requests())
	require.Equal(t, router.Closed, b.router.Breaker("incident-desk", "1.0.0", "a"), "a refusal is not the instance's failure")
}

// functions is a Lambda stand-in that answers like the desk.
type functions struct {
	mu  sync.Mutex
	got []events.APIGatewayV2HTTPRequest
	// answer is the function's payload; nil answers a 201.
	answer func(ev events.APIGatewayV2HTTPRequest) (sfn.InvokeResult, error)
}

func (f *functions) Invoke(_ context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(p.Payload, &ev); err != nil {
		return sfn.InvokeResult{}, err
	}
	if p.FunctionName != "arn:aws:lambda:eu-west-1:123456789012:function:desk" {
		return sfn.InvokeResult{}, fmt.Errorf("no function %s", p.FunctionName)
	}
	f.mu.Lock()
	f.got = append(f.got, ev)
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		return answer(ev)
	}
	resp, _ := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"content-type": "application/json"}, Body: `{"note_id": "n-9"}`})
	return sfn.InvokeResult{StatusCode: 200, Payload: resp}, nil
}

func TestServiceStepInvokesLambdaInstances(t *testing.T) {
	t.Parallel()
	fns := &functions{}
	b := setupService(t, deskService(registry.Instance{ID: "fn", FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:desk"}),
		func(c *steps.ServiceConfig, _ *router.Config) { c.Functions = fns })
	m := serviceMessage(t, addNote, map[string]any{"path": "/v1/incidents/7%2F8/notes?notify=1", "body": map[string]any{"title": "t", "text": "x"}})
	res, err := b.handler.Run(t.Context(), m)
	require.NoError(t, err)
	require.JSONEq(t, `{"note_id": "n-9"}`, string(res.Output.(json.RawMessage)))
	require.Len(t, fns.got, 1)
	ev := fns.got[0]
	require.Equal(t, "2.0", ev.Version)
	require.Equal(t, "$default", ev.RouteKey)
	require.Equal(t, "/v1/incidents/7%2F8/notes", ev.RawPath)
	require.Equal(t, "notify=1", ev.RawQueryString)
	require.Equal(t, map[string]string{"notify": "1"}, ev.QueryStringParameters)
	require.Equal(t, map[string]string{"id": "7/8"}, ev.PathParameters)
	require.Equal(t, "POST", ev.RequestContext.HTTP.Method)
	require.Equal(t, m.IdempotencyKey(), ev.Headers["idempotency-key"])
	require.Equal(t, "Bearer s3cret", ev.Headers["authorization"])
	require.Equal(t, "application/json", ev.Headers["content-type"])
	require.JSONEq(t, `{"title": "t", "text": "x"}`, ev.Body)

	// A function error is the service failing: a POST is not sent again.
	fns.answer = func(events.APIGatewayV2HTTPRequest) (sfn.InvokeResult, error) {
		return sfn.InvokeResult{StatusCode: 200, FunctionError: "Unhandled", Payload: []byte(`{"errorType": "Panic", "errorMessage": "nil map"}`)}, nil
	}
	_, err = b.handler.Run(t.Context(), m)
	requireFailure(t, err, steps.CodeServiceHTTP5xx, "answered 502 Bad Gateway")

	// A payload without statusCode is a 200 with the payload as its body.
	fns.answer = func(events.APIGatewayV2HTTPRequest) (sfn.InvokeResult, error) {
		return sfn.InvokeResult{StatusCode: 200, Payload: []byte(`{"id": "7", "status": "resolved"}`)}, nil
	}
	res, err = b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
	require.NoError(t, err)
	require.JSONEq(t, `{"id": "7", "status": "resolved"}`, string(res.Output.(json.RawMessage)))

	// Without an invoker, the instance cannot be called.
	b2 := setupService(t, deskService(registry.Instance{ID: "fn", FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:desk"}), nil)
	_, err = b2.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
	requireFailure(t, err, steps.CodeServiceUnavailable, "this worker cannot invoke Lambda functions")
	require.Equal(t, router.Closed, b2.router.Breaker("incident-desk", "1.0.0", "fn"), "an instance this worker cannot call is not judged")
}

func TestServiceStepNeedsItsSecret(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	b := setupService(t, deskService(endpoint("a", d, true)), func(c *steps.ServiceConfig, _ *router.Config) {
		c.Secrets = secrets.Env{LookupEnvFunc: func(string) (string, bool) { return "", false }}
	})
	_, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
	requireFailure(t, err, steps.CodeServiceUnavailable, `reading the secret "desk-token" that service incident-desk authenticates with: secret "desk-token" not found (environment variable DESK_TOKEN)`)
	require.Empty(t, d.requests())
}

func TestServiceStepThroughTheRuntime(t *testing.T) {
	t.Parallel()
	d := newDesk(t)
	b := setupService(t, deskService(endpoint("a", d, true)), nil)
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, map[string]steps.Handler{"service": b.handler}, nil)
	// No timeout_seconds: the sample message entered its step long ago.
	spec := map[string]any{"service": "incident-desk", "method": "GET"}
	_, err := rt.Handle(t.Context(), event(body(t, "tok", "service", spec, map[string]any{"path": "/v1/incidents/7"})))
	require.NoError(t, err)
	require.Empty(t, cb.Failures())
	out := cb.Successes()
	require.Len(t, out, 1)
	require.JSONEq(t, `{"output": {"id": "7", "status": "firing", "notes": 0, "escalated": false}}`, out[0].Output)
}

func TestServiceCodesAreStepCodes(t *testing.T) {
	t.Parallel()
	for _, c := range steps.ServiceCodes {
		require.Contains(t, steps.Codes, c)
		require.True(t, strings.HasPrefix(c, "Service."))
	}
	require.Len(t, steps.ServiceCodes, 9)
}

func TestServiceStepFailsOverAnIdempotentCallAtOnce(t *testing.T) {
	t.Parallel()
	failing, live := newDesk(t), newDesk(t)
	failing.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { problem(w, 503, "overloaded") })
	b := setupService(t, deskService(endpoint("a", failing, true), endpoint("b", live, true)), nil)
	res, err := b.handler.Run(t.Context(), serviceMessage(t, getIncident, map[string]any{"path": "/v1/incidents/7"}))
	require.NoError(t, err)
	require.NotNil(t, res.Output)
	require.Len(t, failing.requests(), 1)
	require.Len(t, live.requests(), 1)
	require.Equal(t, failing.requests()[0].IdempotencyKey, live.requests()[0].IdempotencyKey, "one key for every attempt of the step")
	require.Empty(t, b.slept(), "the next instance is tried at once")
	call := b.details.Details(execID)[0].Data.(steps.ServiceCall)
	require.Equal(t, 2, call.Attempts)
	require.Equal(t, 1, call.Failovers)
}

func TestServiceStepNeverResendsAPostThatWasSent(t *testing.T) {
	t.Parallel()
	cut, other := newDesk(t), newDesk(t)
	cut.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) {
		// The request arrived; the connection drops before any answer.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	b := setupService(t, deskService(endpoint("a", cut, true), endpoint("b", other, true)), nil)
	_, err := b.handler.Run(t.Context(), serviceMessage(t, addNote, note))
	requireFailure(t, err, steps.CodeServiceUnavailable, "incident-desk 1.0.0 (instance a) POST /v1/incidents/7/notes: ")
	requireFailure(t, err, steps.CodeServiceUnavailable, "; the request may have reached the service, and POST /v1/incidents/7/notes (operation add_note) is not idempotent, so it was not sent again")
	require.Empty(t, other.requests(), "no failover after the request was sent")
	require.NotEmpty(t, cut.requests())
}
