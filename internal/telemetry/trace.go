package telemetry

import (
	"context"
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Keys the logger adds from the span in a record's context.
const (
	keyTraceID = "trace_id"
	keySpanID  = "span_id"
)

// XRayHeader returns the trace context of ctx's span in X-Ray's format
// (Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1),
// as Step Functions' StartExecution takes it in traceHeader and SQS
// carries it in a message's AWSTraceHeader; "" when ctx holds no span
// context.
func XRayHeader(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	// The X-Ray propagator's format, written at once: this runs for every
	// execution started.
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [len("Root=1-12345678-123456789012345678901234;Parent=1234567890123456;Sampled=1")]byte
	h := append(b[:0], "Root=1-"...)
	h = hex.AppendEncode(h, tid[:4])
	h = append(h, '-')
	h = hex.AppendEncode(h, tid[4:])
	h = append(h, ";Parent="...)
	h = hex.AppendEncode(h, sid[:])
	h = append(h, ";Sampled="...)
	if sc.IsSampled() {
		h = append(h, '1')
	} else {
		h = append(h, '0')
	}
	return string(h)
}

// ContextWithXRayHeader returns a copy of ctx whose remote parent span is
// the one header names (X-Ray's format, as XRayHeader writes it). An
// empty or malformed header returns ctx unchanged.
func ContextWithXRayHeader(ctx context.Context, header string) context.Context {
	sc := XRaySpanContext(header)
	if !sc.IsValid() {
		return ctx
	}
	return contextWithRemote(ctx, sc)
}

// XRaySpanContext returns the remote span context header names (X-Ray's
// format), read by the X-Ray propagator's rules (its Extract), without
// its carrier map and copies: this runs for every message a worker
// takes and every execution the engine traces. An empty or malformed
// header returns the invalid span context.
func XRaySpanContext(header string) trace.SpanContext {
	if sc, ok := xraySpanContextAsWritten(header); ok {
		return sc
	}
	var scc trace.SpanContextConfig
	for rest := header; rest != ""; {
		part, more, found := strings.Cut(rest, ";")
		rest = more
		if !found {
			part = strings.TrimSpace(part)
		}
		_, value, ok := strings.Cut(part, "=")
		if !ok {
			return trace.SpanContext{}
		}
		switch {
		case strings.HasPrefix(part, "Root"):
			tid, ok := xrayTraceID(value)
			if !ok {
				return trace.SpanContext{}
			}
			scc.TraceID = tid
		case strings.HasPrefix(part, "Parent"):
			if len(value) != 2*len(scc.SpanID) || !decodeHex(scc.SpanID[:], value) || !scc.SpanID.IsValid() {
				return trace.SpanContext{}
			}
		case strings.HasPrefix(part, "Sampled"):
			scc.TraceFlags = 0
			if value == "1" {
				scc.TraceFlags = trace.FlagsSampled
			}
		}
	}
	scc.Remote = true
	sc := trace.NewSpanContext(scc)
	if !sc.IsValid() {
		return trace.SpanContext{}
	}
	return sc
}

// xrayWritten is the form of the headers XRayHeader writes (and Step
// Functions and Lambda pass on): Root, Parent and Sampled, in that order.
const xrayWritten = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

// xraySpanContextAsWritten reads a header of xrayWritten's form by its
// fixed positions, the fields where the general reading (XRaySpanContext)
// finds them: ok is false for any other header, which the general reading
// then reads.
func xraySpanContextAsWritten(h string) (trace.SpanContext, bool) {
	if len(h) != len(xrayWritten) || h[:5] != "Root=" || h[40:48] != ";Parent=" || h[64:73] != ";Sampled=" {
		return trace.SpanContext{}, false
	}
	var scc trace.SpanContextConfig
	tid, ok := xrayTraceID(h[5:40])
	if !ok || !decodeHex(scc.SpanID[:], h[48:64]) || !scc.SpanID.IsValid() {
		return trace.SpanContext{}, true
	}
	scc.TraceID, scc.Remote = tid, true
	if h[73] == '1' {
		scc.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(scc), true
}

// xrayTraceID reads X-Ray's 1-<8 hex digits>-<24 hex digits>.
func xrayTraceID(s string) (trace.TraceID, bool) {
	var tid trace.TraceID
	if len(s) != len("1-12345678-123456789012345678901234") || s[0] != '1' || s[1] != '-' || s[10] != '-' {
		return tid, false
	}
	if !decodeHex(tid[:4], s[2:10]) || !decodeHex(tid[4:], s[11:]) || !tid.IsValid() {
		return trace.TraceID{}, false
	}
	return tid, true
}

// decodeHex decodes lower-case hex digits s into dst, len(s) == 2*len(dst),
// as trace.TraceIDFromHex and SpanIDFromHex accept them (no upper case).
func decodeHex(dst []byte, s string) bool {
	for i := range dst {
		hi, ok1 := hexDigit(s[2*i])
		lo, ok2 := hexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// W3CTraceContext returns the span context of ctx in W3C Trace Context's
// traceparent and tracestate forms ("" for none), as an MCP tool call's
// _meta carries them.
func W3CTraceContext(ctx context.Context) (traceparent, tracestate string) {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier["traceparent"], carrier["tracestate"]
}

// ContextWithW3CTraceContext returns a copy of ctx whose remote parent span
// is the one traceparent (and tracestate) names, unless ctx holds a span
// context already; a malformed traceparent returns ctx unchanged.
func ContextWithW3CTraceContext(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" || trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent, "tracestate": tracestate})
}

// Span start options of the span kinds aiflow's instrumentation starts,
// made once: trace.WithSpanKind makes a new option, an allocation, at
// every call, and spans start on every request, message and call. Each
// is a KindOption, which any tracer applies as trace.WithSpanKind's and
// aiflow's reads without building a trace.SpanConfig.
var (
	ServerSpan   trace.SpanStartOption = KindOption{trace.WithSpanKind(trace.SpanKindServer), trace.SpanKindServer}
	ClientSpan   trace.SpanStartOption = KindOption{trace.WithSpanKind(trace.SpanKindClient), trace.SpanKindClient}
	ConsumerSpan trace.SpanStartOption = KindOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.SpanKindConsumer}
)

// KindOption is trace.WithSpanKind's option with its kind readable: it
// applies to a span's configuration as the option it holds does (it is
// that option, embedded), and a tracer that knows the type reads Kind
// instead (aiflow's: the kind is then taken with no trace.SpanConfig
// built and no call through the option). Make one with its own option's
// kind, as ServerSpan and the others are.
type KindOption struct {
	trace.SpanStartOption
	kind trace.SpanKind
}

// Kind is the span kind the option sets.
func (o KindOption) Kind() trace.SpanKind { return o.kind }
