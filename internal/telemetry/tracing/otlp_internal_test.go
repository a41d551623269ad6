package tracing

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
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
	_, sdkSpan := p.sdk.Tracer(tracerName).Start(t.Context(), "sdk")
	sdkSpan.End()
	sc, sampled := p.sink.newSpan(sdkSpan.SpanContext(), nil, "", "built", trace.SpanKindInternal, nil)
	require.True(t, sampled)
	now := time.Now()
	p.sink.export(&endedSpan{sink: p.sink, name: "built", sc: sc, parent: sdkSpan.SpanContext(), start: now, end: now, kind: trace.SpanKindInternal})
	require.NoError(t, p.ForceFlush(t.Context()))
	spans := exp.GetSpans().Snapshots()
	require.Len(t, spans, 2)
	require.NotSame(t, spans[0].Resource(), spans[1].Resource(), "equal, not the same")

	body := appendSpans(nil, []sdktrace.ReadOnlySpan{sdkSpan.(sdktrace.ReadOnlySpan), &endedSpan{sink: p.sink, name: "built", sc: sc, parent: sdkSpan.SpanContext(), start: now, end: now, kind: trace.SpanKindInternal}})
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

// BenchmarkEncodeSpans is the OTLP exporter's encoding of a batch of 512
// spans (the batcher's default), executions' worth of the spans the
// enginebench workload makes: per execution, its span and three state
// spans built from history, and seven SDK spans of two attributes (the
// start, and each task's message and callback). It runs on the batcher's
// goroutine, which the engine benchmarks' discarding exporter leaves out.
func BenchmarkEncodeSpans(b *testing.B) {
	exp := tracetest.NewInMemoryExporter()
	p, err := New(Params{Exporter: exp, ServiceName: "aiflow-bench"})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	tr := p.TracerProvider().Tracer("bench")
	states := NewStateSpans(StateSpansParams{Provider: p})
	base := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for i := 0; len(exp.GetSpans()) < 512; i++ {
		ctx, start := tr.Start(context.Background(), "start", trace.WithSpanKind(trace.SpanKindClient))
		header := telemetry.XRayHeader(ctx)
		arn := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:bench:e%d", i)
		var evs []sfn.HistoryEvent
		add := func(ev sfn.HistoryEvent) {
			ev.ID = int64(len(evs) + 1)
			ev.PreviousEventID = ev.ID - 1
			ev.Timestamp = base.Add(time.Duration(ev.ID) * time.Millisecond)
			evs = append(evs, ev)
		}
		add(sfn.HistoryEvent{Type: "ExecutionStarted"})
		for _, name := range []string{"One", "Two", "Three"} {
			add(sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: name}})
			add(sfn.HistoryEvent{Type: "TaskScheduled"})
			add(sfn.HistoryEvent{Type: "TaskSucceeded"})
			add(sfn.HistoryEvent{Type: "TaskStateExited", StateExited: &sfn.StateExitedDetails{Name: name}})
			mctx, msg := tr.Start(telemetry.ContextWithXRayHeader(context.Background(), header), "process bench-steps", trace.WithSpanKind(trace.SpanKindConsumer),
				trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", "0f4bd6a1-8c1f-4b43-9d2a-7c3e0f4bd6a1")))
			_, cb := tr.Start(mctx, "StepFunctions.SendTaskSuccess", trace.WithSpanKind(trace.SpanKindClient))
			cb.End()
			msg.End()
		}
		add(sfn.HistoryEvent{Type: "ExecutionSucceeded"})
		states.Observe(context.Background(), History{ExecutionARN: arn, StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:bench", TraceHeader: header, Events: evs})
		start.End()
		require.NoError(b, p.ForceFlush(context.Background()))
	}
	spans := exp.GetSpans().Snapshots()[:512]
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSpans(buf[:0], spans)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/span")
}

// TestEncodeSpansIsTheGeneratedCodes: appendSpans writes the bytes the
// generated OTLP messages marshal to (encodeSpans, the former encoding),
// for spans with every kind of attribute, events, links, statuses, remote
// and local parents, trace state, dropped counts, and several resources
// and scopes.
func TestEncodeSpansIsTheGeneratedCodes(t *testing.T) {
	t.Parallel()
	ts, err := trace.ParseTraceState("vendor=value,other=1")
	require.NoError(t, err)
	sc := func(tid, sid byte, remote bool, state trace.TraceState) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{tid, 2, 3}, SpanID: trace.SpanID{sid, 5}, TraceFlags: trace.FlagsSampled, Remote: remote, TraceState: state})
	}
	resA := resource.NewSchemaless(attribute.String("service.name", "a"))
	resA2 := resource.NewSchemaless(attribute.String("service.name", "a")) // equal to resA, not the same
	resB := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "b"), attribute.Int("n", 2))
	scope1 := instrumentation.Scope{Name: "one"}
	scope2 := instrumentation.Scope{Name: "two", Version: "v1.2.3", SchemaURL: "https://opentelemetry.io/schemas/1.26.0", Attributes: attribute.NewSet(attribute.Bool("b", true))}
	at := time.Date(2026, 12, 6, 8, 0, 0, 123456789, time.UTC)
	long := strings.Repeat("x", 300) // lengths over one byte
	stubs := tracetest.SpanStubs{
		{Name: "every attribute", SpanContext: sc(1, 1, false, ts), Parent: sc(1, 9, true, trace.TraceState{}), SpanKind: trace.SpanKindServer,
			StartTime: at, EndTime: at.Add(time.Second), Resource: resA, InstrumentationScope: scope1,
			Attributes: []attribute.KeyValue{attribute.String("s", "v"), attribute.String("empty", ""), attribute.String("long", long), attribute.Bool("t", true), attribute.Bool("f", false),
				attribute.Int64("i", -42), attribute.Int64("zero", 0), attribute.Float64("fl", 1.5), attribute.Float64("fz", 0),
				attribute.BoolSlice("bs", []bool{true, false}), attribute.Int64Slice("is", []int64{1, -2}), attribute.Float64Slice("fs", []float64{0.5}),
				attribute.StringSlice("ss", []string{"a", "", long}), attribute.StringSlice("none", nil)},
			Status: sdktrace.Status{Code: codes.Error, Description: "broke"}, DroppedAttributes: 3, DroppedEvents: 2, DroppedLinks: 1,
			Events: []sdktrace.Event{{Name: "e1", Time: at, Attributes: []attribute.KeyValue{attribute.Int("k", 1)}, DroppedAttributeCount: 1}, {Name: "e2"}},
			Links:  []sdktrace.Link{{SpanContext: sc(7, 7, true, ts), Attributes: []attribute.KeyValue{attribute.String("l", "v")}, DroppedAttributeCount: 2}, {SpanContext: sc(8, 8, false, trace.TraceState{})}}},
		{Name: "a root", SpanContext: sc(2, 2, false, trace.TraceState{}), SpanKind: trace.SpanKindInternal, StartTime: at, EndTime: at, Resource: resA2, InstrumentationScope: scope1,
			Status: sdktrace.Status{Code: codes.Ok}},
		{Name: "other scope", SpanContext: sc(3, 3, false, trace.TraceState{}), Parent: sc(3, 1, false, trace.TraceState{}), SpanKind: trace.SpanKindConsumer,
			StartTime: at, EndTime: at.Add(time.Millisecond), Resource: resA, InstrumentationScope: scope2, Attributes: []attribute.KeyValue{attribute.String("big", long+long)}},
		{Name: "other resource", SpanContext: sc(4, 4, false, trace.TraceState{}), SpanKind: trace.SpanKindClient, StartTime: at, EndTime: at, Resource: resB, InstrumentationScope: scope2},
		{Name: "unset times", SpanContext: sc(5, 5, false, trace.TraceState{}), Resource: resA, InstrumentationScope: scope1},
	}
	var spans []sdktrace.ReadOnlySpan
	for range 3 { // big enough for multi-byte lengths at every level
		spans = append(spans, stubs.Snapshots()...)
	}
	want, err := encodeSpans(spans)
	require.NoError(t, err)
	got := appendSpans(nil, spans)
	var wantReq, gotReq collectortrace.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(want, &wantReq))
	require.NoError(t, proto.Unmarshal(got, &gotReq))
	require.True(t, proto.Equal(&wantReq, &gotReq), "want %v\ngot  %v", &wantReq, &gotReq)
	require.Len(t, gotReq.ResourceSpans, 2, "resA and resA2 are one")
	require.Equal(t, want, got, "the same bytes")
	require.Equal(t, want, appendSpans(make([]byte, 0, 7), spans), "written into a buffer in use")
}
