package tracing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// otlpExporter posts spans to an OTLP/HTTP receiver as a protobuf
// ExportTraceServiceRequest. It is aiflow's own rather than the
// otlptracehttp package's because that one links gRPC (for configuration
// shared with the gRPC exporter), whose html/template dependency turns off
// the linker's removal of unused methods: the ai step function doubled in
// size. The request is only "repeated ResourceSpans resource_spans = 1",
// written with protowire around the generated trace messages, which
// import no gRPC.
type otlpExporter struct {
	url     string
	headers map[string]string
	client  *http.Client
}

// newOTLPExporter returns an exporter posting to url (the whole traces
// endpoint) with headers, each request bounded by timeout.
func newOTLPExporter(url string, headers map[string]string, timeout time.Duration) *otlpExporter {
	return &otlpExporter{url: url, headers: headers, client: &http.Client{Timeout: timeout}}
}

// Retry bounds of an export the receiver refused for the moment.
const (
	otlpAttempts     = 4
	otlpFirstBackoff = 100 * time.Millisecond
)

// ExportSpans posts spans, again after a short wait (while ctx allows)
// when the receiver is unreachable or answers 429, 502, 503 or 504, as the
// OTLP specification asks. Any other answer but 2xx is an error.
func (e *otlpExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	body, err := encodeSpans(spans)
	if err != nil {
		return err
	}
	backoff := otlpFirstBackoff
	for attempt := 1; ; attempt++ {
		retry, err := e.post(ctx, body)
		if err == nil || !retry || attempt == otlpAttempts {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// post sends one request; retry says whether another may succeed.
func (e *otlpExporter) post(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("exporting spans to %s: %w", e.url, err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("exporting spans to %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	// The answer (an ExportTraceServiceResponse, maybe a partial
	// success) is read to reuse the connection, within a bound.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		retry = true
	}
	return retry, fmt.Errorf("exporting spans to %s: %s: %s", e.url, resp.Status, bytes.TrimSpace(msg[:min(len(msg), 512)]))
}

// Shutdown does nothing: the exporter holds only idle connections.
func (e *otlpExporter) Shutdown(context.Context) error {
	e.client.CloseIdleConnections()
	return nil
}

// encodeSpans writes spans as an ExportTraceServiceRequest: their
// ResourceSpans, each of their resource's ScopeSpans. Resources are told
// apart by what they hold, not by pointer: the spans aiflow builds whole
// carry a resource equal to the SDK's but not the same one.
func encodeSpans(spans []sdktrace.ReadOnlySpan) ([]byte, error) {
	type resKey struct {
		attrs  attribute.Distinct
		schema string
	}
	type scopeKey struct {
		res   resKey
		scope instrumentation.Scope
	}
	var (
		resources []*tracepb.ResourceSpans
		byRes     = map[resKey]*tracepb.ResourceSpans{}
		byScope   = map[scopeKey]*tracepb.ScopeSpans{}
	)
	for _, s := range spans {
		res := s.Resource()
		rk := resKey{attrs: res.Equivalent(), schema: res.SchemaURL()}
		rs := byRes[rk]
		if rs == nil {
			rs = &tracepb.ResourceSpans{Resource: &resourcepb.Resource{Attributes: keyValues(res.Attributes())}, SchemaUrl: res.SchemaURL()}
			byRes[rk] = rs
			resources = append(resources, rs)
		}
		sc := s.InstrumentationScope()
		k := scopeKey{res: rk, scope: instrumentation.Scope{Name: sc.Name, Version: sc.Version, SchemaURL: sc.SchemaURL}}
		ss := byScope[k]
		if ss == nil {
			ss = &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{Name: sc.Name, Version: sc.Version, Attributes: keyValues(sc.Attributes.ToSlice())}, SchemaUrl: sc.SchemaURL}
			byScope[k] = ss
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		ss.Spans = append(ss.Spans, spanProto(s))
	}
	var out []byte
	for _, rs := range resources {
		b, err := proto.Marshal(rs)
		if err != nil {
			return nil, fmt.Errorf("encoding spans: %w", err)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out, nil
}

// spanProto is one span in OTLP's shape.
func spanProto(s sdktrace.ReadOnlySpan) *tracepb.Span {
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	p := &tracepb.Span{
		TraceId:                tid[:],
		SpanId:                 sid[:],
		TraceState:             sc.TraceState().String(),
		Flags:                  spanFlags(s.Parent()),
		Name:                   s.Name(),
		Kind:                   tracepb.Span_SpanKind(s.SpanKind()),
		StartTimeUnixNano:      unixNano(s.StartTime()),
		EndTimeUnixNano:        unixNano(s.EndTime()),
		Attributes:             keyValues(s.Attributes()),
		DroppedAttributesCount: uint32(max(s.DroppedAttributes(), 0)),
		DroppedEventsCount:     uint32(max(s.DroppedEvents(), 0)),
		DroppedLinksCount:      uint32(max(s.DroppedLinks(), 0)),
		Status:                 &tracepb.Status{Message: s.Status().Description},
	}
	p.Flags |= uint32(sc.TraceFlags())
	if parent := s.Parent(); parent.SpanID().IsValid() {
		psid := parent.SpanID()
		p.ParentSpanId = psid[:]
	}
	switch s.Status().Code {
	case codes.Error:
		p.Status.Code = tracepb.Status_STATUS_CODE_ERROR
	case codes.Ok:
		p.Status.Code = tracepb.Status_STATUS_CODE_OK
	}
	for _, ev := range s.Events() {
		p.Events = append(p.Events, &tracepb.Span_Event{TimeUnixNano: unixNano(ev.Time), Name: ev.Name,
			Attributes: keyValues(ev.Attributes), DroppedAttributesCount: uint32(max(ev.DroppedAttributeCount, 0))})
	}
	for _, l := range s.Links() {
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		p.Links = append(p.Links, &tracepb.Span_Link{TraceId: ltid[:], SpanId: lsid[:], TraceState: l.SpanContext.TraceState().String(),
			Attributes: keyValues(l.Attributes), DroppedAttributesCount: uint32(max(l.DroppedAttributeCount, 0)),
			Flags: spanFlags(l.SpanContext) | uint32(l.SpanContext.TraceFlags())})
	}
	return p
}

// spanFlags says whether the parent (or a link) is remote, as OTLP's
// flags carry it.
func spanFlags(sc trace.SpanContext) uint32 {
	f := uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if sc.IsRemote() {
		f |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	return f
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(max(t.UnixNano(), 0))
}

// keyValues are attributes in OTLP's shape.
func keyValues(attrs []attribute.KeyValue) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, &commonpb.KeyValue{Key: string(a.Key), Value: anyValue(a.Value)})
	}
	return out
}

func anyValue(v attribute.Value) *commonpb.AnyValue {
	switch v.Type() {
	case attribute.BOOL:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}}
	case attribute.INT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}}
	case attribute.FLOAT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}}
	case attribute.BOOLSLICE:
		return array(v.AsBoolSlice(), func(b bool) *commonpb.AnyValue {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: b}}
		})
	case attribute.INT64SLICE:
		return array(v.AsInt64Slice(), func(n int64) *commonpb.AnyValue {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}
		})
	case attribute.FLOAT64SLICE:
		return array(v.AsFloat64Slice(), func(f float64) *commonpb.AnyValue {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
		})
	case attribute.STRINGSLICE:
		return array(v.AsStringSlice(), func(s string) *commonpb.AnyValue {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
		})
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v.AsString()}}
}

func array[T any](vs []T, f func(T) *commonpb.AnyValue) *commonpb.AnyValue {
	arr := &commonpb.ArrayValue{Values: make([]*commonpb.AnyValue, 0, len(vs))}
	for _, v := range vs {
		arr.Values = append(arr.Values, f(v))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}
}

// errNoEndpoint is New's error for an OTLP exporter without an endpoint,
// which config.LoadTracing never returns.
var errNoEndpoint = errors.New("making the OTLP trace exporter: no endpoint")
