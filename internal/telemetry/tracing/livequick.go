package tracing

import (
	"context"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
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
	// The options other than attributes, in their order: aiflow's kinds
	// (telemetry.KindOption) are read as they come, and when any other
	// option comes too, all of them go through trace.NewSpanStartConfig,
	// which applies them in that order.
	var others [maxQuickOthers]trace.SpanStartOption
	m, foreign := 0, false
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
		if k, ok := o.(telemetry.KindOption); ok {
			q.kind = k.Kind()
		} else {
			foreign = true
		}
	}
	if !foreign {
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
	psc := t.parentOf(ctx)
	tid, sid := t.p.sink.idsUnder(ctx, psc)
	res := parentBasedOn(psc)
	sctx, span, s := t.open(ctx, name, psc, spanContextUnder(psc, tid, sid, res), res.Decision, q.kind, time.Now())
	if s == nil {
		return sctx, span
	}
	s.SetAttributes(q.attrs[:q.n]...)
	return sctx, s
}
