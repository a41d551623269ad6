package mcpclient_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// callerSpan is the span context of a caller's span.
var callerSpan = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	TraceFlags: trace.FlagsSampled,
})

// TestACallCarriesItsCaller: a tool call made in a span, for an execution
// and a step, carries the span's W3C trace context and the execution and
// step in its _meta, beside its idempotency key; one made in a bare
// context carries only the key.
func TestACallCarriesItsCaller(t *testing.T) {
	t.Parallel()
	b := setup(t, mcpclient.ServerConfig{}, mcpclient.Options{})
	ctx := trace.ContextWithSpanContext(telemetry.WithStep(telemetry.WithExecutionID(t.Context(), "exec-7"), "Refund"), callerSpan)
	_, err := b.pool.Call(ctx, mcpclient.CallParams{Server: "test", Tool: "refund", Arguments: json.RawMessage(`{"order_id": 1042}`), IdempotencyKey: "k-1"})
	require.NoError(t, err)
	_, err = b.pool.Call(t.Context(), mcpclient.CallParams{Server: "test", Tool: "refund", Arguments: json.RawMessage(`{"order_id": 1043}`), IdempotencyKey: "k-2"})
	require.NoError(t, err)
	require.Equal(t, []mcp.Meta{
		{
			mcpclient.IdempotencyMetaKey: "k-1",
			"traceparent":                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"dev.aiflow/execution":       "exec-7",
			"dev.aiflow/step":            "Refund",
		},
		{mcpclient.IdempotencyMetaKey: "k-2"},
	}, b.server.Metas())
}

// TestCallerContext: a server reads a call's _meta into its context: the
// caller's span as its remote parent, the execution and step for its log
// lines; it keeps a span of its own, and leaves out what is not text.
func TestCallerContext(t *testing.T) {
	t.Parallel()
	meta := mcp.Meta{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "dev.aiflow/execution": "exec-7", "dev.aiflow/step": "Refund"}
	ctx := mcpclient.CallerContext(context.Background(), meta)
	sc := trace.SpanContextFromContext(ctx)
	require.Equal(t, callerSpan.TraceID(), sc.TraceID())
	require.Equal(t, callerSpan.SpanID(), sc.SpanID())
	require.True(t, sc.IsRemote())
	require.Equal(t, "exec-7", telemetry.ExecutionID(ctx))
	require.Equal(t, "Refund", telemetry.Step(ctx))

	own := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}})
	ctx = mcpclient.CallerContext(trace.ContextWithSpanContext(context.Background(), own), meta)
	require.Equal(t, own.TraceID(), trace.SpanContextFromContext(ctx).TraceID(), "a span of the server's own stays")

	ctx = mcpclient.CallerContext(context.Background(), mcp.Meta{"traceparent": 7, "dev.aiflow/execution": "bad\x00", "dev.aiflow/step": "not-a-traceparent-either"})
	require.False(t, trace.SpanContextFromContext(ctx).IsValid())
	require.Empty(t, telemetry.ExecutionID(ctx))
	require.Equal(t, "not-a-traceparent-either", telemetry.Step(ctx))
	require.NotPanics(t, func() { mcpclient.CallerContext(context.Background(), nil) })
}
