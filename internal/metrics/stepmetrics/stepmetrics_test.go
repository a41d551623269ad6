package stepmetrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/metrics/prommetrics"
	"github.com/aiflow/aiflow/internal/metrics/stepmetrics"
	"github.com/aiflow/aiflow/internal/registry/router"
	"github.com/aiflow/aiflow/internal/steps"
)

func setup(t *testing.T) (*metrics.Recorder, func() metricstest.Families) {
	t.Helper()
	p := prommetrics.NewPrometheus()
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return metrics.NewRecorder(p), func() metricstest.Families { return metricstest.Scrape(t, srv.URL) }
}

// failingDetails fails every record.
type failingDetails struct{ steps.MemoryDetails }

func (*failingDetails) RecordDetail(context.Context, steps.Detail) error {
	return errors.New("the database is away")
}

func TestDetailsCountWhatIsRecorded(t *testing.T) {
	t.Parallel()
	r, scrape := setup(t)
	mem := &steps.MemoryDetails{}
	d := &stepmetrics.Details{Next: mem, Recorder: r}
	ctx := t.Context()
	require.NoError(t, d.RecordDetail(ctx, steps.Detail{ExecutionID: "x", Type: steps.DetailModelCalled, Data: steps.ModelCall{
		Provider: "scripted", Model: "triage", InputTokens: 40, OutputTokens: 8, CostUSD: 0.5}}))
	require.NoError(t, d.RecordDetail(ctx, steps.Detail{ExecutionID: "x", Type: steps.DetailModelCalled, Data: steps.ModelCall{
		Provider: "scripted", Model: "triage", Error: "AI.Throttled"}}))
	require.NoError(t, d.RecordDetail(ctx, steps.Detail{ExecutionID: "x", Type: "MCPToolCalled", Data: steps.MCPCall{Server: "support", Tool: "lookup"}}))
	require.NoError(t, d.RecordDetail(ctx, steps.Detail{ExecutionID: "x", Type: "ServiceCalled", Data: steps.ServiceCall{
		Service: "geoip", Operation: "lookup", Error: "Service.Unavailable"}}))
	require.NoError(t, d.RecordDetail(ctx, steps.Detail{ExecutionID: "x", Type: "ServiceCalled", Data: steps.ServiceCall{Capability: "ip.reputation"}}))
	require.NoError(t, d.RecordDetail(ctx, steps.Detail{ExecutionID: "x", Type: steps.DetailStepFinished, Data: steps.StepSummary{}}))
	u, err := d.ExecutionUsage(ctx, "x")
	require.NoError(t, err)
	require.Equal(t, ai.Usage{InputTokens: 40, OutputTokens: 8}, u, "usage is the recorder's")

	failing := &stepmetrics.Details{Next: &failingDetails{}, Recorder: r}
	require.Error(t, failing.RecordDetail(ctx, steps.Detail{Type: steps.DetailModelCalled, Data: steps.ModelCall{Provider: "scripted", Model: "lost"}}))

	f := scrape()
	require.Equal(t, 1.0, f.Value("aiflow_model_calls_total", map[string]string{"provider": "scripted", "model": "triage", "outcome": "ok"}))
	require.Equal(t, 1.0, f.Value("aiflow_model_calls_total", map[string]string{"model": "triage", "outcome": "AI.Throttled"}))
	require.Equal(t, 40.0, f.Value("aiflow_model_tokens_total", map[string]string{"model": "triage", "direction": "input"}))
	require.Equal(t, 0.5, f.Value("aiflow_model_cost_usd_total", map[string]string{"model": "triage"}))
	require.Zero(t, f.Value("aiflow_model_calls_total", map[string]string{"model": "lost"}), "a detail not recorded is not counted (it is recorded again)")
	require.Equal(t, 1.0, f.Value("aiflow_mcp_calls_total", map[string]string{"server": "support", "tool": "lookup", "outcome": "ok"}))
	require.Equal(t, 1.0, f.Value("aiflow_service_calls_total", map[string]string{"service": "geoip", "operation": "lookup", "outcome": "Service.Unavailable"}))
	require.Equal(t, 1.0, f.Value("aiflow_service_calls_total", map[string]string{"service": "ip.reputation", "outcome": "ok"}))
}

func TestHandlersTimeEachKind(t *testing.T) {
	t.Parallel()
	r, scrape := setup(t)
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	hs := stepmetrics.Handlers(map[string]steps.Handler{
		"ai": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{Output: "ok"}, nil
		}),
		"mcp": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{}, steps.Failf("MCP.Timeout", "the tool took too long")
		}),
		"service": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{}, errors.New("a bug")
		}),
	}, r, clock)
	res, err := hs["ai"].Run(t.Context(), steps.Message{})
	require.NoError(t, err)
	require.Equal(t, "ok", res.Output)
	_, err = hs["mcp"].Run(t.Context(), steps.Message{})
	require.Error(t, err)
	_, err = hs["service"].Run(t.Context(), steps.Message{})
	require.Error(t, err)

	f := scrape()
	require.Equal(t, 1.0, f.Value("aiflow_step_duration_seconds", map[string]string{"kind": "ai", "outcome": "ok"}))
	require.Equal(t, 1.0, f.Value("aiflow_step_duration_seconds", map[string]string{"kind": "mcp", "outcome": "MCP.Timeout"}))
	require.Equal(t, 1.0, f.Value("aiflow_step_duration_seconds", map[string]string{"kind": "service", "outcome": steps.CodeInternal}))
	for _, m := range f["aiflow_step_duration_seconds"].GetMetric() {
		require.Equal(t, 1.0, m.GetHistogram().GetSampleSum(), "each run took one tick of the clock")
	}
}

func TestBreakerChangesAreCounted(t *testing.T) {
	t.Parallel()
	r, scrape := setup(t)
	var passed []mcpclient.Event
	o := &stepmetrics.MCPObserver{Recorder: r, Next: mcpclient.ObserverFunc(func(e mcpclient.Event) { passed = append(passed, e) })}
	o.Observe(mcpclient.Event{Type: mcpclient.EventBreaker, Server: "support", Message: "closed -> open"})
	o.Observe(mcpclient.Event{Type: mcpclient.EventBreaker, Server: "support", Message: "open -> half-open"})
	o.Observe(mcpclient.Event{Type: mcpclient.EventConnected, Server: "support"})
	require.Len(t, passed, 3, "every event goes on")
	on := stepmetrics.ServiceBreakers(r)
	on(router.BreakerChange{Service: "geoip", InstanceID: "a", State: router.Open})
	on(router.BreakerChange{Service: "geoip", InstanceID: "a", State: router.Closed})

	f := scrape()
	b := func(component, target, state string) float64 {
		return f.Value("aiflow_circuit_breaker_transitions_total", map[string]string{"component": component, "target": target, "state": state})
	}
	require.Equal(t, 1.0, b("mcp", "support", "open"))
	require.Equal(t, 1.0, b("mcp", "support", "half_open"))
	require.Equal(t, 1.0, b("service", "geoip", "open"))
	require.Equal(t, 1.0, b("service", "geoip", "closed"))
	require.Equal(t, 4.0, f.Value("aiflow_circuit_breaker_transitions_total", nil))
}
