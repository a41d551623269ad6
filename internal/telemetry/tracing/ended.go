package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// spanSink hands spans that aiflow builds itself, already ended, to the
// provider's span processor (the batcher), as the SDK hands it the spans
// its tracers end. The spans derived from history (StateSpans) are made
// this way: their start and end are both known when they are made, so
// the SDK's live span (its lock, its limits, the copy taken at End) would
// be work and garbage for nothing. The provider's resource, sampler and
// ID generator are the SDK's own, so these spans are exported as the
// SDK's are.
type spanSink struct {
	proc    sdktrace.SpanProcessor
	res     *resource.Resource
	scope   instrumentation.Scope
	sampler sdktrace.Sampler
	// parentBasedOn is set when sampler is the default one,
	// parentbased_always_on, whose decisions parentBasedOn takes.
	parentBasedOn bool
	ids           sdktrace.IDGenerator
	// recycle is set when the exporter keeps nothing of a span once it
	// has exported it (ForgetfulExporter): the spans aiflow builds are
	// then taken back and made again from the same memory.
	recycle bool
}

// newSpan returns the span context of a span about to be made under
// parent (invalid for a new trace), and whether it is sampled. decided,
// when not nil, is a sampling decision already taken for parent's trace:
// the samplers aiflow configures (config.Tracing's) decide a span under a
// local parent the way they decided the parent, so one decision serves a
// whole execution.
func (k *spanSink) newSpan(parent trace.SpanContext, decided *bool, prefix, name string, kind trace.SpanKind, attrs []attribute.KeyValue) (trace.SpanContext, bool) {
	ctx := context.Background()
	tid, sid := k.idsUnder(ctx, parent)
	var res sdktrace.SamplingResult
	switch {
	case decided != nil:
		res.Tracestate = parent.TraceState()
		if *decided {
			res.Decision = sdktrace.RecordAndSample
		}
	case k.parentBasedOn:
		res = parentBasedOn(parent)
	default:
		res = k.sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: trace.ContextWithSpanContext(ctx, parent),
			TraceID: tid, Name: prefix + name, Kind: kind, Attributes: attrs})
	}
	// Record-only spans are not exported by the batcher: nothing to make.
	return spanContextUnder(parent, tid, sid, res), res.Decision == sdktrace.RecordAndSample
}

// idsUnder returns the IDs of a span under parent: parent's trace and a
// new span ID, or a new trace when parent is invalid.
func (k *spanSink) idsUnder(ctx context.Context, parent trace.SpanContext) (trace.TraceID, trace.SpanID) {
	if tid := parent.TraceID(); tid.IsValid() {
		return tid, k.ids.NewSpanID(ctx, tid)
	}
	return k.ids.NewIDs(ctx)
}

// spanContextUnder is the span context of IDs tid and sid under parent,
// as res decided it: sampled only when recorded and sampled, with the
// trace state res gives.
func spanContextUnder(parent trace.SpanContext, tid trace.TraceID, sid trace.SpanID, res sdktrace.SamplingResult) trace.SpanContext {
	scc := trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceState: res.Tracestate, TraceFlags: parent.TraceFlags() &^ trace.FlagsSampled}
	if res.Decision == sdktrace.RecordAndSample {
		scc.TraceFlags |= trace.FlagsSampled
	}
	return trace.NewSpanContext(scc)
}

// export hands an ended span to the processor; the span is the
// processor's (and its owner's, when the exporter hands it back) from
// then on.
func (k *spanSink) export(s *endedSpan) {
	k.proc.OnEnd(s)
}

