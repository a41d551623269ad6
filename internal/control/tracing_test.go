package control_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// tracedRuns numbers the runs of TestStartCarriesTheTraceContext.
var tracedRuns atomic.Int64

// TestStartCarriesTheTraceContext: Start calls the engine in a client span
// and hands that span's context to the execution as its X-Ray trace
// header, which the engine carries onto its task messages.
func TestStartCarriesTheTraceContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	svc := b.service(control.Options{TracerProvider: tp})
	name := fmt.Sprintf("traced-%d", tracedRuns.Add(1))
	b.publish(t, holdWorkflow(name))

	ctx, parent := tp.Tracer("test").Start(t.Context(), "POST /v1/workflows/{name}/executions")
	got, err := svc.Start(ctx, control.StartParams{Workflow: name, Input: json.RawMessage(`{"message": "hi"}`), Principal: "op"})
	parent.End()
	require.NoError(t, err)

	spans := rec.Ended()
	require.Len(t, spans, 2)
	start := spans[0]
	require.Equal(t, "StepFunctions.StartExecution", start.Name())
	require.Equal(t, parent.SpanContext().SpanID(), start.Parent().SpanID())
	e, err := b.eng.DescribeExecution(t.Context(), got.ExecutionARN)
	require.NoError(t, err)
	want := telemetry.XRayHeader(tracetestContext(t, start))
	require.Equal(t, want, e.TraceHeader)
	require.Contains(t, e.TraceHeader, "Parent="+start.SpanContext().SpanID().String())
}

// tracetestContext is a context holding span's context.
func tracetestContext(t *testing.T, span sdktrace.ReadOnlySpan) context.Context {
	t.Helper()
	return trace.ContextWithSpanContext(t.Context(), span.SpanContext())
}

// TestStartWithoutTracingCarriesTheCallersTraceContext: with a provider
// that records nothing, Start makes no span, and the execution's trace
// header is the caller's trace context, as the provider's span would
// have been.
func TestStartWithoutTracingCarriesTheCallersTraceContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.service(control.Options{TracerProvider: noop.NewTracerProvider()})
	name := fmt.Sprintf("traced-%d", tracedRuns.Add(1))
	b.publish(t, holdWorkflow(name))

	tid, err := trace.TraceIDFromHex("5759e988bd862e3fe1be46a994272793")
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex("53995c3f42cd8ad8")
	require.NoError(t, err)
	caller := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true})
	ctx := trace.ContextWithRemoteSpanContext(t.Context(), caller)
	got, err := svc.Start(ctx, control.StartParams{Workflow: name, Input: json.RawMessage(`{"message": "hi"}`), Principal: "op"})
	require.NoError(t, err)
	e, err := b.eng.DescribeExecution(t.Context(), got.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", e.TraceHeader)

	got, err = svc.Start(t.Context(), control.StartParams{Workflow: name, Input: json.RawMessage(`{"message": "again"}`), Principal: "op"})
	require.NoError(t, err)
	e, err = b.eng.DescribeExecution(t.Context(), got.ExecutionARN)
	require.NoError(t, err)
	require.Empty(t, e.TraceHeader, "no caller's trace, no header")
}
