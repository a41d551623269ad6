package tracing

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// liveProvider is the tracer provider aiflow's instrumentation gets when
// tracing is on (Provider.TracerProvider): its tracers make liveSpans,
// which record into the endedSpan that the spans derived from history
// are, and hand it, when they end, to the SDK's span processor (the
// batcher) as the SDK's tracer hands over its spans' snapshots. The
// sampler, the ID generator, the resource, the span limits and the
// processor are the SDK provider's own (spanSink); only the live span is
// aiflow's: one allocation where the SDK's tracer makes a live span, a
// start configuration and a snapshot copied from the live span at End,
// and no map to deduplicate the attributes of each span.
//
// It behaves as the SDK's tracer does (the same span context, parent,
// sampling, attributes and their deduplication and limits, events,
// links, status, recorded errors and panics, end time); the equality
// tests in live_test.go compare its spans with the SDK's. What it does
// not do: it does not call the processor's OnStart (the batcher's does
// nothing), start runtime/trace tasks, count the children that the SDK's
// own tracers make under its spans, nor deduplicate the keys of nested
// map values (attribute.MAP, which aiflow does not set). When the span
// limits truncate values (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT), New
// uses the SDK's tracer instead.
type liveProvider struct {
	embedded.TracerProvider

	sink   *spanSink
	limits sdktrace.SpanLimits
	// shutdown is set by Provider.Shutdown: the tracers make only
	// non-recording spans after it, as the SDK's do.
	shutdown atomic.Bool
}

var _ trace.TracerProvider = (*liveProvider)(nil)

// defaultTracerName is the name the SDK gives a tracer asked for without
// one.
const defaultTracerName = "go.opentelemetry.io/otel/sdk/tracer"

// Tracer returns a tracer of the scope name and opts describe.
func (p *liveProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	if name == "" {
		name = defaultTracerName
	}
	c := trace.NewTracerConfig(opts...)
	return &liveTracer{p: p, scope: instrumentation.Scope{Name: name, Version: c.InstrumentationVersion(),
		SchemaURL: c.SchemaURL(), Attributes: c.InstrumentationAttributes()}}
}

// liveTracer makes liveSpans.
type liveTracer struct {
	embedded.Tracer

	p     *liveProvider
	scope instrumentation.Scope
}

// Start starts a span named name under the span of ctx (or a new trace),
// as the SDK's tracer does, and returns it and ctx with it.
func (t *liveTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	k := t.p.sink
	// The options most spans start with (a kind, attributes) are read
	// without building a trace.SpanConfig, which copies the attributes
	// into a slice of its own; the default sampler reads no option.
	var quick quickStart
	if k.parentBasedOn && quick.read(opts) {
		return t.startQuick(ctx, name, &quick)
	}
	cfg := trace.NewSpanStartConfig(opts...)
	if ctx == nil {
		ctx = context.Background()
	}
	psc := t.parentOf(ctx)
	if cfg.NewRoot() {
		psc = trace.SpanContext{}
		ctx = trace.ContextWithSpanContext(ctx, psc)
	}
	tid, sid := k.idsUnder(ctx, psc)
	var res sdktrace.SamplingResult
	if k.parentBasedOn {
		res = parentBasedOn(psc)
	} else {
		res = k.sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Name: name,
			Kind: cfg.SpanKind(), Attributes: cfg.Attributes(), Links: cfg.Links()})
	}
	start := cfg.Timestamp()
	if start.IsZero() {
		start = time.Now()
	}
	sctx, span, s := t.open(ctx, name, psc, spanContextUnder(psc, tid, sid, res), res.Decision, cfg.SpanKind(), start)
	if s == nil {
		return sctx, span
	}
	r := s.r
	for _, l := range cfg.Links() {
		s.AddLink(l)
	}
	s.SetAttributes(res.Attributes...)
	if attrs := cfg.Attributes(); len(res.Attributes) == 0 && adoptable(attrs, t.p.limits) {
		// cfg's attributes are a slice of its own, which nothing else
		// keeps (the sampler gave none back): the span takes it as it is.
		r.span.attrs, r.dirty = attrs, true
	} else {
		s.SetAttributes(attrs...)
	}
	return sctx, s
}

// parentOf returns the span context of ctx's span, the parent of a span
// started under it, and counts that child on a live span.
func (t *liveTracer) parentOf(ctx context.Context) trace.SpanContext {
	parentSpan := trace.SpanFromContext(ctx)
	if ls, ok := parentSpan.(*liveSpan); ok {
		ls.addChild()
	}
	return parentSpan.SpanContext()
}

