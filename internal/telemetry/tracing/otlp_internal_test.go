package tracing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestSpansBuiltWholeShareTheSDKsResource: a span of the sink and one of
// the SDK's tracer, of one provider, go out under one resource and one
// scope, as two spans of the SDK's would.
func TestSpansBuiltWholeShareTheSDKsResource(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	p, err := New(Params{Exporter: exp, ServiceName: "aiflow-test"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(t.Context()) })
	_, sdkSpan := p.TracerProvider().Tracer(tracerName).Start(t.Context(), "sdk")
	sdkSpan.End()
	sc, sampled := p.sink.newSpan(sdkSpan.SpanContext(), nil, "built", trace.SpanKindInternal, nil)
	require.True(t, sampled)
	now := time.Now()
	p.sink.export(&endedSpan{sink: p.sink, name: "built", sc: sc, parent: sdkSpan.SpanContext(), start: now, end: now, kind: trace.SpanKindInternal})
	require.NoError(t, p.ForceFlush(t.Context()))
	spans := exp.GetSpans().Snapshots()
	require.Len(t, spans, 2)
	require.NotSame(t, spans[0].Resource(), spans[1].Resource(), "equal, not the same")

	body, err := encodeSpans([]sdktrace.ReadOnlySpan{sdkSpan.(sdktrace.ReadOnlySpan), &endedSpan{sink: p.sink, name: "built", sc: sc, parent: sdkSpan.SpanContext(), start: now, end: now, kind: trace.SpanKindInternal}})
	require.NoError(t, err)
	var req collectortrace.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(body, &req))
	require.Len(t, req.ResourceSpans, 1)
	require.Len(t, req.ResourceSpans[0].ScopeSpans, 1)
	require.Len(t, req.ResourceSpans[0].ScopeSpans[0].Spans, 2)
	require.Equal(t, tracerName, req.ResourceSpans[0].ScopeSpans[0].Scope.Name)
	built := req.ResourceSpans[0].ScopeSpans[0].Spans[1]
	sid := sdkSpan.SpanContext().SpanID()
	require.Equal(t, sid[:], built.ParentSpanId)
}
