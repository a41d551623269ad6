package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// spanKey is the key under which the trace API keeps a context's span
// (its own, unexported), as trace.SpanFromContext asks a context for it,
// so that ContextWithSpan can hold a span in the same allocation as
// itself; nil if the API asked for none or keeps spans another way (a
// future API), when ContextWithSpan puts its span in as the API does.
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
	c := &ContextWithSpan[remoteSpan, *remoteSpan]{Context: ctx, Span: remoteSpan{sc: sc.WithRemote(true)}}
	return c.AsContext()
}

// ContextWithSpan is a context holding a span, of type S whose pointer P
// is the trace.Span, in the same allocation as itself, where
// trace.ContextWithSpan takes two (its context and the span).
type ContextWithSpan[S any, P interface {
	*S
	trace.Span
}] struct {
	context.Context
	Span S
}

// Value is the span for the trace API's key, else the parent's value.
func (c *ContextWithSpan[S, P]) Value(key any) any {
	if key == spanKey {
		return P(&c.Span)
	}
	return c.Context.Value(key)
}

// AsContext is c, or, if the trace API's key is not known (spanKey is
// nil), the parent with the span as the API puts it.
func (c *ContextWithSpan[S, P]) AsContext() context.Context {
	if spanKey == nil {
		return trace.ContextWithSpan(c.Context, P(&c.Span))
	}
	return c
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
