package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/metrics/prommetrics"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// serve serves p's /metrics on loopback and returns its URL.
func serve(t *testing.T, p *prommetrics.Prometheus) string {
	t.Helper()
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

func TestDefsAreWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, d := range metrics.Defs() {
		require.Regexp(t, `^aiflow_[a-z_]+$`, d.Name)
		require.False(t, seen[d.Name], "%s is defined once", d.Name)
		seen[d.Name] = true
		require.NotEmpty(t, d.Help, d.Name)
		require.NotEmpty(t, d.Unit, d.Name)
		switch d.Kind {
		case metrics.Counter:
			require.True(t, strings.HasSuffix(d.Name, "_total"), "counter %s ends in _total", d.Name)
		case metrics.Histogram:
			require.Equal(t, metrics.UnitSeconds, d.Unit, d.Name)
			require.True(t, strings.HasSuffix(d.Name, "_seconds"), d.Name)
		case metrics.Gauge:
		default:
			require.Fail(t, "unknown kind", d.Name)
		}
	}
}

func TestPrometheusServesWhatTheRecorderRecords(t *testing.T) {
	t.Parallel()
	p := prommetrics.NewPrometheus()
	r := metrics.NewRecorder(p)
	r.ExecutionStarted("triage", "3")
	r.ExecutionFinished("triage", "3", metrics.StatusSucceeded)
	r.StateFinished("Task", 1500*time.Millisecond)
	r.StepFinished("ai", metrics.OutcomeOK, time.Second)
	r.ModelCalled(metrics.ModelCall{Provider: "anthropic", Model: "claude-haiku-4-5", InputTokens: 120, OutputTokens: 30, CostUSD: 0.0003, Outcome: metrics.OutcomeOK})
	r.MCPCalled("support", "lookup_customer", "MCP.Timeout")
	r.ServiceCalled("geoip", "lookup", metrics.OutcomeOK)
	r.BreakerChanged("mcp", "support", metrics.BreakerOpen)
	r.ObserveRequest("POST /v1/workflows/{name}/executions", 202, 20*time.Millisecond)
	r.ObserveRequest("", 404, time.Millisecond)
	var nilRecorder *metrics.Recorder
	nilRecorder.ExecutionStarted("ignored", "1") // records nothing, and does not panic

	f := metricstest.Scrape(t, serve(t, p))
	require.Equal(t, 1.0, f.Value("aiflow_executions_started_total", map[string]string{"workflow": "triage", "version": "3"}))
	require.Equal(t, 1.0, f.Value("aiflow_executions_finished_total", map[string]string{"workflow": "triage", "version": "3", "status": "succeeded"}))
	require.Equal(t, 1.0, f.Value("aiflow_state_duration_seconds", map[string]string{"kind": "Task"}))
	require.Equal(t, 1.0, f.Value("aiflow_step_duration_seconds", map[string]string{"kind": "ai", "outcome": "ok"}))
	require.Equal(t, 1.0, f.Value("aiflow_model_calls_total", map[string]string{"provider": "anthropic", "model": "claude-haiku-4-5", "outcome": "ok"}))
	require.Equal(t, 120.0, f.Value("aiflow_model_tokens_total", map[string]string{"model": "claude-haiku-4-5", "direction": "input"}))
	require.Equal(t, 30.0, f.Value("aiflow_model_tokens_total", map[string]string{"model": "claude-haiku-4-5", "direction": "output"}))
	require.InDelta(t, 0.0003, f.Value("aiflow_model_cost_usd_total", map[string]string{"model": "claude-haiku-4-5"}), 1e-12)
	require.Equal(t, 1.0, f.Value("aiflow_mcp_calls_total", map[string]string{"server": "support", "tool": "lookup_customer", "outcome": "MCP.Timeout"}))
	require.Equal(t, 1.0, f.Value("aiflow_service_calls_total", map[string]string{"service": "geoip", "operation": "lookup", "outcome": "ok"}))
	require.Equal(t, 1.0, f.Value("aiflow_circuit_breaker_transitions_total", map[string]string{"component": "mcp", "target": "support", "state": "open"}))
	require.Equal(t, 1.0, f.Value("aiflow_api_requests_total", map[string]string{"route": "POST /v1/workflows/{name}/executions", "status": "202"}))
	require.Equal(t, 1.0, f.Value("aiflow_api_requests_total", map[string]string{"route": "unmatched", "status": "404"}))
	require.Equal(t, 2.0, f.Value("aiflow_api_request_duration_seconds", nil))
	require.Contains(t, f, "go_goroutines", "the Go runtime's metrics are served too")
	require.Zero(t, f.Value("aiflow_executions_started_total", map[string]string{"workflow": "ignored"}))
}

