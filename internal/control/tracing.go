package control

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// tracerName names the tracer of the use cases' spans.
const tracerName = "github.com/aiflow/aiflow/internal/control"

func newTracer(tp trace.TracerProvider) (trace.TracerProvider, trace.Tracer) {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp, tp.Tracer(tracerName)
}

// startExecution starts in as a client span of Step Functions' (the AWS
// SDK's semantic conventions), and hands the span's trace context on to
// the execution in X-Ray's format (StartExecutionInput.TraceHeader): Step
// Functions and the local engine carry it onto every task message's
// AWSTraceHeader, so the execution's spans join the caller's trace.
func (s *Service) startExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.StartExecutionOutput, error) {
	// A provider that records nothing (telemetry.MayRecord) makes no
	// span: the execution takes the caller's trace context as it is.
	span := trace.SpanFromContext(context.Background()) // records nothing
	if telemetry.MayRecord(s.tracerProvider) {
		ctx, span = s.tracer.Start(ctx, "StepFunctions.StartExecution", telemetry.ClientSpan,
			trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "StepFunctions"),
				attribute.String("rpc.method", "StartExecution"), attribute.String("aws.step_functions.state_machine.arn", in.StateMachineARN)))
		defer span.End()
	}
	if in.TraceHeader == "" {
		in.TraceHeader = telemetry.XRayHeader(ctx)
	}
	out, err := s.opts.Engine.StartExecution(ctx, in)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "starting the execution failed")
		return out, err
	}
	if span.IsRecording() { // a span that records nothing is common, and its attributes cost a start two allocations
		span.SetAttributes(attribute.String("aiflow.execution.arn", out.ExecutionARN))
	}
	return out, nil
}
