package steps

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// tracerName names the tracer of the step runtime's and handlers' spans.
const tracerName = "github.com/aiflow/aiflow/internal/steps"

// tracerOf is tp's tracer, or the OpenTelemetry global's when tp is nil
// (no-op until tracing is set up).
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// Attribute keys of aiflow's own, on the spans of a step.
const (
	attrExecution = "aiflow.execution.arn"
	attrStep      = "aiflow.step.id"
	attrStepKind  = "aiflow.step.kind"
	attrAttempt   = "aiflow.step.attempt"
	attrErrorName = "aiflow.step.error"
)

// startMessage begins the consumer span of one task message (the
// messaging semantic conventions' "process" span). Its parent is the
// message's AWSTraceHeader, which Step Functions (and the local engine)
// set from the execution's trace header, so the step joins the trace of
// the request that started the execution; the span of the invocation that
// received the batch, if any, is a link.
func (r *Runtime) startMessage(ctx context.Context, rec events.SQSMessage) (context.Context, trace.Span) {
	queue := rec.EventSourceARN
	if i := strings.LastIndexByte(queue, ':'); i >= 0 {
		queue = queue[i+1:]
	}
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "aws_sqs"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.operation.name", "process"),
		attribute.String("messaging.message.id", rec.MessageId),
	}
	name := "process"
	if queue != "" {
		name += " " + queue
		attrs = append(attrs, attribute.String("messaging.destination.name", queue))
	}
	opts := []trace.SpanStartOption{telemetry.ConsumerSpan, trace.WithAttributes(attrs...)}
	if header := rec.Attributes["AWSTraceHeader"]; header != "" {
		if invocation := trace.SpanContextFromContext(ctx); invocation.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: invocation}))
		}
		ctx = telemetry.ContextWithXRayHeader(ctx, header)
	}
	return r.tracer.Start(ctx, name, opts...)
}

// describeMessage names the task on its span and in the log fields of ctx.
func describeMessage(ctx context.Context, span trace.Span, m Message) context.Context {
	ctx = telemetry.WithStep(telemetry.WithExecutionID(ctx, m.Execution.ID), m.Step.ID)
	if span.IsRecording() {
		span.SetAttributes(attribute.String(attrExecution, m.Execution.ID), attribute.String(attrStep, m.Step.ID),
			attribute.String(attrStepKind, m.Step.Kind), attribute.Int(attrAttempt, m.Step.Attempt))
	}
	return ctx
}

// startCallback begins the client span of a call to Step Functions'
// task callbacks (SendTaskSuccess, SendTaskFailure), as the AWS SDK's
// semantic conventions name it.
func (r *Runtime) startCallback(ctx context.Context, op string) (context.Context, trace.Span) {
	return r.tracer.Start(ctx, "StepFunctions."+op, telemetry.ClientSpan,
		trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "StepFunctions"),
			attribute.String("rpc.method", op)))
}

// endSpan ends span, as failed with err when err is set.
func endSpan(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