func TestQueueGaugesAreReadOnScrape(t *testing.T) {
	t.Parallel()
	p := prommetrics.NewPrometheus()
	var mu sync.Mutex
	depths := []prommetrics.QueueDepth{{Queue: "aiflow-ai", Visible: 3, InFlight: 2, Delayed: 1, OldestAge: 90 * time.Second}}
	require.NoError(t, p.WatchQueues(func() []prommetrics.QueueDepth {
		mu.Lock()
		defer mu.Unlock()
		return depths
	}))
	url := serve(t, p)

	f := metricstest.Scrape(t, url)
	q := func(state string) map[string]string { return map[string]string{"queue": "aiflow-ai", "state": state} }
	require.Equal(t, 3.0, f.Value("aiflow_queue_messages", q("visible")))
	require.Equal(t, 2.0, f.Value("aiflow_queue_messages", q("in_flight")))
	require.Equal(t, 1.0, f.Value("aiflow_queue_messages", q("delayed")))
	require.Equal(t, 90.0, f.Value("aiflow_queue_oldest_message_age_seconds", map[string]string{"queue": "aiflow-ai"}))

	mu.Lock()
	depths = []prommetrics.QueueDepth{{Queue: "aiflow-ai"}}
	mu.Unlock()
	f = metricstest.Scrape(t, url)
	require.Zero(t, f.Value("aiflow_queue_messages", q("visible")), "each scrape reads the queues again")
	require.Zero(t, f.Value("aiflow_queue_oldest_message_age_seconds", nil))
}

