package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// TestRequestsAreTraced: each request is a server span named by its
// route, the child of the caller's trace context, with its status; its
// log line carries the span's IDs.
func TestRequestsAreTraced(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	srv, logs := tracedServer(t, tp)

	resp, _ := get(t, srv.URL+"/healthz", http.Header{"Traceparent": {"00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, srv.URL+"/v1/workflows/x", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = get(t, srv.URL+"/nowhere", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	spans := rec.Ended()
	require.Len(t, spans, 3)
	health := spans[0]
	require.Equal(t, "GET /healthz", health.Name())
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", health.SpanContext().TraceID().String())
	require.Equal(t, "53995c3f42cd8ad8", health.Parent().SpanID().String())
	require.Contains(t, health.Attributes(), attribute.Int("http.response.status_code", 200))
	require.Contains(t, health.Attributes(), attribute.String("http.route", "/healthz"))
	require.Equal(t, "GET /v1/workflows/{name}", spans[1].Name())
	require.Contains(t, spans[1].Attributes(), attribute.Int("http.response.status_code", 401))
	require.Equal(t, codes.Unset, spans[1].Status().Code, "a 4xx is the caller's error")
	require.Equal(t, "GET", spans[2].Name())

	var line map[string]any
	require.NoError(t, json.Unmarshal(bytes.SplitN(logs.Bytes(), []byte("\n"), 2)[0], &line))
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", line["trace_id"])
	require.Equal(t, health.SpanContext().SpanID().String(), line["span_id"])
}

// TestRequestsWithoutTracingKeepTheCallersTraceContext: with a provider
// that records nothing, no span is made, and the request's context, its
// log line included, holds the caller's trace context as it came.
func TestRequestsWithoutTracingKeepTheCallersTraceContext(t *testing.T) {
	t.Parallel()
	srv, logs := tracedServer(t, noop.NewTracerProvider())

	resp, _ := get(t, srv.URL+"/healthz", http.Header{"Traceparent": {"00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, srv.URL+"/healthz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	lines := bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var line map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &line))
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", line["trace_id"])
	require.Equal(t, "53995c3f42cd8ad8", line["span_id"])
	line = nil
	require.NoError(t, json.Unmarshal(lines[1], &line))
	require.NotContains(t, line, "trace_id")
}

// tracedServer serves an API whose spans go to tp, with W3C trace context
// propagation, and whose JSON log lines go to the buffer returned.
func tracedServer(t *testing.T, tp trace.TracerProvider) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	logs := new(bytes.Buffer)
	api := httpapi.New(httpapi.Options{Version: "v-test", TracerProvider: tp, Propagator: propagation.TraceContext{},
		Logger: telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: logs})})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv, logs
}
