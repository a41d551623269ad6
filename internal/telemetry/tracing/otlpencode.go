package tracing

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// The OTLP request is written field by field with protowire into one
// buffer the exporter keeps, rather than built as generated messages and
// marshalled: those were some ten objects and a kilobyte of garbage per
// span, on the batcher's goroutine. The field numbers are those of
// opentelemetry/proto's trace.proto, common.proto and resource.proto; the
// output decodes to the messages the generated code would have written
// (TestEncodeSpansIsTheGeneratedCodes).

// The values of trace.proto's enums the encoder writes, as numbers: the
// generated package that names them (go.opentelemetry.io/proto/otlp)
// would link the protobuf runtime and its descriptors into every Lambda
// function (TestOTLPConstantsAreTheGeneratedOnes). A span's kind needs
// none: trace.SpanKind numbers its kinds as Span.SpanKind does.
const (
	otlpStatusOK        = 1     // Status.STATUS_CODE_OK
	otlpStatusError     = 2     // Status.STATUS_CODE_ERROR
	otlpFlagHasIsRemote = 0x100 // SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
	otlpFlagIsRemote    = 0x200 // SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
)

// appendSpans appends spans as an ExportTraceServiceRequest to b: their
// ResourceSpans, each of their resource's ScopeSpans. Resources are told
// apart by what they hold, not by pointer: the spans aiflow builds whole
// carry a resource equal to the SDK's but not the same one.
func appendSpans(b []byte, spans []sdktrace.ReadOnlySpan) []byte {
	type resKey struct {
		attrs  attribute.Distinct
		schema string
	}
	type scopeGroup struct {
		key   instrumentation.Scope // without attributes, as the key
		scope instrumentation.Scope
		spans []sdktrace.ReadOnlySpan
	}
	type resGroup struct {
		key    resKey
		res    *resource.Resource
		scopes []*scopeGroup
	}
	// Few resources and scopes in a batch (one and a handful): slices
	// searched in order keep the order of first appearance.
	var groups []*resGroup
	for _, s := range spans {
		res := s.Resource()
		rk := resKey{attrs: res.Equivalent(), schema: res.SchemaURL()}
		var rg *resGroup
		for _, g := range groups {
			if g.key == rk {
				rg = g
				break
			}
		}
		if rg == nil {
			rg = &resGroup{key: rk, res: res}
			groups = append(groups, rg)
		}
		sc := s.InstrumentationScope()
		sk := instrumentation.Scope{Name: sc.Name, Version: sc.Version, SchemaURL: sc.SchemaURL}
		var sg *scopeGroup
		for _, g := range rg.scopes {
			if g.key == sk {
				sg = g
				break
			}
		}
		if sg == nil {
			sg = &scopeGroup{key: sk, scope: sc}
			rg.scopes = append(rg.scopes, sg)
		}
		sg.spans = append(sg.spans, s)
	}
	for _, rg := range groups {
		var rs int
		b, rs = beginMessage(b, 1) // ExportTraceServiceRequest.resource_spans
		var r int
		b, r = beginMessage(b, 1) // ResourceSpans.resource
		b = appendKeyValues(b, 1, rg.res.Attributes())
		b = endMessage(b, r)
		for _, sg := range rg.scopes {
			var ss int
			b, ss = beginMessage(b, 2) // ResourceSpans.scope_spans
			var sc int
			b, sc = beginMessage(b, 1) // ScopeSpans.scope
			b = appendString(b, 1, sg.scope.Name)
			b = appendString(b, 2, sg.scope.Version)
			b = appendKeyValues(b, 3, sg.scope.Attributes.ToSlice())
			b = endMessage(b, sc)
			for _, s := range sg.spans {
				b = appendSpan(b, s)
			}
			b = appendString(b, 3, sg.scope.SchemaURL)
			b = endMessage(b, ss)
		}
		b = appendString(b, 3, rg.res.SchemaURL())
		b = endMessage(b, rs)
	}
	return b
}

