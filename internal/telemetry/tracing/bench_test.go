package tracing_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// BenchmarkStateSpans is the state spans' cost of one execution of three
// Task states (five commits, an execution and three state spans), exported
// to a discarding exporter through the batch processor.
func BenchmarkStateSpans(b *testing.B) {
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, Exporter: tracetest.NewNoopExporter()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Shutdown(b.Context()) })
	states := tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
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
	commits = append(commits, h.events[n:])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		arn := fmt.Sprintf("%s-%d", execARN, i)
		i++
		for _, c := range commits {
			states.Observe(b.Context(), tracing.History{ExecutionARN: arn, StateMachineARN: machineARN, TraceHeader: header, Events: c})
		}
	}
}
