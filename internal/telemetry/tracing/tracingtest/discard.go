package tracingtest

import (
	"context"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// DiscardingExporter counts the spans it is given and keeps nothing of
// them: a tracing.ForgetfulExporter, under which aiflow takes its spans
// back after each export, as under its OTLP exporter (benchmarks measure
// tracing's cost without an exporter's).
type DiscardingExporter struct {
	spans atomic.Int64
}

var _ tracing.ForgetfulExporter = (*DiscardingExporter)(nil)

// ExportSpans counts spans.
func (e *DiscardingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.spans.Add(int64(len(spans)))
	return nil
}

// Shutdown does nothing.
func (e *DiscardingExporter) Shutdown(context.Context) error { return nil }

// ForgetsSpans marks the exporter as a tracing.ForgetfulExporter.
func (e *DiscardingExporter) ForgetsSpans() {}

// Spans is how many spans were exported.
func (e *DiscardingExporter) Spans() int64 { return e.spans.Load() }
