package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// TraceSpanKey returns the key under which the trace API keeps a
// context's span (its own, unexported), as trace.SpanFromContext asks a
// context for it, so that a context of aiflow's own can hold a span in
// the same allocation as itself; nil if the API asked for none or keeps
// spans another way (a future API), when such contexts are not to be
// made.
func TraceSpanKey() any { return spanKey }

var spanKey = func() any {
	probe := &keyProbe{Context: context.Background()}
	trace.SpanFromContext(probe)
	marker := &remoteSpan{}
	if probe.key == nil || trace.ContextWithSpan(context.Background(), marker).Value(probe.key) != any(marker) {
		return nil
	}
	return probe.key
}()

// keyProbe is a context that notes the key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// contextWithRemote returns a copy of ctx whose span is the remote span
// context sc, as trace.ContextWithRemoteSpanContext does, in one
// allocation where that takes two (its context and its span): a worker
// makes one for every message it takes.
func contextWithRemote(ctx context.Context, sc trace.SpanContext) context.Context {
	sc = sc.WithRemote(true)
	if spanKey == nil {
		return trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return &remoteContext{Context: ctx, span: remoteSpan{sc: sc}}
}

// remoteContext is a context holding a remote span context as its span.
type remoteContext struct {
	context.Context
	span remoteSpan
}

// Value is the span for the trace API's key, else the parent's value.
func (c *remoteContext) Value(key any) any {
	if key == spanKey {
		return &c.span
	}
	return c.Context.Value(key)
}

// remoteSpan is a span context received from elsewhere (a message's
// header), as a context's span: it records nothing, as the trace API's
// own span of a remote span context.
type remoteSpan struct {
	embedded.Span

	sc trace.SpanContext
}

var _ trace.Span = (*remoteSpan)(nil)

// SpanContext is the remote span context.
func (s *remoteSpan) SpanContext() trace.SpanContext { return s.sc }

// IsRecording is false.
func (*remoteSpan) IsRecording() bool { return false }

// SetStatus does nothing.
func (*remoteSpan) SetStatus(codes.Code, string) {}

// SetAttributes does nothing.
func (*remoteSpan) SetAttributes(...attribute.KeyValue) {}

// End does nothing.
func (*remoteSpan) End(...trace.SpanEndOption) {}

// RecordError does nothing.
func (*remoteSpan) RecordError(error, ...trace.EventOption) {}

// AddEvent does nothing.
func (*remoteSpan) AddEvent(string, ...trace.EventOption) {}

// AddLink does nothing.
func (*remoteSpan) AddLink(trace.Link) {}

// SetName does nothing.
func (*remoteSpan) SetName(string) {}

// TracerProvider is the trace API's no-op provider, as the API's own span
// of a remote span context gives.
func (*remoteSpan) TracerProvider() trace.TracerProvider {
	return trace.SpanFromContext(context.Background()).TracerProvider()
}