// open makes the span of span context sc under psc, as the sampler
// decided: a dropped span (and a nil live span) when it dropped it or the
// provider has shut down, else a live span started at start, which the
// caller gives its attributes and links.
func (t *liveTracer) open(ctx context.Context, name string, psc, sc trace.SpanContext, decision sdktrace.SamplingDecision,
	kind trace.SpanKind, start time.Time) (context.Context, trace.Span, *liveSpan) {
	if decision == sdktrace.Drop || t.p.shutdown.Load() {
		s := droppedSpan{p: t.p, sc: sc}
		return trace.ContextWithSpan(ctx, s), s, nil
	}
	sctx, s := t.p.newLiveSpan(ctx, sc)
	r := s.r
	r.span = endedSpan{sink: t.p.sink, scope: &t.scope, name: name, sc: sc, parent: psc, kind: trace.ValidateSpanKind(kind), start: start,
		owner: r.span.owner, attrs: r.kept}
	return sctx, s, s
}

// newLiveSpan returns a live span of span context sc over a cleared
// record, and ctx with it: one from recordPool when the sink recycles
// spans, else one made with it. The context and the span's handle are
// one allocation (spanContext), and so is the record when it is not
// recycled.
func (p *liveProvider) newLiveSpan(ctx context.Context, sc trace.SpanContext) (context.Context, *liveSpan) {
	if !p.sink.recycle {
		both := &struct {
			c spanContext
			r liveRecord
		}{}
		both.c = spanContext{Context: ctx, Span: liveSpan{p: p, r: &both.r, sc: sc}}
		return both.c.AsContext(), &both.c.Span
	}
	r := recordPool.Get().(*liveRecord)
	r.span.owner = r
	c := &spanContext{Context: ctx, Span: liveSpan{p: p, r: r, gen: r.gen, sc: sc}}
	return c.AsContext(), &c.Span
}

// spanContext is a context holding a live span, as trace.ContextWithSpan
// makes one, but with the span's handle in the same allocation.
type spanContext = telemetry.ContextWithSpan[liveSpan, *liveSpan]

// recordPool holds the records of live spans exported, when the sink
// recycles spans.
var recordPool = sync.Pool{New: func() any { return &liveRecord{} }}

// adoptable reports whether SetAttributes would keep attrs as they are:
// all valid, within the limit.
func adoptable(attrs []attribute.KeyValue, limits sdktrace.SpanLimits) bool {
	if len(attrs) == 0 || (limits.AttributeCountLimit >= 0 && len(attrs) > limits.AttributeCountLimit) {
		return false
	}
	for _, a := range attrs {
		if !a.Valid() {
			return false
		}
	}
	return true
}

// parentBasedOn is the decision of the default sampler,
// sdktrace.ParentBased(sdktrace.AlwaysSample()), for a span under psc:
// the parent's when there is one, else to sample; the trace state is the
// parent's. It is that sampler's ShouldSample without its calls through
// interfaces and its reads of the context.
func parentBasedOn(psc trace.SpanContext) sdktrace.SamplingResult {
	d := sdktrace.Drop
	if !psc.IsValid() || psc.IsSampled() {
		d = sdktrace.RecordAndSample
	}
	return sdktrace.SamplingResult{Decision: d, Tracestate: psc.TraceState()}
}

// liveSpan is a recording span of a liveTracer: the handle the
// instrumentation holds (in its contexts too) on a record, which holds
// what the span records. When the sink recycles spans, the record is
// taken back once the span is exported and serves another span: gen
// tells the handle's span from the one the record now holds, and a
// handle kept after its span ended (a context kept, a log line written
// after End) reads its own span context and changes nothing.
type liveSpan struct {
	embedded.Span

	p   *liveProvider
	r   *liveRecord
	gen uint64
	sc  trace.SpanContext
}

// liveRecord is what a live span records. Its fields are guarded by mu
// until the span ends; then span, complete, goes to the processor and
// nothing changes it again until it is released (recycled: gen moves
// on, and the record is cleared for another span).
type liveRecord struct {
	mu    sync.Mutex
	gen   uint64
	ended bool
	dirty bool // attributes were appended: their keys may repeat
	span  endedSpan
	// kept is the memory of the attributes of the span the record held
	// before, cleared, for the next span's (recycled records only).
	kept []attribute.KeyValue
}

// lock locks the record of s and reports whether it is still s's, not
// ended; when it reports false, the record is unlocked.
func (s *liveSpan) lock() bool {
	s.r.mu.Lock()
	if s.r.gen != s.gen || s.r.ended {
		s.r.mu.Unlock()
		return false
	}
	return true
}

// release clears the record, exported, and puts it back in recordPool.
func (r *liveRecord) release() {
	r.mu.Lock()
	r.gen++
	if attrs := r.span.attrs; cap(attrs) > 0 {
		r.kept = attrs
	}
	clear(r.kept)
	r.kept = r.kept[:0]
	r.ended, r.dirty, r.span = false, false, endedSpan{}
	r.mu.Unlock()
	recordPool.Put(r)
}

