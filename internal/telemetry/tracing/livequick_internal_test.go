package tracing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// TestQuickStartIsTheSpanConfig: the options quickStart reads, it reads as
// trace.NewSpanStartConfig does; the others it leaves to it.
func TestQuickStartIsTheSpanConfig(t *testing.T) {
	t.Parallel()
	a, b, c := attribute.String("a", "1"), attribute.Int("b", 2), attribute.StringSlice("c", []string{"x"})
	many := make([]attribute.KeyValue, maxQuickAttrs+1)
	for i := range many {
		many[i] = attribute.Int("k", i)
	}
	cases := []struct {
		name  string
		opts  []trace.SpanStartOption
		quick bool
	}{
		{"none", nil, true},
		{"kind", []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}, true},
		{"the last kind", []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithSpanKind(trace.SpanKindClient)}, true},
		{"attributes in order", []trace.SpanStartOption{trace.WithAttributes(a, b), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(c, a)}, true},
		{"no attributes", []trace.SpanStartOption{trace.WithAttributes()}, true},
		{"an invalid kind", []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKind(42))}, true},
		{"as many as it holds", []trace.SpanStartOption{trace.WithAttributes(many[:maxQuickAttrs]...)}, true},
		{"too many", []trace.SpanStartOption{trace.WithAttributes(many[:4]...), trace.WithAttributes(many[4:]...)}, false},
		{"a timestamp", []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(time.Unix(1, 0))}, false},
		{"a new root", []trace.SpanStartOption{trace.WithNewRoot()}, false},
		{"links", []trace.SpanStartOption{trace.WithLinks(trace.Link{})}, false},
		// aiflow's kinds (telemetry.KindOption), alone, with attributes, and
		// in their order among trace.WithSpanKind's.
		{"aiflow's kind", []trace.SpanStartOption{telemetry.ConsumerSpan}, true},
		{"aiflow's kind and attributes", []trace.SpanStartOption{telemetry.ClientSpan, trace.WithAttributes(a, b)}, true},
		{"aiflow's last kind", []trace.SpanStartOption{telemetry.ServerSpan, telemetry.ClientSpan}, true},
		{"aiflow's kind after another", []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(c), telemetry.ServerSpan}, true},
		{"another kind after aiflow's", []trace.SpanStartOption{telemetry.ServerSpan, trace.WithAttributes(c), trace.WithSpanKind(trace.SpanKindClient)}, true},
		{"aiflow's kind and a timestamp", []trace.SpanStartOption{telemetry.ClientSpan, trace.WithTimestamp(time.Unix(1, 0))}, false},
	}
	for _, tc := range cases {
		var q quickStart
		require.Equal(t, tc.quick, q.read(tc.opts), tc.name)
		if !tc.quick {
			continue
		}
		cfg := trace.NewSpanStartConfig(tc.opts...)
		require.Equal(t, cfg.SpanKind(), q.kind, tc.name)
		require.Equal(t, len(cfg.Attributes()), q.n, tc.name)
		if q.n > 0 {
			require.Equal(t, cfg.Attributes(), q.attrs[:q.n:q.n], tc.name)
		}
	}
}

// TestQuickStartAllocatesNothing: reading the options allocates nothing.
func TestQuickStartAllocatesNothing(t *testing.T) {
	attrs := trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", "m1"))
	for _, kind := range []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), telemetry.ConsumerSpan} {
		opts := []trace.SpanStartOption{kind, attrs}
		var q quickStart
		allocs := testing.AllocsPerRun(100, func() {
			q = quickStart{}
			if !q.read(opts) {
				t.Fatal("not read")
			}
		})
		require.Zero(t, allocs)
	}
}