// endedSpan is a span built whole, then handed to the span processor: an
// sdktrace.ReadOnlySpan of aiflow's own. attrs and events are its own
// (not shared), and it is not changed once handed over.
type endedSpan struct {
	// ReadOnlySpan is nil: embedding it gives endedSpan the interface's
	// unexported method, as the SDK's tracetest package does for its
	// span stubs. No other method of it is called.
	sdktrace.ReadOnlySpan

	sink  *spanSink
	scope *instrumentation.Scope // nil: the sink's (aiflow's tracer's)
	// The name is prefix and name: a derived span's ("state " and the
	// state's) is not concatenated unless an exporter other than aiflow's
	// asks for it (Name); aiflow's writes the two parts.
	prefix, name string
	// owner, when set, takes the span back once the exporter is done with
	// it (see recycle.go); nil leaves it to the collector.
	owner      releaser
	sc, parent trace.SpanContext
	kind       trace.SpanKind
	start, end time.Time
	attrs      []attribute.KeyValue
	events     []sdktrace.Event
	status     sdktrace.Status
	children   int
	// links and the dropped counts are set by the live spans
	// (live.go) only: derived spans link and drop nothing.
	links                                  []sdktrace.Link
	droppedAttrs, droppedEvents, dropLinks int
}

var _ sdktrace.ReadOnlySpan = (*endedSpan)(nil)

// Name is the span's name.
func (s *endedSpan) Name() string {
	if s.prefix == "" {
		return s.name
	}
	return s.prefix + s.name
}

// SpanContext is the span's own span context.
func (s *endedSpan) SpanContext() trace.SpanContext { return s.sc }

// Parent is the parent's span context, invalid for a root.
func (s *endedSpan) Parent() trace.SpanContext { return s.parent }

// SpanKind is the span's kind.
func (s *endedSpan) SpanKind() trace.SpanKind { return s.kind }

// StartTime is when the span started.
func (s *endedSpan) StartTime() time.Time { return s.start }

// EndTime is when the span ended.
func (s *endedSpan) EndTime() time.Time { return s.end }

// Attributes are the span's attributes, in the order they were set.
func (s *endedSpan) Attributes() []attribute.KeyValue { return s.attrs }

// Links are the span's links (none for a derived span).
func (s *endedSpan) Links() []sdktrace.Link { return s.links }

// Events are the span's events.
func (s *endedSpan) Events() []sdktrace.Event { return s.events }

// Status is the span's status.
func (s *endedSpan) Status() sdktrace.Status { return s.status }

// InstrumentationScope is the scope of the tracer that made the span:
// aiflow's tracer's for a derived span.
func (s *endedSpan) InstrumentationScope() instrumentation.Scope {
	if s.scope != nil {
		return *s.scope
	}
	return s.sink.scope
}

// InstrumentationLibrary is InstrumentationScope, for the exporters that
// still read it.
//
//lint:ignore SA1019 sdktrace.ReadOnlySpan still has it
func (s *endedSpan) InstrumentationLibrary() instrumentation.Library { return s.InstrumentationScope() }

// Resource is the provider's resource.
func (s *endedSpan) Resource() *resource.Resource { return s.sink.res }

// DroppedAttributes is how many attributes the span limits dropped: 0
// for a derived span, which has a handful, well under the SDK's limits.
func (s *endedSpan) DroppedAttributes() int { return s.droppedAttrs }

// DroppedLinks is how many links the span limits dropped.
func (s *endedSpan) DroppedLinks() int { return s.dropLinks }

// DroppedEvents is how many events the span limits dropped: 0 for a
// derived span, whose events are its failed attempts and its retries,
// which its retry policy bounds.
func (s *endedSpan) DroppedEvents() int { return s.droppedEvents }

// ChildSpanCount is how many spans were made under this one.
func (s *endedSpan) ChildSpanCount() int { return s.children }

// randomIDs is the SDK's default ID generator (random trace and span
// IDs from math/rand/v2), which the SDK does not export; the provider and
// its sink share one.
type randomIDs struct{}

// NewIDs returns a random non-zero trace ID and span ID.
func (randomIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, randomIDs{}.NewSpanID(ctx, tid)
}

// NewSpanID returns a random non-zero span ID.
func (randomIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