func TestPoolCollectorReadsThePoolOnScrape(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(t.Context(), pgclustertest.PackageDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	p := prommetrics.NewPrometheus()
	require.NoError(t, p.WatchPool("api", pool))
	require.Error(t, p.WatchPool("api", pool), "a name is watched once")
	url := serve(t, p)
	conns := func(f metricstest.Families, state string) float64 {
		return f.Value("aiflow_db_pool_connections", map[string]string{"pool": "api", "state": state})
	}

	conn, err := pool.Acquire(t.Context())
	require.NoError(t, err)
	f := metricstest.Scrape(t, url)
	require.Equal(t, 1.0, conns(f, "acquired"))
	require.Equal(t, 1.0, conns(f, "total"))
	require.Equal(t, float64(pool.Config().MaxConns), conns(f, "max"))
	require.Equal(t, 1.0, f.Value("aiflow_db_pool_acquires_total", map[string]string{"pool": "api"}))
	require.GreaterOrEqual(t, f.Value("aiflow_db_pool_acquire_wait_seconds_total", map[string]string{"pool": "api"}), 0.0)

	conn.Release()
	f = metricstest.Scrape(t, url)
	require.Zero(t, conns(f, "acquired"))
	require.Equal(t, 1.0, conns(f, "idle"))
}

func TestEMFLinesFollowTheSpecification(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	e, err := metrics.NewEMF(metrics.EMFConfig{Writer: &out, NowFunc: func() time.Time { return at }})
	require.NoError(t, err)
	r := metrics.NewRecorder(e)
	r.ModelCalled(metrics.ModelCall{Provider: "openai", Model: "gpt-5-mini", InputTokens: 100, OutputTokens: 10, CostUSD: 0.001, Outcome: metrics.OutcomeOK})
	r.ModelCalled(metrics.ModelCall{Provider: "openai", Model: "gpt-5-mini", InputTokens: 50, OutputTokens: 5, Outcome: metrics.OutcomeOK})
	r.ExecutionStarted("triage", "") // an empty label is no dimension value CloudWatch takes
	for i := range 150 {
		r.StepFinished("ai", metrics.OutcomeOK, time.Duration(i)*time.Millisecond)
	}
	require.NoError(t, e.Flush())

	lines := metricstest.ParseEMF(t, out.Bytes())
	for _, l := range lines {
		require.Equal(t, metrics.Namespace, l.Namespace)
		require.Equal(t, at.UnixMilli(), l.Timestamp)
	}
	calls := metricstest.Find(lines, "aiflow_model_calls_total", map[string]string{"provider": "openai", "model": "gpt-5-mini", "outcome": "ok"})
	require.Len(t, calls, 1)
	require.Equal(t, [][]string{{"provider", "model", "outcome"}}, calls[0].Dimensions)
	require.Equal(t, 2.0, calls[0].Value("aiflow_model_calls_total"), "a counter is summed over the invocation")
	require.Equal(t, "Count", calls[0].Units["aiflow_model_calls_total"])
	in := metricstest.Find(lines, "aiflow_model_tokens_total", map[string]string{"direction": "input"})
	require.Len(t, in, 1)
	require.Equal(t, 150.0, in[0].Value("aiflow_model_tokens_total"))
	cost := metricstest.Find(lines, "aiflow_model_cost_usd_total", nil)
	require.Len(t, cost, 1)
	require.InDelta(t, 0.001, cost[0].Value("aiflow_model_cost_usd_total"), 1e-12)
	require.Equal(t, "None", cost[0].Units["aiflow_model_cost_usd_total"])
	started := metricstest.Find(lines, "aiflow_executions_started_total", map[string]string{"workflow": "triage", "version": metrics.EmptyDimension})
	require.Len(t, started, 1)
	steps := metricstest.Find(lines, "aiflow_step_duration_seconds", map[string]string{"kind": "ai"})
	require.Len(t, steps, 2, "150 values take two lines of at most 100")
	require.Equal(t, "Seconds", steps[0].Units["aiflow_step_duration_seconds"])
	require.Len(t, steps[0].Root["aiflow_step_duration_seconds"], 100)
	require.Len(t, steps[1].Root["aiflow_step_duration_seconds"], 50)

	out.Reset()
	require.NoError(t, e.Flush())
	require.Empty(t, out.String(), "a flush forgets what it wrote")
}

func TestFlushingWritesOnceAfterEachInvocation(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	e, err := metrics.NewEMF(metrics.EMFConfig{Writer: &out})
	require.NoError(t, err)
	r := metrics.NewRecorder(e)
	boom := errors.New("boom")
	h := metrics.Flushing(e, func(_ context.Context, n int) (int, error) {
		r.ServiceCalled("geoip", "lookup", metrics.OutcomeOK)
		require.Empty(t, out.String(), "nothing is written before the handler returns")
		if n < 0 {
			return 0, boom
		}
		return n * 2, nil
	})
	got, err := h(t.Context(), 21)
	require.NoError(t, err)
	require.Equal(t, 42, got)
	require.Len(t, metricstest.ParseEMF(t, out.Bytes()), 1)

	out.Reset()
	_, err = h(t.Context(), -1)
	require.ErrorIs(t, err, boom)
	lines := metricstest.ParseEMF(t, out.Bytes())
	require.Len(t, lines, 1, "a failed invocation's metrics are written too")
	require.Equal(t, 1.0, lines[0].Value("aiflow_service_calls_total"), "each invocation writes its own counts")

	_, err = metrics.NewEMF(metrics.EMFConfig{})
	require.Error(t, err)
}

func TestHistoryCountsExecutionsAndTimesStates(t *testing.T) {
	t.Parallel()
	p := prommetrics.NewPrometheus()
	var asked []string
	h := metrics.NewHistory(metrics.HistoryConfig{Recorder: metrics.NewRecorder(p),
		WorkflowFunc: func(_ context.Context, arn string) (metrics.Workflow, error) {
			asked = append(asked, arn)
			if strings.HasSuffix(arn, ":broken") {
				return metrics.Workflow{}, errors.New("no such workflow")
			}
			return metrics.Workflow{Name: "triage", Version: "7"}, nil
		}})
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-triage"
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ctx := t.Context()
	h.Observe(ctx, sm, sm+":a", []metrics.HistoryEvent{
		{Type: "ExecutionStarted", Timestamp: at(0)},
		{Type: "PassStateEntered", Timestamp: at(0), StateName: "aiflow-start"},
		{Type: "PassStateExited", Timestamp: at(2), StateName: "aiflow-start"},
		{Type: "TaskStateEntered", Timestamp: at(2), StateName: "classify"},
		{Type: "TaskScheduled", Timestamp: at(3)},
	})
	// The task's end comes in a later commit.
	h.Observe(ctx, sm, sm+":a", []metrics.HistoryEvent{
		{Type: "TaskSucceeded", Timestamp: at(1500)},
		{Type: "TaskStateExited", Timestamp: at(1502), StateName: "classify"},
		{Type: "ExecutionSucceeded", Timestamp: at(1503)},
	})
	h.Observe(ctx, sm, sm+":b", []metrics.HistoryEvent{{Type: "ExecutionStarted", Timestamp: at(10)}})
	h.Observe(ctx, sm, sm+":b", []metrics.HistoryEvent{{Type: "ExecutionAborted", Timestamp: at(20)}})
	h.Observe(ctx, sm+":broken", sm+":broken:c", []metrics.HistoryEvent{{Type: "ExecutionStarted", Timestamp: at(10)}, {Type: "ExecutionTimedOut", Timestamp: at(20)}})

	f := metricstest.Scrape(t, serve(t, p))
	wf := func(status string) map[string]string {
		return map[string]string{"workflow": "triage", "version": "7", "status": status}
	}
	require.Equal(t, 2.0, f.Value("aiflow_executions_started_total", map[string]string{"workflow": "triage", "version": "7"}))
	require.Equal(t, 1.0, f.Value("aiflow_executions_finished_total", wf("succeeded")))
	require.Equal(t, 1.0, f.Value("aiflow_executions_finished_total", wf("aborted")))
	require.Equal(t, 1.0, f.Value("aiflow_executions_finished_total",
		map[string]string{"workflow": "aiflow-triage:broken", "version": "", "status": "timed_out"}),
		"a workflow that cannot be named is its state machine's")
	require.Equal(t, 1.0, f.Value("aiflow_state_duration_seconds", map[string]string{"kind": "Task"}))
	require.Equal(t, 1.0, f.Value("aiflow_state_duration_seconds", map[string]string{"kind": "Pass"}))
	require.Equal(t, []string{sm, sm + ":broken"}, asked, "the workflow of a state machine is asked once while it is fresh")

	fam := f["aiflow_state_duration_seconds"]
	for _, m := range fam.GetMetric() {
		if m.GetLabel()[0].GetValue() == "Task" {
			require.InDelta(t, 1.5, m.GetHistogram().GetSampleSum(), 1e-9)
		}
	}
}