var _ trace.Span = (*liveSpan)(nil)

// SpanContext is the span's span context.
func (s *liveSpan) SpanContext() trace.SpanContext { return s.sc }

// IsRecording reports whether the span has not ended.
func (s *liveSpan) IsRecording() bool {
	if !s.lock() {
		return false
	}
	s.r.mu.Unlock()
	return true
}

// SetStatus sets the status as the SDK does: Ok is final, Error over
// Unset, a description only with Error.
func (s *liveSpan) SetStatus(code codes.Code, description string) {
	if !s.lock() {
		return
	}
	defer s.r.mu.Unlock()
	if s.r.span.status.Code > code {
		return
	}
	st := sdktrace.Status{Code: code}
	if code == codes.Error {
		st.Description = description
	}
	s.r.span.status = st
}

// SetAttributes sets attributes, a later value of a key replacing an
// earlier one in its place, within the attribute count limit.
func (s *liveSpan) SetAttributes(attrs ...attribute.KeyValue) {
	if len(attrs) == 0 {
		return
	}
	if !s.lock() {
		return
	}
	defer s.r.mu.Unlock()
	r := &s.r.span
	limit := s.p.limits.AttributeCountLimit
	if limit == 0 {
		r.droppedAttrs += len(attrs)
		return
	}
	if limit > 0 && len(r.attrs)+len(attrs) > limit {
		s.r.dedupe()
		for _, a := range attrs {
			if !a.Valid() {
				r.droppedAttrs++
				continue
			}
			if i := indexOf(r.attrs, a.Key); i >= 0 {
				r.attrs[i] = a
				continue
			}
			if len(r.attrs) >= limit {
				r.droppedAttrs++
				continue
			}
			r.attrs = append(r.attrs, a)
		}
		return
	}
	r.attrs = slices.Grow(r.attrs, len(attrs))
	for _, a := range attrs {
		if !a.Valid() {
			r.droppedAttrs++
			continue
		}
		r.attrs = append(r.attrs, a)
		s.r.dirty = true
	}
}

// indexOf is the index of key in attrs, or -1.
func indexOf(attrs []attribute.KeyValue, key attribute.Key) int {
	for i := range attrs {
		if attrs[i].Key == key {
			return i
		}
	}
	return -1
}

// dedupe keeps the first place of each key with its last value, as the
// SDK's span does.
func (s *liveRecord) dedupe() {
	if !s.dirty {
		return
	}
	s.dirty = false
	attrs := s.span.attrs
	if len(attrs) > 32 {
		seen := make(map[attribute.Key]int, len(attrs))
		unique := attrs[:0]
		for _, a := range attrs {
			if i, ok := seen[a.Key]; ok {
				unique[i] = a
				continue
			}
			seen[a.Key] = len(unique)
			unique = append(unique, a)
		}
		clear(attrs[len(unique):])
		s.span.attrs = unique
		return
	}
	n := 0
	for _, a := range attrs {
		if i := indexOf(attrs[:n], a.Key); i >= 0 {
			attrs[i] = a
			continue
		}
		attrs[n] = a
		n++
	}
	clear(attrs[n:])
	s.span.attrs = attrs[:n]
}

// End ends the span (at the option's time, or now by the start's
// monotonic clock) and hands it to the processor. A panic under way is
// recorded as an exception event, as the SDK records it.
func (s *liveSpan) End(opts ...trace.SpanEndOption) {
	if !s.lock() {
		return
	}
	r := s.r
	end := r.span.start.Add(time.Since(r.span.start))
	cfg := trace.NewSpanEndConfig(opts...)
	if recovered := recover(); recovered != nil {
		defer panic(recovered)
		eo := []trace.EventOption{trace.WithAttributes(attribute.String("exception.type", typeStr(recovered)),
			attribute.String("exception.message", fmt.Sprint(recovered)))}
		if cfg.StackTrace() {
			eo = append(eo, trace.WithAttributes(attribute.String("exception.stacktrace", stackTrace())))
		}
		r.addEvent(s.p.limits, "exception", eo...)
	}
	if ts := cfg.Timestamp(); !ts.IsZero() {
		end = ts
	}
	r.span.end = end
	r.ended = true
	r.dedupe()
	if len(r.span.attrs) == 0 {
		r.span.attrs = nil
	}
	r.mu.Unlock()
	r.span.sink.export(&r.span)
}

// RecordError adds an exception event for err, as the SDK does.
func (s *liveSpan) RecordError(err error, opts ...trace.EventOption) {
	if err == nil || !s.IsRecording() {
		return
	}
	opts = append(opts, trace.WithAttributes(attribute.String("exception.type", typeStr(err)),
		attribute.String("exception.message", err.Error())))
	if c := trace.NewEventConfig(opts...); c.StackTrace() {
		opts = append(opts, trace.WithAttributes(attribute.String("exception.stacktrace", stackTrace())))
	}
	s.AddEvent("exception", opts...)
}

