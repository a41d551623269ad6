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
