package enginebench

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginetrace"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// benchTracer names the benchmark's own spans.
const benchTracer = "github.com/aiflow/aiflow/internal/enginebench"

// traced is what a run with Params.Tracing traces, as aiflow dev
// does: each execution is started inside a span (the API request's
// stand-in) whose context is the execution's trace header, the engine's
// store is observed by the state spans, and the worker handles each
// message in a consumer span, the child of its AWSTraceHeader, and calls
// back in a client span.
type traced struct {
	tracer     trace.Tracer
	engineOnly bool // the worker makes no spans
}

// noSpan is the span of an untraced run: ending it does nothing.
var noSpan = trace.SpanFromContext(context.Background())

// tracedStore returns store observed by state spans made by p.
func tracedStore(store engine.Store, p *tracing.Provider) engine.Store {
	return enginetrace.Store(store, tracing.NewStateSpans(tracing.StateSpansParams{Provider: p}), nil)
}

// start starts one execution in a span, handing its context on.
func (t *traced) start(ctx context.Context, e *engine.Engine, in sfn.StartExecutionInput) (sfn.StartExecutionOutput, error) {
	if t == nil {
		return e.StartExecution(ctx, in)
	}
	ctx, span := t.tracer.Start(ctx, "StepFunctions.StartExecution", telemetry.ClientSpan)
	defer span.End()
	in.TraceHeader = telemetry.XRayHeader(ctx)
	return e.StartExecution(ctx, in)
}

// message begins the consumer span of one message.
func (t *traced) message(ctx context.Context, m events.SQSMessage) (context.Context, trace.Span) {
	if t == nil || t.engineOnly {
		return ctx, noSpan
	}
	ctx = telemetry.ContextWithXRayHeader(ctx, m.Attributes["AWSTraceHeader"])
	return t.tracer.Start(ctx, "process bench-steps", telemetry.ConsumerSpan,
		trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", m.MessageId)))
}

// callback begins the client span of a callback.
func (t *traced) callback(ctx context.Context) (context.Context, trace.Span) {
	if t == nil || t.engineOnly {
		return ctx, noSpan
	}
	return t.tracer.Start(ctx, "StepFunctions.SendTaskSuccess", telemetry.ClientSpan)
}
