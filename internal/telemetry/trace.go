package telemetry

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Keys the logger adds from the span in a record's context.
const (
	keyTraceID = "trace_id"
	keySpanID  = "span_id"
)

// xrayKey is the header the X-Ray propagator reads and writes.
const xrayKey = "X-Amzn-Trace-Id"

// XRayHeader returns the trace context of ctx's span in X-Ray's format
// (Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1),
// as Step Functions' StartExecution takes it in traceHeader and SQS
// carries it in a message's AWSTraceHeader; "" when ctx holds no span
// context.
func XRayHeader(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	// The X-Ray propagator's format, written at once: this runs for every
	// execution started.
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [len("Root=1-12345678-123456789012345678901234;Parent=1234567890123456;Sampled=1")]byte
	h := append(b[:0], "Root=1-"...)
	h = hex.AppendEncode(h, tid[:4])
	h = append(h, '-')
	h = hex.AppendEncode(h, tid[4:])
	h = append(h, ";Parent="...)
	h = hex.AppendEncode(h, sid[:])
	h = append(h, ";Sampled="...)
	if sc.IsSampled() {
		h = append(h, '1')
	} else {
		h = append(h, '0')
	}
	return string(h)
}

// ContextWithXRayHeader returns a copy of ctx whose remote parent span is
// the one header names (X-Ray's format, as XRayHeader writes it). An
// empty or malformed header returns ctx unchanged.
func ContextWithXRayHeader(ctx context.Context, header string) context.Context {
	if header == "" {
		return ctx
	}
	return xray.Propagator{}.Extract(ctx, propagation.MapCarrier{xrayKey: header})
}
