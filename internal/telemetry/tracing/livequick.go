package tracing

import (
	"context"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// attrsOptionType is the dynamic type of the options trace.WithAttributes
// returns, which quickStart reads.
var attrsOptionType = reflect.TypeOf(trace.WithAttributes())

// attrsOptionHolds: that type is what quickStart reads it as, a slice of
// attributes; checked once.
var attrsOptionHolds = attrsOptionType.Kind() == reflect.Slice && attrsOptionType.Elem() == reflect.TypeOf(attribute.KeyValue{})

// quickStart is what a span's start options say when they are only span
// kinds and attributes, as most of the instrumentation's are: the
// attributes read from their options themselves, not through a
// trace.SpanConfig (which copies them into a slice it allocates for
// each span).
type quickStart struct {
	kind  trace.SpanKind
	n     int
	attrs [maxQuickAttrs]attribute.KeyValue
}

// maxQuickAttrs bounds the attributes quickStart holds; spans that start
// with more read their options through trace.NewSpanStartConfig.
const maxQuickAttrs = 8

// maxQuickOthers bounds the options other than attributes quickStart
// takes.
const maxQuickOthers = 4

// read reads opts into q, as trace.NewSpanStartConfig would (the last
// kind, the attributes in order); false when they ask for more than a
// kind and attributes (a timestamp, links, a new root) or are too many,
// when q is not to be used.
func (q *quickStart) read(opts []trace.SpanStartOption) bool {
	if !attrsOptionHolds {
		return false
	}
	var others [maxQuickOthers]trace.SpanStartOption
	m := 0
	for _, o := range opts {
		if reflect.TypeOf(o) == attrsOptionType {
			v := reflect.ValueOf(o)
			if q.n+v.Len() > len(q.attrs) {
				return false
			}
			q.n += reflect.Copy(reflect.ValueOf(q.attrs[q.n:]), v)
			continue
		}
		if o == nil || m == len(others) {
			return false
		}
		others[m] = o
		m++
	}
	if m == 0 {
		return true
	}
	cfg := trace.NewSpanStartConfig(others[:m]...)
	if cfg.NewRoot() || len(cfg.Links()) > 0 || !cfg.Timestamp().IsZero() || len(cfg.Attributes()) > 0 {
		return false
	}
	q.kind = cfg.SpanKind()
	return true
}

// startQuick is Start for options quickStart read, under the default
// sampler: what Start does, without the options it cannot have.
func (t *liveTracer) startQuick(ctx context.Context, name string, q *quickStart) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	parentSpan := trace.SpanFromContext(ctx)
	if ls, ok := parentSpan.(*liveSpan); ok {
		ls.addChild()
	}
	psc := parentSpan.SpanContext()
	k := t.p.sink
	var scc trace.SpanContextConfig
	if !psc.TraceID().IsValid() {
		scc.TraceID, scc.SpanID = k.ids.NewIDs(ctx)
	} else {
		scc.TraceID, scc.SpanID = psc.TraceID(), k.ids.NewSpanID(ctx, psc.TraceID())
	}
	res := parentBasedOn(psc)
	scc.TraceState = res.Tracestate
	scc.TraceFlags = psc.TraceFlags() &^ trace.FlagsSampled
	if res.Decision == sdktrace.RecordAndSample {
		scc.TraceFlags |= trace.FlagsSampled
	}
	sc := trace.NewSpanContext(scc)
	if res.Decision == sdktrace.Drop || t.p.shutdown.Load() {
		s := droppedSpan{p: t.p, sc: sc}
		return trace.ContextWithSpan(ctx, s), s
	}
	sctx, s := t.p.newLiveSpan(ctx, sc)
	r := s.r
	r.span = endedSpan{sink: k, scope: &t.scope, name: name, sc: sc, parent: psc, kind: trace.ValidateSpanKind(q.kind), start: time.Now(),
		owner: r.span.owner, attrs: r.kept}
	s.SetAttributes(q.attrs[:q.n]...)
	return sctx, s
}
