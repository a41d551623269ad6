package tracing

import "go.opentelemetry.io/otel/trace"

// SDKTracerProvider is the SDK's provider under p, whose tracers the
// tests compare aiflow's with.
func (p *Provider) SDKTracerProvider() trace.TracerProvider { return p.sdk }