// typeStr is the SDK's name of an error's or a panic's type.
func typeStr(i any) string {
	t := reflect.TypeOf(i)
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return fmt.Sprintf("%s.%s", t.PkgPath(), t.Name())
}

// stackTrace is the calling goroutine's stack, as much of it as the SDK
// records.
func stackTrace() string {
	buf := make([]byte, 2048)
	n := runtime.Stack(buf, false)
	return string(buf[:n])
}

// AddEvent adds an event, within the event limits.
func (s *liveSpan) AddEvent(name string, opts ...trace.EventOption) {
	if !s.lock() {
		return
	}
	defer s.r.mu.Unlock()
	s.r.addEvent(s.p.limits, name, opts...)
}

// addEvent adds an event; mu is held.
func (s *liveRecord) addEvent(limits sdktrace.SpanLimits, name string, opts ...trace.EventOption) {
	c := trace.NewEventConfig(opts...)
	e := sdktrace.Event{Name: name, Attributes: c.Attributes(), Time: c.Timestamp()}
	if l := limits.AttributePerEventCountLimit; l == 0 {
		e.DroppedAttributeCount, e.Attributes = len(e.Attributes), nil
	} else if l > 0 && len(e.Attributes) > l {
		e.DroppedAttributeCount, e.Attributes = len(e.Attributes)-l, e.Attributes[:l]
	}
	s.span.events, s.span.droppedEvents = evict(s.span.events, s.span.droppedEvents, limits.EventCountLimit, e)
}

// evict appends v to q within limit (negative: none), dropping the
// oldest when full, as the SDK's queues do, and counts what it drops.
func evict[T any](q []T, dropped, limit int, v T) ([]T, int) {
	if limit == 0 {
		return q, dropped + 1
	}
	if limit > 0 && len(q) >= limit {
		copy(q, q[1:])
		q = q[:len(q)-1]
		dropped++
	}
	return append(q, v), dropped
}

// AddLink adds a link, within the link limits; a link with neither a
// valid span context nor attributes nor trace state is ignored.
func (s *liveSpan) AddLink(link trace.Link) {
	if !link.SpanContext.IsValid() && len(link.Attributes) == 0 && link.SpanContext.TraceState().Len() == 0 {
		return
	}
	if !s.lock() {
		return
	}
	defer s.r.mu.Unlock()
	l := sdktrace.Link{SpanContext: link.SpanContext, Attributes: link.Attributes}
	limits := s.p.limits
	if n := limits.AttributePerLinkCountLimit; n == 0 {
		l.DroppedAttributeCount, l.Attributes = len(l.Attributes), nil
	} else if n > 0 && len(l.Attributes) > n {
		l.DroppedAttributeCount, l.Attributes = len(l.Attributes)-n, l.Attributes[:n]
	}
	s.r.span.links, s.r.span.dropLinks = evict(s.r.span.links, s.r.span.dropLinks, limits.LinkCountLimit, l)
}

// SetName renames the span.
func (s *liveSpan) SetName(name string) {
	if !s.lock() {
		return
	}
	defer s.r.mu.Unlock()
	s.r.span.name = name
}

// TracerProvider is the provider that made the span.
func (s *liveSpan) TracerProvider() trace.TracerProvider { return s.p }

// addChild counts a span started under this one.
func (s *liveSpan) addChild() {
	if !s.lock() {
		return
	}
	defer s.r.mu.Unlock()
	s.r.span.children++
}

// droppedSpan is a span the sampler dropped: it carries its span context
// (its children join its trace) and records nothing.
type droppedSpan struct {
	embedded.Span

	p  *liveProvider
	sc trace.SpanContext
}

var _ trace.Span = droppedSpan{}

// SpanContext is the span's span context.
func (s droppedSpan) SpanContext() trace.SpanContext { return s.sc }

// IsRecording is false.
func (droppedSpan) IsRecording() bool { return false }

// SetStatus does nothing.
func (droppedSpan) SetStatus(codes.Code, string) {}

// SetAttributes does nothing.
func (droppedSpan) SetAttributes(...attribute.KeyValue) {}

// End does nothing.
func (droppedSpan) End(...trace.SpanEndOption) {}

// RecordError does nothing.
func (droppedSpan) RecordError(error, ...trace.EventOption) {}

// AddEvent does nothing.
func (droppedSpan) AddEvent(string, ...trace.EventOption) {}

// AddLink does nothing.
func (droppedSpan) AddLink(trace.Link) {}

// SetName does nothing.
func (droppedSpan) SetName(string) {}

// TracerProvider is the provider that made the span.
func (s droppedSpan) TracerProvider() trace.TracerProvider { return s.p }
