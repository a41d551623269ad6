package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
	"github.com/aiflow/aiflow/internal/telemetry/tracing/tracingtest"
)

// stepError is an error of a named type, whose type RecordError names.
type stepError struct{ msg string }

func (e *stepError) Error() string { return e.msg }

// spanScript makes, through tr, the spans the instrumentation makes and
// what the API allows on them: a consumer span under a message's X-Ray
// header with a link, attributes set twice and one invalid, a rename, a
// child, recorded errors, the status rules, events; a new root; a span
// ended by a panic; a span under an unsampled header; a span over the
// attribute limit. tag names the run in the new root's attributes (its
// trace differs).
func spanScript(ctx context.Context, tr trace.Tracer, at func(int) time.Time) {
	link := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	mctx, msg := tr.Start(telemetry.ContextWithXRayHeader(ctx, header), "process", trace.WithTimestamp(at(1)),
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(trace.Link{SpanContext: link, Attributes: []attribute.KeyValue{attribute.Int("n", 1)}}),
		trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", "m1"), attribute.String("", "invalid")))
	msg.SetAttributes(attribute.String("aiflow.step.id", "summarize"), attribute.String("messaging.message.id", "m2"),
		attribute.StringSlice("aiflow.tags", []string{"a", "b"}), attribute.Int("aiflow.step.attempt", 1))
	msg.SetName("process steps")
	msg.AddLink(trace.Link{}) // ignored: nothing in it
	_, call := tr.Start(mctx, "StepFunctions.SendTaskSuccess", trace.WithTimestamp(at(2)), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("rpc.method", "SendTaskSuccess")))
	call.RecordError(&stepError{msg: "throttled"}, trace.WithTimestamp(at(3)), trace.WithAttributes(attribute.Bool("retry", true)))
	call.RecordError(errors.New("plain"), trace.WithTimestamp(at(4)))
	call.SetStatus(codes.Error, "throttled")
	call.SetStatus(codes.Unset, "ignored")
	call.End(trace.WithTimestamp(at(5)))
	call.SetAttributes(attribute.String("after", "end")) // ignored: ended
	// Only a kind and attributes: the options aiflow's tracer reads
	// itself. Its start is now.
	_, quick := tr.Start(mctx, "quick", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("", "invalid")),
		trace.WithAttributes(attribute.String("rpc.method", "SendTaskSuccess"), attribute.String("rpc.system", "again")))
	quick.SetAttributes(attribute.Int("n", 1))
	quick.End(trace.WithTimestamp(at(6)))
	msg.AddEvent("retried", trace.WithTimestamp(at(6)), trace.WithAttributes(attribute.Int("attempt", 2), attribute.Int("attempt", 3)))
	msg.SetStatus(codes.Ok, "ignored")
	msg.SetStatus(codes.Error, "ignored: Ok is final")
	msg.End(trace.WithTimestamp(at(7)))
	msg.End(trace.WithTimestamp(at(8))) // ignored: ended

	_, root := tr.Start(mctx, "root", trace.WithNewRoot(), trace.WithTimestamp(at(1)),
		trace.WithAttributes(attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("a", 3)))
	root.End(trace.WithTimestamp(at(2)))

	func() {
		defer func() { _ = recover() }()
		_, s := tr.Start(mctx, "panicking", trace.WithTimestamp(at(1)))
		defer s.End(trace.WithTimestamp(at(2)))
		panic("boom")
	}()

	_, dropped := tr.Start(telemetry.ContextWithXRayHeader(ctx, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"), "unsampled")
	dropped.SetAttributes(attribute.String("k", "v"))
	dropped.End()

	_, many := tr.Start(mctx, "many", trace.WithTimestamp(at(1)))
	for i := range 140 {
		many.SetAttributes(attribute.Int(fmt.Sprintf("k%d", i%135), i))
	}
	many.End(trace.WithTimestamp(at(2)))
}

// TestLiveSpansAreTheSDKs: the spans of aiflow's tracers (what
// Provider.TracerProvider makes when tracing is on) are those the SDK's
// tracer makes for the same calls, as an exporter receives them.
func TestLiveSpansAreTheSDKs(t *testing.T) {
	t.Parallel()
	t.Run("kept", func(t *testing.T) {
		t.Parallel()
		rec, _ := recorded(t)
		liveSpansAreTheSDKs(t, rec, 1)
	})
	// Taken back after each export and made again: the script three times,
	// each exported before the next.
	t.Run("recycled", func(t *testing.T) {
		t.Parallel()
		rec, _ := recordedForgetful(t)
		liveSpansAreTheSDKs(t, rec, 3)
	})
}

// liveSpansAreTheSDKs runs spanScript runs times through aiflow's tracers
// and once through the SDK's, and compares each run's spans with the
// SDK's.
func liveSpansAreTheSDKs(t *testing.T, rec recorder, runs int) {
	base := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	const scope = "github.com/aiflow/aiflow/internal/steps"

	var runsGot [][]sdktrace.ReadOnlySpan
	for run := range runs {
		spanScript(t.Context(), rec.p.TracerProvider().Tracer(scope, trace.WithInstrumentationVersion("1.0")), at)
		ended := rec.Ended(t)
		require.Len(t, ended, 6*(run+1), "the unsampled span is not exported")
		runsGot = append(runsGot, ended[6*run:])
	}
	got := rec.Ended(t)
	require.Equal(t, "*tracing.liveProvider", fmt.Sprintf("%T", rec.p.TracerProvider()), "aiflow's tracers")
	spanScript(t.Context(), rec.p.SDKTracerProvider().Tracer(scope, trace.WithInstrumentationVersion("1.0")), at)
	want := rec.Ended(t)[len(got):]
	require.Len(t, want, 6)

	norm := func(spans []sdktrace.ReadOnlySpan) map[string]tracetest.SpanStub {
		out := comparable(t, spans)
		for name, s := range out {
			if name == "root" {
				s.SpanContext = s.SpanContext.WithTraceID(trace.TraceID{})
			}
			if name == "quick" {
				s.StartTime = time.Time{} // now, when it started
			}
			if name == "panicking" {
				for i := range s.Events {
					s.Events[i].Time = time.Time{} // now, when it panicked
				}
			}
			out[name] = s
		}
		return out
	}
	for run, got := range runsGot {
		require.Equal(t, norm(want), norm(got), "run %d", run)
		require.Equal(t, 2, norm(got)["process steps"].ChildSpanCount, "the call and quick; the others start after it ended")
	}
}

// TestALiveSpanKeptAfterItsExport: a span's handle kept after the span
// was exported and its memory taken back (a context kept, a log line
// written late) still reads its own span context and changes nothing,
// not the span now made in its memory.
func TestALiveSpanKeptAfterItsExport(t *testing.T) {
	t.Parallel()
	rec, _ := recordedForgetful(t)
	tr := rec.p.TracerProvider().Tracer("t")
	var stale []trace.Span
	var scs []trace.SpanContext
	for i := range 8 {
		_, s := tr.Start(t.Context(), fmt.Sprintf("old %d", i), trace.WithAttributes(attribute.Int("n", i)))
		s.End()
		stale, scs = append(stale, s), append(scs, s.SpanContext())
	}
	require.Len(t, rec.Ended(t), 8) // exported, taken back
	var fresh []trace.Span
	for i := range 8 {
		_, s := tr.Start(t.Context(), fmt.Sprintf("new %d", i))
		fresh = append(fresh, s)
	}
	for i, s := range stale {
		require.Equal(t, scs[i], s.SpanContext())
		require.False(t, s.IsRecording())
		s.SetAttributes(attribute.String("stale", "yes"))
		s.SetName("renamed")
		s.SetStatus(codes.Error, "stale")
		s.AddEvent("stale")
		s.RecordError(errors.New("stale"))
		s.AddLink(trace.Link{SpanContext: scs[0]})
		s.End()
	}
	for _, s := range fresh {
		require.True(t, s.IsRecording())
		s.End()
	}
	spans := rec.Ended(t)[8:]
	require.Len(t, spans, 8)
	for i, s := range spans {
		require.Equal(t, fmt.Sprintf("new %d", i), s.Name())
		require.Empty(t, s.Attributes())
		require.Empty(t, s.Events())
		require.Empty(t, s.Links())
		require.Equal(t, codes.Unset, s.Status().Code)
		require.Equal(t, fresh[i].SpanContext(), s.SpanContext())
	}
}

// TestLiveSpansFollowTheSampler: with always_off nothing is recorded and
// the spans still carry their trace, unsampled.
func TestLiveSpansFollowTheSampler(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Sampler: config.SamplerAlwaysOff}, Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	ctx, span := p.TracerProvider().Tracer("t").Start(telemetry.ContextWithXRayHeader(t.Context(), header), "s")
	require.False(t, span.IsRecording())
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", span.SpanContext().TraceID().String())
	require.False(t, span.SpanContext().IsSampled())
	require.Equal(t, span, trace.SpanFromContext(ctx))
	span.End()
	require.NoError(t, p.ForceFlush(t.Context()))
	require.Empty(t, exp.GetSpans())
}

