package telemetry

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// unsetTracerProvider is OpenTelemetry's global tracer provider while no
// program has set one: its spans record nothing until one is set, and
// then it hands them to that one.
var unsetTracerProvider = otel.GetTracerProvider()

// MayRecord reports whether tp's spans may be recorded: false for a no-op
// provider (what tracing.Setup installs when tracing is off) and for the
// global provider while none is set, or a no-op one is. A span of such a
// provider is its parent's span context and nothing more, so a caller may
// skip starting it, and building its name and attributes, and use
// trace.SpanFromContext of the parent in its place: with tracing off,
// tracing then costs a request nothing but reading its trace headers.
func MayRecord(tp trace.TracerProvider) bool { return mayRecord(tp, otel.GetTracerProvider) }

// mayRecord is MayRecord with the global provider read by global.
func mayRecord(tp trace.TracerProvider, global func() trace.TracerProvider) bool {
	if tp == unsetTracerProvider {
		if tp = global(); tp == unsetTracerProvider {
			return false
		}
	}
	switch tp.(type) {
	case noop.TracerProvider, *noop.TracerProvider:
		return false
	}
	return true
}
