package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/telemetry/tracing/tracingtest"
)

// TestDevTracesAnExecutionFromTheAPIToTheModel is issue 17's test of
// traces: aiflow dev, exporting to a real OTLP/HTTP receiver on loopback,
// runs document-summary through its API with the scripted provider, and
// one trace holds it all: the API request, the StartExecution call, the
// execution's and its states' spans, each task message's consumer span,
// the model calls with their GenAI attributes, and the callbacks.
func TestDevTracesAnExecutionFromTheAPIToTheModel(t *testing.T) {
	t.Parallel()
	rcv := tracingtest.NewReceiver(t)
	bin := buildAiflow(t)
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(t), ".aiflow")
	p, base := startDev(t, bin, dataDir, "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.URL, "OTEL_SERVICE_NAME=aiflow-dev-test",
		"OTEL_TRACES_EXPORTER=", "OTEL_SDK_DISABLED=", "OTEL_TRACES_SAMPLER=")
	token, err := os.ReadFile(filepath.Join(dataDir, "dev-token"))
	require.NoError(t, err)
	call := func(method, path string, body []byte, want int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
		return raw
	}

	input, err := os.ReadFile(filepath.Join(repoRoot, "examples", "mocks", "document-summary.input.json"))
	require.NoError(t, err)
	var started struct {
		ID  string `json:"id"`
		ARN string `json:"arn"`
	}
	require.NoError(t, json.Unmarshal(call(http.MethodPost, "/v1/workflows/document-summary/executions", []byte(`{"input": `+string(input)+`}`), http.StatusCreated), &started))
	var exec struct {
		Status  string `json:"status"`
		Error   any    `json:"error"`
		TraceID string `json:"trace_id"`
	}
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal(call(http.MethodGet, "/v1/executions/"+started.ID, nil, http.StatusOK), &exec))
		return exec.Status != "RUNNING"
	}, 2*time.Minute, 200*time.Millisecond)
	require.Equal(t, "SUCCEEDED", exec.Status, "error: %v", exec.Error)
	// Ctrl-C: aiflow dev exports the spans it holds before it exits.
	p.interrupt(t)
	require.Empty(t, rcv.Refused())

	spans := rcv.Spans()
	var api *tracingtest.Span
	for i, s := range spans {
		if s.Name == "POST /v1/workflows/{name}/executions" {
			require.Nil(t, api, "one request started one execution")
			api = &spans[i]
		}
	}
	require.NotNil(t, api, "the API request's span; got %s", names(spans))
	require.Equal(t, "aiflow-dev-test", api.Service)
	require.Empty(t, api.ParentID(), "the request is the trace's root")
	require.Equal(t, api.TraceID(), exec.TraceID, "the API names the execution's trace (the console links it)")
	status, _ := api.Attr("http.response.status_code")
	require.Equal(t, "201", status)

	// Everything below is in the request's trace.
	trace := map[string][]tracingtest.Span{}
	byID := map[string]tracingtest.Span{}
	for _, s := range spans {
		if s.TraceID() == api.TraceID() {
			trace[s.Name] = append(trace[s.Name], s)
			byID[s.SpanID()] = s
		}
	}
	one := func(name string) tracingtest.Span {
		t.Helper()
		require.Len(t, trace[name], 1, "%s in %s", name, names(spans))
		return trace[name][0]
	}
	start := one("StepFunctions.StartExecution")
	require.Equal(t, api.SpanID(), start.ParentID())
	execution := one("execution document-summary")
	require.Equal(t, start.SpanID(), execution.ParentID(), "the execution is the child of the trace header StartExecution sent")
	arn, _ := execution.Attr("aiflow.execution.arn")
	require.Equal(t, started.ARN, arn)
	reduce := one("state reduce")
	require.Equal(t, execution.SpanID(), reduce.ParentID())
	require.LessOrEqual(t, execution.StartTimeUnixNano, reduce.StartTimeUnixNano)
	require.GreaterOrEqual(t, execution.EndTimeUnixNano, reduce.EndTimeUnixNano)
	chunks := one("state summarize_chunks")
	require.Equal(t, execution.SpanID(), chunks.ParentID())
	require.Len(t, trace["state summarize_chunk"], 3, "a state span per map iteration")
	for _, c := range trace["state summarize_chunk"] {
		require.Equal(t, chunks.SpanID(), c.ParentID(), "a map's iterations are inside it")
	}

	var processes []tracingtest.Span
	for name, ss := range trace {
		if strings.HasPrefix(name, "process") {
			processes = append(processes, ss...)
		}
	}
	require.Len(t, processes, 4, "three chunks and the reduce, one message each")
	for _, pr := range processes {
		require.Equal(t, start.SpanID(), pr.ParentID(), "a message's span is the child of its AWSTraceHeader")
		ex, _ := pr.Attr("aiflow.execution.arn")
		require.Equal(t, arn, ex)
	}

	var chats int
	for name, ss := range trace {
		if !strings.HasPrefix(name, "chat ") {
			continue
		}
		for _, c := range ss {
			chats++
			parent, ok := byID[c.ParentID()]
			require.True(t, ok, "a model call's parent is in the trace")
			require.True(t, strings.HasPrefix(parent.Name, "process"), "a model call's parent is its message's span, not %s", parent.Name)
			for _, key := range []string{"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.response.finish_reasons"} {
				_, ok := c.Attr(key)
				require.True(t, ok, "%s has %s", c.Name, key)
			}
			op, _ := c.Attr("gen_ai.operation.name")
			require.Equal(t, "chat", op)
		}
	}
	require.GreaterOrEqual(t, chats, 4)
	mergeChat := one("chat claude-sonnet-4")
	model, _ := mergeChat.Attr("gen_ai.request.model")
	require.Equal(t, "claude-sonnet-4", model)

	successes := trace["StepFunctions.SendTaskSuccess"]
	require.Len(t, successes, 4, "and back: each step's callback")
	for _, s := range successes {
		require.True(t, strings.HasPrefix(byID[s.ParentID()].Name, "process"))
	}
}

// names lists the spans' names, for failure messages.
func names(spans []tracingtest.Span) string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return strings.Join(out, ", ")
}
