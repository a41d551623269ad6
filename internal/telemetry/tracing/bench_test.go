package tracing_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
	"github.com/aiflow/aiflow/internal/telemetry/tracing/tracingtest"
)

// BenchmarkStateSpans is the state spans' cost of one execution of three
// Task states (five commits, an execution and three state spans), exported
// to a discarding exporter through the batch processor.
func BenchmarkStateSpans(b *testing.B) {
	// kept: the exporter may keep the spans (the SDK's no-op one), which
	// are garbage once exported; recycled: it keeps nothing of them, as
	// aiflow's OTLP exporter, and they are taken back.
	b.Run("spans=kept", func(b *testing.B) { benchmarkStateSpans(b, tracetest.NewNoopExporter()) })
	b.Run("spans=recycled", func(b *testing.B) { benchmarkStateSpans(b, &tracingtest.DiscardingExporter{}) })
	b.Run("spans=recycled/inflight=1000", func(b *testing.B) { benchmarkStateSpansInFlight(b, &tracingtest.DiscardingExporter{}) })
}

// stateSpansCommits are the five commits of an execution of three Task
// states.
func stateSpansCommits() [][]sfn.HistoryEvent {
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	var commits [][]sfn.HistoryEvent
	for _, name := range []string{"One", "Two", "Three"} {
		n := len(h.events)
		h.add(sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: name}})
		h.add(sfn.HistoryEvent{Type: "TaskScheduled", TaskScheduled: &sfn.TaskScheduledDetails{}})
		h.add(sfn.HistoryEvent{Type: "TaskStarted"})
		h.add(sfn.HistoryEvent{Type: "TaskSubmitted"})
		commits = append(commits, h.events[max(n-2, 0):])
	}
	n := len(h.events)
	h.add(sfn.HistoryEvent{Type: "TaskSucceeded", TaskSucceeded: &sfn.TaskOutputDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskStateExited", StateExited: &sfn.StateExitedDetails{Name: "Three"}})
	h.add(sfn.HistoryEvent{Type: "ExecutionSucceeded", ExecutionSucceeded: &sfn.OutputDetails{}})
	return append(commits, h.events[n:])
}

// benchmarkStateSpansInFlight is benchmarkStateSpans with 1,000
// executions in flight, as the engine has them: each op is five commits
// of five executions in turn, so that each commit finds its execution's
// spans as the engine's commits do, not just touched.
func benchmarkStateSpansInFlight(b *testing.B, exp sdktrace.SpanExporter) {
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, Exporter: exp})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Shutdown(b.Context()) })
	states := tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
	const inFlight = 1000
	type slot struct {
		arn     string
		commits [][]sfn.HistoryEvent // its own copy, as each execution has
		next    int
	}
	// Twice as many histories as executions in flight, made before the
	// clock starts, each taken again 2,000 executions later: as cold as
	// a new one, and not made in the measured loop.
	histories := make([][][]sfn.HistoryEvent, 2*inFlight)
	arns := make([]string, 2*inFlight)
	for i := range histories {
		histories[i], arns[i] = stateSpansCommits(), fmt.Sprintf("%s-%d", execARN, i)
	}
	slots := make([]slot, inFlight)
	started := 0
	begin := func(s *slot) {
		k := started % len(histories)
		s.arn, s.commits, s.next = arns[k], histories[k], 0
		started++
	}
	for i := range slots {
		begin(&slots[i])
	}
	b.ReportAllocs()
	cursor := 0
	for b.Loop() {
		for range 5 {
			s := &slots[cursor]
			cursor = (cursor + 1) % inFlight
			states.Observe(b.Context(), tracing.History{ExecutionARN: s.arn, StateMachineARN: machineARN, TraceHeader: header, Events: s.commits[s.next]})
			if s.next++; s.next == len(s.commits) {
				begin(s)
				if started%1024 == 0 {
					require.NoError(b, p.ForceFlush(b.Context())) // every span exported
				}
			}
		}
	}
}

func benchmarkStateSpans(b *testing.B, exp sdktrace.SpanExporter) {
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, Exporter: exp})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Shutdown(b.Context()) })
	states := tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
	commits := stateSpansCommits()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		arn := fmt.Sprintf("%s-%d", execARN, i)
		i++
		if i%1024 == 0 {
			// Every span exported: a loop this tight outruns the
			// exporting goroutine on a busy machine, and spans dropped
			// would cost less than spans exported.
			require.NoError(b, p.ForceFlush(b.Context()))
		}
		for _, c := range commits {
			states.Observe(b.Context(), tracing.History{ExecutionARN: arn, StateMachineARN: machineARN, TraceHeader: header, Events: c})
		}
	}
}

// BenchmarkSDKSpan is one span through the SDK's tracer, as the worker's
// message spans are made (a consumer span of two attributes under the
// message's X-Ray header), to the same discarding exporter: what each of
// the spans StateSpans does not make costs.
func BenchmarkSDKSpan(b *testing.B) {
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, Exporter: tracetest.NewNoopExporter()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Shutdown(b.Context()) })
	tr := p.SDKTracerProvider().Tracer("bench")
	b.ReportAllocs()
	for b.Loop() {
		ctx := telemetry.ContextWithXRayHeader(b.Context(), header)
		_, span := tr.Start(ctx, "process bench-steps", trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", "0f4bd6a1-8c1f-4b43-9d2a-7c3e0f4bd6a1")))
		span.End()
	}
}