// appendSpan appends one span as ScopeSpans.spans.
func appendSpan(b []byte, s sdktrace.ReadOnlySpan) []byte {
	var start int
	b, start = beginMessage(b, 2)
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	b = appendBytes(b, 1, tid[:])
	b = appendBytes(b, 2, sid[:])
	b = appendString(b, 3, sc.TraceState().String())
	if parent := s.Parent(); parent.SpanID().IsValid() {
		psid := parent.SpanID()
		b = appendBytes(b, 4, psid[:])
	}
	if es, ok := s.(*endedSpan); ok && es.prefix != "" {
		// A derived span's name, written in its two parts.
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(len(es.prefix)+len(es.name)))
		b = append(append(b, es.prefix...), es.name...)
	} else {
		b = appendString(b, 5, s.Name())
	}
	b = appendVarint(b, 6, uint64(s.SpanKind()))
	b = appendFixed64(b, 7, unixNano(s.StartTime()))
	b = appendFixed64(b, 8, unixNano(s.EndTime()))
	b = appendKeyValues(b, 9, s.Attributes())
	b = appendVarint(b, 10, uint64(uint32(max(s.DroppedAttributes(), 0))))
	for _, ev := range s.Events() {
		var e int
		b, e = beginMessage(b, 11)
		b = appendFixed64(b, 1, unixNano(ev.Time))
		b = appendString(b, 2, ev.Name)
		b = appendKeyValues(b, 3, ev.Attributes)
		b = appendVarint(b, 4, uint64(uint32(max(ev.DroppedAttributeCount, 0))))
		b = endMessage(b, e)
	}
	b = appendVarint(b, 12, uint64(uint32(max(s.DroppedEvents(), 0))))
	for _, l := range s.Links() {
		var ls int
		b, ls = beginMessage(b, 13)
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		b = appendBytes(b, 1, ltid[:])
		b = appendBytes(b, 2, lsid[:])
		b = appendString(b, 3, l.SpanContext.TraceState().String())
		b = appendKeyValues(b, 4, l.Attributes)
		b = appendVarint(b, 5, uint64(uint32(max(l.DroppedAttributeCount, 0))))
		b = appendFixed32(b, 6, spanFlags(l.SpanContext)|uint32(l.SpanContext.TraceFlags()))
		b = endMessage(b, ls)
	}
	b = appendVarint(b, 14, uint64(uint32(max(s.DroppedLinks(), 0))))
	var st int
	b, st = beginMessage(b, 15)
	status := s.Status()
	b = appendString(b, 2, status.Description)
	switch status.Code {
	case codes.Error:
		b = appendVarint(b, 3, otlpStatusError)
	case codes.Ok:
		b = appendVarint(b, 3, otlpStatusOK)
	}
	b = endMessage(b, st)
	b = appendFixed32(b, 16, spanFlags(s.Parent())|uint32(sc.TraceFlags()))
	return endMessage(b, start)
}

// spanFlags says whether the parent (or a link) is remote, as OTLP's
// flags carry it.
func spanFlags(sc trace.SpanContext) uint32 {
	f := uint32(otlpFlagHasIsRemote)
	if sc.IsRemote() {
		f |= otlpFlagIsRemote
	}
	return f
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(max(t.UnixNano(), 0))
}

// appendKeyValues appends attrs as the repeated KeyValue field num.
func appendKeyValues(b []byte, num protowire.Number, attrs []attribute.KeyValue) []byte {
	for _, a := range attrs {
		var kv int
		b, kv = beginMessage(b, num)
		b = appendString(b, 1, string(a.Key))
		var v int
		b, v = beginMessage(b, 2)
		b = appendAnyValue(b, a.Value)
		b = endMessage(b, v)
		b = endMessage(b, kv)
	}
	return b
}

// appendAnyValue appends the fields of an AnyValue: its one value, which
// is written even when it is its type's zero (a oneof member).
func appendAnyValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.BOOLSLICE:
		return appendArray(b, v.AsBoolSlice(), func(b []byte, x bool) []byte {
			return appendAnyValue(b, attribute.BoolValue(x))
		})
	case attribute.INT64SLICE:
		return appendArray(b, v.AsInt64Slice(), func(b []byte, x int64) []byte {
			return appendAnyValue(b, attribute.Int64Value(x))
		})
	case attribute.FLOAT64SLICE:
		return appendArray(b, v.AsFloat64Slice(), func(b []byte, x float64) []byte {
			return appendAnyValue(b, attribute.Float64Value(x))
		})
	case attribute.STRINGSLICE:
		return appendArray(b, v.AsStringSlice(), func(b []byte, x string) []byte {
			return appendAnyValue(b, attribute.StringValue(x))
		})
	}
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	return protowire.AppendString(b, v.AsString())
}

// appendArray appends AnyValue.array_value: an ArrayValue of vs.
func appendArray[T any](b []byte, vs []T, value func([]byte, T) []byte) []byte {
	var arr int
	b, arr = beginMessage(b, 5)
	for _, x := range vs {
		var v int
		b, v = beginMessage(b, 1)
		b = value(b, x)
		b = endMessage(b, v)
	}
	return endMessage(b, arr)
}

// beginMessage appends the tag of message field num and one byte for its
// length, which endMessage writes; it returns where the message starts.
// Most messages here (attributes, statuses) are under 128 bytes, whose
// length is that one byte.
func beginMessage(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

// endMessage writes the length of the message begun at start, moving it
// up when its length takes more than the byte kept for it.
func endMessage(b []byte, start int) []byte {
	n := len(b) - start
	if n < 0x80 {
		b[start-1] = byte(n)
		return b
	}
	size := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, size-1)...)
	copy(b[start-1+size:], b[start:start+n])
	protowire.AppendVarint(b[:start-1], uint64(n))
	return b
}

// appendString appends a string field, left out when empty (proto3).
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendBytes appends a bytes field, left out when empty (proto3).
func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendVarint appends a varint field, left out when 0 (proto3).
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendFixed64 appends a fixed64 field, left out when 0 (proto3).
func appendFixed64(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

// appendFixed32 appends a fixed32 field, left out when 0 (proto3).
func appendFixed32(b []byte, num protowire.Number, v uint32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}
