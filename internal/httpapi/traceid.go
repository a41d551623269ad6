package httpapi

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// traceIDOf is the trace an execution runs in, from the trace header it
// was started with (X-Ray's format): the W3C hex trace id that trace
// viewers (Jaeger, X-Ray as 1-xxxxxxxx-...) search by, or "" when the
// execution was started outside a sampled trace, which no viewer holds.
func traceIDOf(header string) string {
	if header == "" {
		return ""
	}
	sc := trace.SpanContextFromContext(telemetry.ContextWithXRayHeader(context.Background(), header))
	if !sc.IsValid() || !sc.IsSampled() {
		return ""
	}
	return sc.TraceID().String()
}
