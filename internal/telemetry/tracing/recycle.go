package tracing

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ForgetfulExporter is a span exporter that keeps nothing of the spans
// it is given (no span, attribute slice, event or link) once its
// ExportSpans has returned, as aiflow's OTLP exporter, which encodes them
// into bytes of its own: the spans aiflow makes are then taken back after
// each export and made again from the same memory, rather than left to
// the garbage collector. An exporter that keeps spans (an in-memory one,
// or any whose work goes on after ExportSpans returns) must not be one;
// with it, as with the SDK's exporters, nothing is taken back.
type ForgetfulExporter interface {
	sdktrace.SpanExporter
	// ForgetsSpans marks the exporter; it is never called.
	ForgetsSpans()
}

// releaser takes back a span once it has been exported.
type releaser interface {
	release()
}

// recyclingExporter hands the spans aiflow made back to their owners once
// the exporter under it is done with them. The batch processor keeps no
// span it has exported either (it clears its batch after each export).
type recyclingExporter struct {
	sdktrace.SpanExporter
}

// ExportSpans exports spans, then releases those aiflow made, whatever
// the export's outcome: a failed batch is not exported again.
func (e recyclingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	for _, s := range spans {
		if es, ok := s.(*endedSpan); ok && es.owner != nil {
			es.owner.release()
		}
	}
	return err
}

// ForgetsSpans marks aiflow's OTLP exporter as a ForgetfulExporter: its
// request is its own bytes, written before ExportSpans posts them.
func (e *otlpExporter) ForgetsSpans() {}

var _ ForgetfulExporter = (*otlpExporter)(nil)
