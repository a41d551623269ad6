package tracing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

const (
	execARN    = "arn:aws:states:us-east-1:123456789012:execution:summary:e1"
	machineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:summary"
	header     = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
)

// history is a builder of an execution's history: each event follows the
// previous one, a second after it.
type history struct {
	base   time.Time
	events []sfn.HistoryEvent
}

func (h *history) add(ev sfn.HistoryEvent) int64 {
	ev.ID = int64(len(h.events) + 1)
	ev.PreviousEventID = ev.ID - 1
	ev.Timestamp = h.base.Add(time.Duration(ev.ID) * time.Second)
	h.events = append(h.events, ev)
	return ev.ID
}

func recorded(t *testing.T) (*tracetest.SpanRecorder, *tracing.StateSpans) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return rec, tracing.NewStateSpans(tracing.StateSpansParams{TracerProvider: tp})
}

func TestStateSpansFollowTheHistory(t *testing.T) {
	t.Parallel()
	rec, states := recorded(t)
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "summarize"}})
	h.add(sfn.HistoryEvent{Type: "TaskScheduled", TaskScheduled: &sfn.TaskScheduledDetails{Resource: "sendMessage.waitForTaskToken"}})
	h.add(sfn.HistoryEvent{Type: "TaskFailed", TaskFailed: &sfn.TaskFailureDetails{Error: "AI.Throttled"}})
	// The first commit ends here: the state stays open across commits.
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, StateMachineARN: machineARN, TraceHeader: header, Events: h.events})
	n := len(h.events)
	h.add(sfn.HistoryEvent{Type: "TaskScheduled", TaskScheduled: &sfn.TaskScheduledDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskSucceeded", TaskSucceeded: &sfn.TaskOutputDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskStateExited", StateExited: &sfn.StateExitedDetails{Name: "summarize"}})
	h.add(sfn.HistoryEvent{Type: "PassStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "done"}})
	h.add(sfn.HistoryEvent{Type: "PassStateExited", StateExited: &sfn.StateExitedDetails{Name: "done"}})
	h.add(sfn.HistoryEvent{Type: "ExecutionSucceeded", ExecutionSucceeded: &sfn.OutputDetails{}})
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, StateMachineARN: machineARN, TraceHeader: header, Events: h.events[n:]})
	require.Zero(t, states.Open())

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	require.Len(t, spans, 3)
	exec, summarize, done := spans["execution summary"], spans["state summarize"], spans["state done"]
	require.NotNil(t, exec)
	require.NotNil(t, summarize)
	require.NotNil(t, done)
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", exec.SpanContext().TraceID().String())
	require.Equal(t, "53995c3f42cd8ad8", exec.Parent().SpanID().String())
	require.Equal(t, exec.SpanContext().SpanID(), summarize.Parent().SpanID())
	require.Equal(t, exec.SpanContext().SpanID(), done.Parent().SpanID())
	require.Equal(t, h.events[0].Timestamp, exec.StartTime())
	require.Equal(t, h.events[len(h.events)-1].Timestamp, exec.EndTime())
	require.Equal(t, h.events[1].Timestamp, summarize.StartTime())
	require.Equal(t, h.events[6].Timestamp, summarize.EndTime())
	var names []string
	for _, ev := range summarize.Events() {
		names = append(names, ev.Name)
	}
	require.Equal(t, []string{"TaskFailed", "TaskScheduled"}, names, "the failure and the retry")
	require.Contains(t, summarize.Attributes(), attr("aiflow.state.retries", 1))
	require.Equal(t, codes.Unset, summarize.Status().Code)
}

func TestStateSpansOfAFailedExecutionAndANestedState(t *testing.T) {
	t.Parallel()
	rec, states := recorded(t)
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	h.add(sfn.HistoryEvent{Type: "ParallelStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "both"}})
	started := h.add(sfn.HistoryEvent{Type: "ParallelStateStarted"})
	h.add(sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "left"}})
	right := sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "right"}}
	h.add(right)
	h.events[len(h.events)-1].PreviousEventID = started // a second branch
	h.add(sfn.HistoryEvent{Type: "TaskFailed", TaskFailed: &sfn.TaskFailureDetails{Error: "MCP.Timeout"}})
	h.add(sfn.HistoryEvent{Type: "ExecutionFailed", ExecutionFailed: &sfn.FailureDetails{Error: "MCP.Timeout"}})
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, StateMachineARN: machineARN, TraceHeader: header, Events: h.events})
	require.Zero(t, states.Open())

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	require.Len(t, spans, 4)
	both := spans["state both"]
	require.Equal(t, both.SpanContext().SpanID(), spans["state left"].Parent().SpanID())
	require.Equal(t, both.SpanContext().SpanID(), spans["state right"].Parent().SpanID())
	require.Equal(t, codes.Error, spans["execution summary"].Status().Code)
	require.Equal(t, codes.Error, spans["state right"].Status().Code)
	require.Equal(t, h.events[len(h.events)-1].Timestamp, spans["state left"].EndTime())
}

func TestStateSpansSkipAnUnsampledExecution(t *testing.T) {
	t.Parallel()
	rec, states := recorded(t)
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	h.add(sfn.HistoryEvent{Type: "PassStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "p"}})
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0", Events: h.events})
	require.Equal(t, 1, states.Open())
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, Events: []sfn.HistoryEvent{{ID: 3, PreviousEventID: 2, Type: "ExecutionAborted", ExecutionAborted: &sfn.FailureDetails{}}}})
	require.Zero(t, states.Open())
	require.Empty(t, rec.Ended())
}
