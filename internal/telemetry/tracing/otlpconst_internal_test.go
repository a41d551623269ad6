package tracing

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// TestOTLPConstantsAreTheGeneratedOnes: the numbers the encoder writes are
// the generated code's, and trace.SpanKind numbers its kinds as OTLP does.
func TestOTLPConstantsAreTheGeneratedOnes(t *testing.T) {
	t.Parallel()
	require.EqualValues(t, tracepb.Status_STATUS_CODE_OK, otlpStatusOK)
	require.EqualValues(t, tracepb.Status_STATUS_CODE_ERROR, otlpStatusError)
	require.EqualValues(t, tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, otlpFlagHasIsRemote)
	require.EqualValues(t, tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK, otlpFlagIsRemote)
	for kind, want := range map[trace.SpanKind]tracepb.Span_SpanKind{
		trace.SpanKindUnspecified: tracepb.Span_SPAN_KIND_UNSPECIFIED,
		trace.SpanKindInternal:    tracepb.Span_SPAN_KIND_INTERNAL,
		trace.SpanKindServer:      tracepb.Span_SPAN_KIND_SERVER,
		trace.SpanKindClient:      tracepb.Span_SPAN_KIND_CLIENT,
		trace.SpanKindProducer:    tracepb.Span_SPAN_KIND_PRODUCER,
		trace.SpanKindConsumer:    tracepb.Span_SPAN_KIND_CONSUMER,
	} {
		require.EqualValues(t, want, kind, "%s", kind)
	}
}
