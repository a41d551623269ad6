package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestInvokeWritesEMFMetrics runs the functions' handlers as their mains
// build them (an EMF sink flushed after each invocation): the step worker's
// model call, tokens and step duration, and the API's request by route, are
// EMF lines in the invocation's log that follow the specification.
func TestInvokeWritesEMFMetrics(t *testing.T) {
	t.Parallel()
	db := pgclustertest.Database(t)
	event := sampleWith(t, "aistep-sqs.json", "openai/gpt-4.1-mini", "scripted/gpt-4.1-mini")
	te := newTestEnv(map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted", "AIFLOW_AI_SCRIPT": "../../examples/scripts/scripted.yaml",
		"AIFLOW_SFN_ENDPOINT": sfnAPIServer(t).URL, "DATABASE_URL": db,
	})
	code := run(context.Background(), []string{"invoke", "aistep", "--event", event}, te.env())
	require.Equal(t, 0, code, te.stderr.String())

	lines := metricstest.ParseEMF(t, te.stderr.Bytes())
	for _, l := range lines {
		require.Equal(t, metrics.Namespace, l.Namespace)
	}
	calls := metricstest.Find(lines, "aiflow_model_calls_total", map[string]string{"provider": "scripted", "model": "gpt-4.1-mini", "outcome": "ok"})
	require.Len(t, calls, 1, te.stderr.String())
	require.Equal(t, [][]string{{"provider", "model", "outcome"}}, calls[0].Dimensions)
	require.Equal(t, 1.0, calls[0].Value("aiflow_model_calls_total"))
	require.Equal(t, "Count", calls[0].Units["aiflow_model_calls_total"])
	for _, direction := range []string{"input", "output"} {
		tokens := metricstest.Find(lines, "aiflow_model_tokens_total", map[string]string{"model": "gpt-4.1-mini", "direction": direction})
		require.Len(t, tokens, 1, direction)
		require.Positive(t, tokens[0].Value("aiflow_model_tokens_total"), direction)
	}
	step := metricstest.Find(lines, "aiflow_step_duration_seconds", map[string]string{"kind": "ai", "outcome": "ok"})
	require.Len(t, step, 1)
	require.Len(t, step[0].Root["aiflow_step_duration_seconds"], 1, "one step, one value")
	require.Equal(t, "Seconds", step[0].Units["aiflow_step_duration_seconds"])

	te = newTestEnv(map[string]string{"DATABASE_URL": db, "AIFLOW_AUTH_MODE": "authorizer", "AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:1"})
	code = run(context.Background(), []string{"invoke", "api", "--event", "../../events/api-healthz.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	lines = metricstest.ParseEMF(t, te.stderr.Bytes())
	req := metricstest.Find(lines, "aiflow_api_requests_total", map[string]string{"route": "GET /healthz", "status": "200"})
	require.Len(t, req, 1, te.stderr.String())
	require.Equal(t, 1.0, req[0].Value("aiflow_api_requests_total"))
}
