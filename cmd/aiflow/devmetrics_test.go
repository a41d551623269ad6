package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// requireMetricsMoved scrapes the /metrics of the aiflow dev at base after
// an execution of workflow succeeded with model calls, started over the
// API: the counters that run moves have moved.
func requireMetricsMoved(t *testing.T, base, workflow string) {
	t.Helper()
	var f metricstest.Families
	// The store counts a commit after it is written, so the scrape may
	// come just before the last one is counted.
	require.Eventually(t, func() bool {
		f = metricstest.Scrape(t, base+"/metrics")
		return f.Value("aiflow_executions_finished_total", map[string]string{"workflow": workflow, "status": "succeeded"}) >= 1
	}, 30*time.Second, 50*time.Millisecond, "an execution of %s counted as succeeded", workflow)

	var version string
	for _, m := range f["aiflow_executions_finished_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["workflow"] == workflow && labels["status"] == "succeeded" {
			version = labels["version"]
		}
	}
	_, err := strconv.Atoi(version)
	require.NoError(t, err, "the version label is the workflow's version, got %q", version)
	require.GreaterOrEqual(t, f.Value("aiflow_executions_started_total", map[string]string{"workflow": workflow, "version": version}), 1.0)
	require.Positive(t, f.Value("aiflow_state_duration_seconds", map[string]string{"kind": "Task"}))
	require.Positive(t, f.Value("aiflow_step_duration_seconds", map[string]string{"kind": "ai", "outcome": "ok"}))
	require.Positive(t, f.Value("aiflow_model_calls_total", map[string]string{"outcome": "ok"}))
	require.Positive(t, f.Value("aiflow_model_tokens_total", map[string]string{"direction": "input"}))
	require.Positive(t, f.Value("aiflow_model_tokens_total", map[string]string{"direction": "output"}))
	require.Positive(t, f.Value("aiflow_api_requests_total", map[string]string{"route": "POST /v1/workflows/{name}/executions"}))
	require.Positive(t, f.Value("aiflow_db_pool_connections", map[string]string{"pool": "dev", "state": "max"}))
	require.Contains(t, f, "aiflow_queue_messages", "the engine's queues are read on scrape")
}

// requireEngineMetrics scrapes the /metrics of the aiflow engine at
// endpoint after TestEngineServesTheStepFunctionsAPI's executions: two of
// greeter succeeded (a bare engine knows no versions), its states were
// timed, and the message sent to ai-steps waits in its queue.
func requireEngineMetrics(t *testing.T, endpoint string) {
	t.Helper()
	var f metricstest.Families
	require.Eventually(t, func() bool {
		f = metricstest.Scrape(t, endpoint+"/metrics")
		return f.Value("aiflow_executions_finished_total", map[string]string{"workflow": "greeter", "version": "", "status": "succeeded"}) == 2
	}, 30*time.Second, 50*time.Millisecond, "greeter's two executions counted as succeeded")
	require.Equal(t, 2.0, f.Value("aiflow_executions_started_total", map[string]string{"workflow": "greeter"}))
	require.Equal(t, 1.0, f.Value("aiflow_executions_finished_total", map[string]string{"workflow": "Lambda", "status": "failed"}))
	require.GreaterOrEqual(t, f.Value("aiflow_state_duration_seconds", map[string]string{"kind": "Wait"}), 1.0)
	require.Equal(t, 1.0, f.Value("aiflow_queue_messages", map[string]string{"queue": "ai-steps", "state": "visible"}))
	require.Positive(t, f.Value("aiflow_queue_oldest_message_age_seconds", map[string]string{"queue": "ai-steps"}))
}

// BenchmarkMetricsStoreCommit measures what the metrics add to each of the
// engine's commits (counting the events the engine hands over with it):
// the memory store bare, then decorated. The batch is a task state's entry
// with a 4 KB input.
func BenchmarkMetricsStoreCommit(b *testing.B) {
	input, err := json.Marshal(map[string]string{"text": strings.Repeat("x", 4096)})
	require.NoError(b, err)
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	events := []sfn.HistoryEvent{
		{Type: "TaskStateEntered", Timestamp: now, ID: 2, StateEntered: &sfn.StateEnteredDetails{Name: "classify", Input: string(input)}},
		{Type: "TaskScheduled", Timestamp: now, ID: 3},
	}
	data, err := json.Marshal(map[string]any{"events": events})
	require.NoError(b, err)
	for _, tc := range []struct {
		name  string
		store func() engine.Store
	}{
		{"bare", func() engine.Store { return engine.NewMemoryStore() }},
		{"metrics", func() engine.Store { return newProcessMetrics(nil, nil).store(engine.NewMemoryStore()) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.store()
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				name := strconv.Itoa(i)
				rec := engine.ExecutionRecord{ARN: "arn:aws:states:us-east-1:123456789012:execution:bench:" + name, Name: name,
					StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:bench", Status: sfn.StatusRunning}
				if err := s.Commit(ctx, []engine.Commit{{Execution: rec, Seq: 1, Type: "TaskScheduled", Data: data, Events: events}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