// BenchmarkLiveSpan is BenchmarkSDKSpan's span through aiflow's tracer,
// its memory kept by the exporter (the SDK's no-op one) or taken back
// after the export (an exporter that keeps nothing, as aiflow's OTLP one).
func BenchmarkLiveSpan(b *testing.B) {
	b.Run("spans=kept", func(b *testing.B) { benchmarkLiveSpan(b, tracetest.NewNoopExporter(), nil) })
	b.Run("spans=recycled", func(b *testing.B) { benchmarkLiveSpan(b, &tracingtest.DiscardingExporter{}, nil) })
	// The kind as aiflow's instrumentation gives it, telemetry.ConsumerSpan,
	// which the tracer reads without a trace.SpanConfig.
	b.Run("spans=recycled/kind=aiflow's", func(b *testing.B) {
		benchmarkLiveSpan(b, &tracingtest.DiscardingExporter{}, telemetry.ConsumerSpan)
	})
}

// benchmarkLiveSpan starts and ends consumer spans under a message's
// header, their kind given by kind, or made by trace.WithSpanKind for
// each span when kind is nil.
func benchmarkLiveSpan(b *testing.B, exp sdktrace.SpanExporter, kind trace.SpanStartOption) {
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, Exporter: exp})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Shutdown(b.Context()) })
	tr := p.TracerProvider().Tracer("bench")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i++; i%4096 == 0 {
			require.NoError(b, p.ForceFlush(b.Context())) // every span exported
		}
		ctx := telemetry.ContextWithXRayHeader(b.Context(), header)
		k := kind
		if k == nil {
			k = trace.WithSpanKind(trace.SpanKindConsumer)
		}
		_, span := tr.Start(ctx, "process bench-steps", k,
			trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", "0f4bd6a1-8c1f-4b43-9d2a-7c3e0f4bd6a1")))
		span.End()
	}
}

