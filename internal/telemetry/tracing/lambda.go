package tracing

import (
	"context"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// lambdaTraceKey is the context key under which aws-lambda-go puts the
// invocation's X-Ray trace header (a plain string key, its choice).
const lambdaTraceKey = "x-amzn-trace-id"

// LambdaParams configures WrapLambda.
type LambdaParams struct {
	// Provider exports the spans and is flushed after each invocation.
	Provider *Provider
	// LookupFunc reads _X_AMZN_TRACE_ID when the context holds no trace
	// header (config.LambdaTraceHeader); nil means the context only.
	LookupFunc config.LookupFunc
}

// WrapLambda returns h with one span per invocation, named after the
// function, whose parent is the invocation's X-Ray trace header (the one
// the Lambda runtime puts in the context and in _X_AMZN_TRACE_ID), and
// with the spans of the invocation flushed before it returns: a frozen
// Lambda environment exports nothing. When tracing is off it returns h
// itself.
func WrapLambda[In, Out any](p LambdaParams, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	if p.Provider == nil || !p.Provider.Enabled() {
		return h
	}
	tracer := p.Provider.TracerProvider().Tracer(tracerName)
	return func(ctx context.Context, in In) (Out, error) {
		header, _ := ctx.Value(lambdaTraceKey).(string)
		if header == "" {
			header = config.LambdaTraceHeader(p.LookupFunc)
		}
		ctx = telemetry.ContextWithXRayHeader(ctx, header)
		name := lambdacontext.FunctionName
		if name == "" {
			name = "lambda invocation"
		}
		attrs := []attribute.KeyValue{attribute.String("faas.name", name)}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			attrs = append(attrs, attribute.String("faas.invocation_id", lc.AwsRequestID),
				attribute.String("cloud.resource_id", lc.InvokedFunctionArn))
		}
		ctx, span := tracer.Start(ctx, name, telemetry.ServerSpan, trace.WithAttributes(attrs...))
		out, err := h(ctx, in)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
		// A failed flush loses spans, never the invocation's answer.
		_ = p.Provider.ForceFlush(ctx)
		return out, err
	}
}

// tracerName names the tracer of this package's spans.
const tracerName = "github.com/aiflow/aiflow/internal/telemetry/tracing"
