package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
)

func TestLogLinesCarryTheSpan(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: &buf})
	ctx := telemetry.ContextWithXRayHeader(t.Context(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	ctx = telemetry.WithStep(telemetry.WithExecutionID(ctx, "arn:aws:states:us-east-1:123456789012:execution:m:e"), "summarize")
	logger.WithGroup("g").InfoContext(ctx, "inside", "k", "v")
	logger.InfoContext(t.Context(), "outside")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var in, out map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &in))
	require.NoError(t, json.Unmarshal(lines[1], &out))
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", in["trace_id"])
	require.Equal(t, "53995c3f42cd8ad8", in["span_id"])
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:m:e", in["execution_id"])
	require.Equal(t, "summarize", in["step"])
	require.NotContains(t, out, "trace_id")
}

func TestXRayHeaderRoundTrip(t *testing.T) {
	t.Parallel()
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	ctx := telemetry.ContextWithXRayHeader(t.Context(), header)
	require.True(t, trace.SpanContextFromContext(ctx).IsRemote())
	require.Equal(t, header, telemetry.XRayHeader(ctx))
	require.Empty(t, telemetry.XRayHeader(t.Context()))
	require.Equal(t, t.Context(), telemetry.ContextWithXRayHeader(t.Context(), "garbage"))
}

// TestXRayHeaderIsThePropagators: the header written at once is the one
// the X-Ray propagator writes.
func TestXRayHeaderIsThePropagators(t *testing.T) {
	t.Parallel()
	for _, flags := range []trace.TraceFlags{0, trace.FlagsSampled} {
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x57, 0x59, 0xe9, 0x88, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 0xff}, TraceFlags: flags})
		ctx := trace.ContextWithSpanContext(t.Context(), sc)
		c := propagation.MapCarrier{}
		xray.Propagator{}.Inject(ctx, c)
		require.Equal(t, c["X-Amzn-Trace-Id"], telemetry.XRayHeader(ctx))
	}
}

// TestXRaySpanContextIsThePropagators: the header read at once gives the
// span context the X-Ray propagator extracts, malformed headers included.
func TestXRaySpanContextIsThePropagators(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cD8ad8;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=0",
		"Root=1-5759e988-bd862e3fe1be46a99427279x;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-5759e988:bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sample=11",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Pa=ent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1 ",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
		"Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;",
		"Root=1-5759e988-bd862e3fe1be46a994272793",
		"Root=1-5759E988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1_5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8adz;Sampled=1",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent;Sampled=1",
		"Root 1-5759e988-bd862e3fe1be46a994272793",
		";;",
		"garbage",
		"",
	} {
		want := trace.SpanContextFromContext(xray.Propagator{}.Extract(t.Context(), propagation.MapCarrier{"X-Amzn-Trace-Id": h}))
		require.Equal(t, want, telemetry.XRaySpanContext(h), "header %q", h)
		require.Equal(t, want, trace.SpanContextFromContext(telemetry.ContextWithXRayHeader(t.Context(), h)), "header %q", h)
	}
}

// remoteKey is a key of a value the remote context's test puts in its
// parent.
type remoteKey struct{}

// TestTheHeadersContextIsTheAPIs: the context ContextWithXRayHeader
// returns is what trace.ContextWithRemoteSpanContext returns for the same
// span context, to every reader of it (the span, its context, the parent's
// values and cancellation, a tracer starting a span under it).
func TestTheHeadersContextIsTheAPIs(t *testing.T) {
	t.Parallel()
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	parent, cancel := context.WithCancel(context.WithValue(t.Context(), remoteKey{}, "v"))
	got := telemetry.ContextWithXRayHeader(parent, header)
	want := trace.ContextWithRemoteSpanContext(parent, telemetry.XRaySpanContext(header))

	require.Equal(t, trace.SpanContextFromContext(want), trace.SpanContextFromContext(got))
	require.True(t, trace.SpanContextFromContext(got).IsRemote())
	gs, ws := trace.SpanFromContext(got), trace.SpanFromContext(want)
	require.Equal(t, ws.SpanContext(), gs.SpanContext())
	require.Equal(t, ws.IsRecording(), gs.IsRecording())
	gs.SetAttributes(attribute.String("k", "v")) // records nothing, as the API's
	gs.End()
	require.False(t, gs.IsRecording())
	require.Equal(t, fmt.Sprintf("%T", ws.TracerProvider()), fmt.Sprintf("%T", gs.TracerProvider()))
	require.Equal(t, "v", got.Value(remoteKey{}))

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	_, child := tp.Tracer("test").Start(got, "child")
	child.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	require.Equal(t, trace.SpanContextFromContext(want), spans[0].Parent)

	cancel()
	<-got.Done()
	require.ErrorIs(t, got.Err(), context.Canceled)
}

// TestTheHeadersContextIsOneAllocation: a worker makes one for every
// message it takes.
func TestTheHeadersContextIsOneAllocation(t *testing.T) {
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	allocs := testing.AllocsPerRun(100, func() { _ = telemetry.ContextWithXRayHeader(t.Context(), header) })
	require.Equal(t, 1.0, allocs)
}