// ctxKey is a key of a value the tests put in a context.
type ctxKey struct{}

// TestALiveSpansContext: the context aiflow's tracer returns holds the
// span for the trace API, the parent's values and its cancellation, and
// the spans started under it are its children.
func TestALiveSpansContext(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"kept", "recycled"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec, _ := recorded(t)
			if name == "recycled" {
				rec, _ = recordedForgetful(t)
			}
			parent, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "v"))
			tr := rec.p.TracerProvider().Tracer("t")
			ctx, span := tr.Start(parent, "outer")
			require.Equal(t, span, trace.SpanFromContext(ctx))
			require.Equal(t, span.SpanContext(), trace.SpanContextFromContext(ctx))
			require.Equal(t, "v", ctx.Value(ctxKey{}))
			cctx, inner := tr.Start(ctx, "inner")
			require.Equal(t, inner, trace.SpanFromContext(cctx))
			require.Equal(t, "v", cctx.Value(ctxKey{}))
			child, stop := context.WithCancel(cctx)
			defer stop()
			cancel()
			<-child.Done()
			require.ErrorIs(t, cctx.Err(), context.Canceled)
			inner.End()
			span.End()
			spans := rec.Ended(t)
			require.Len(t, spans, 2)
			require.Equal(t, "inner", spans[0].Name())
			require.Equal(t, span.SpanContext().SpanID(), spans[0].Parent().SpanID())
		})
	}
}
