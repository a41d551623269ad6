package tracing_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
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

// recorder is a provider whose spans are kept in memory.
type recorder struct {
	p   *tracing.Provider
	exp interface{ GetSpans() tracetest.SpanStubs }
}

// forgetfulExporter keeps copies of the spans it exports, whole (their
// attributes, events and links copied too), and nothing of the spans
// themselves: a tracing.ForgetfulExporter, under which aiflow makes its
// spans again from the memory of those exported.
type forgetfulExporter struct {
	mu    sync.Mutex
	spans tracetest.SpanStubs
}

var _ tracing.ForgetfulExporter = (*forgetfulExporter)(nil)

func (e *forgetfulExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range spans {
		stub := tracetest.SpanStubFromReadOnlySpan(s)
		stub.Attributes = slices.Clone(stub.Attributes)
		stub.Events = slices.Clone(stub.Events)
		for i := range stub.Events {
			stub.Events[i].Attributes = slices.Clone(stub.Events[i].Attributes)
		}
		stub.Links = slices.Clone(stub.Links)
		for i := range stub.Links {
			stub.Links[i].Attributes = slices.Clone(stub.Links[i].Attributes)
		}
		e.spans = append(e.spans, stub)
	}
	return nil
}

func (e *forgetfulExporter) Shutdown(context.Context) error { return nil }

func (e *forgetfulExporter) ForgetsSpans() {}

// GetSpans is the spans exported so far.
func (e *forgetfulExporter) GetSpans() tracetest.SpanStubs {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.spans)
}

// recordedForgetful is recorded with a forgetfulExporter: the spans
// aiflow makes are taken back after each export.
func recordedForgetful(t *testing.T) (recorder, *tracing.StateSpans) {
	t.Helper()
	exp := &forgetfulExporter{}
	p, err := tracing.New(tracing.Params{Exporter: exp, ServiceName: "aiflow-test"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return recorder{p: p, exp: exp}, tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
}

// Ended is the spans ended so far.
func (r recorder) Ended(t *testing.T) []sdktrace.ReadOnlySpan {
	t.Helper()
	require.NoError(t, r.p.ForceFlush(t.Context()))
	return r.exp.GetSpans().Snapshots()
}

func recorded(t *testing.T) (recorder, *tracing.StateSpans) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(tracing.Params{Exporter: exp, ServiceName: "aiflow-test"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return recorder{p: p, exp: exp}, tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
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
	for _, s := range rec.Ended(t) {
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
	for _, s := range rec.Ended(t) {
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
	require.Empty(t, rec.Ended(t))
}

// TestStateSpansAreTheSDKs: the spans built whole from history are the
// ones the SDK's tracer makes when the same spans are started and ended
// through it (as StateSpans once made them), but for their span IDs:
// names, kinds, parents, times, attributes in order, events, status,
// child counts, resource and scope.
func TestStateSpansAreTheSDKs(t *testing.T) {
	t.Parallel()
	t.Run("kept", func(t *testing.T) {
		t.Parallel()
		rec, states := recorded(t)
		stateSpansAreTheSDKs(t, rec, states, 1)
	})
	// Taken back after each export and made again: three executions one
	// after the other, each exported before the next starts, are each the
	// SDK's.
	t.Run("recycled", func(t *testing.T) {
		t.Parallel()
		rec, states := recordedForgetful(t)
		stateSpansAreTheSDKs(t, rec, states, 3)
	})
}

// stateSpansAreTheSDKs observes runs executions of one history in turn and
// checks the spans of each against the SDK's.
func stateSpansAreTheSDKs(t *testing.T, rec recorder, states *tracing.StateSpans, runs int) {
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	h.add(sfn.HistoryEvent{Type: "ParallelStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "both"}})
	started := h.add(sfn.HistoryEvent{Type: "ParallelStateStarted"})
	h.add(sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "left"}})
	h.add(sfn.HistoryEvent{Type: "TaskScheduled", TaskScheduled: &sfn.TaskScheduledDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskFailed", TaskFailed: &sfn.TaskFailureDetails{Error: "AI.Throttled"}})
	h.add(sfn.HistoryEvent{Type: "TaskScheduled", TaskScheduled: &sfn.TaskScheduledDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskSucceeded", TaskSucceeded: &sfn.TaskOutputDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskStateExited", StateExited: &sfn.StateExitedDetails{Name: "left"}})
	h.add(sfn.HistoryEvent{Type: "PassStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "right"}})
	h.events[len(h.events)-1].PreviousEventID = started // the second branch
	h.add(sfn.HistoryEvent{Type: "PassStateExited", StateExited: &sfn.StateExitedDetails{Name: "right"}})
	h.add(sfn.HistoryEvent{Type: "ParallelStateSucceeded"})
	h.add(sfn.HistoryEvent{Type: "ParallelStateExited", StateExited: &sfn.StateExitedDetails{Name: "both"}})
	h.add(sfn.HistoryEvent{Type: "TaskStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "last"}})
	h.add(sfn.HistoryEvent{Type: "TaskScheduled", TaskScheduled: &sfn.TaskScheduledDetails{}})
	h.add(sfn.HistoryEvent{Type: "TaskTimedOut", TaskTimedOut: &sfn.TaskFailureDetails{Error: "States.Timeout"}})
	h.add(sfn.HistoryEvent{Type: "ExecutionFailed", ExecutionFailed: &sfn.FailureDetails{Error: "States.Timeout"}})
	var runsGot [][]sdktrace.ReadOnlySpan
	for run := range runs {
		for i := range h.events { // one commit per event
			states.Observe(t.Context(), tracing.History{ExecutionARN: fmt.Sprintf("%s-%d", execARN, run), StateMachineARN: machineARN, TraceHeader: header,
				Events: h.events[i : i+1]})
		}
		require.Zero(t, states.Open())
		ended := rec.Ended(t)
		require.Len(t, ended, 5*(run+1))
		runsGot = append(runsGot, ended[5*run:])
	}
	got := rec.Ended(t)

	// The same spans through the SDK's tracer.
	at := func(id int) time.Time { return h.events[id-1].Timestamp }
	tr := rec.p.SDKTracerProvider().Tracer("github.com/aiflow/aiflow/internal/telemetry/tracing")
	ectx, exec := tr.Start(telemetry.ContextWithXRayHeader(t.Context(), header), "execution summary", trace.WithTimestamp(at(1)), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("aiflow.execution.arn", execARN+"-0"), attribute.String("aws.step_functions.state_machine.arn", machineARN),
			attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "StepFunctions")))
	state := func(ctx context.Context, name, kind string, id int) (context.Context, trace.Span) {
		return tr.Start(ctx, "state "+name, trace.WithTimestamp(at(id)),
			trace.WithAttributes(attribute.String("aiflow.state.name", name), attribute.String("aiflow.state.type", kind)))
	}
	bctx, both := state(ectx, "both", "Parallel", 2)
	_, left := state(bctx, "left", "Task", 4)
	left.AddEvent("TaskFailed", trace.WithTimestamp(at(6)), trace.WithAttributes(attribute.String("error.type", "AI.Throttled")))
	left.AddEvent("TaskScheduled", trace.WithTimestamp(at(7)), trace.WithAttributes(attribute.Int("aiflow.state.attempt", 1)))
	left.SetAttributes(attribute.Int("aiflow.state.retries", 1))
	left.End(trace.WithTimestamp(at(9)))
	_, right := state(bctx, "right", "Pass", 10)
	right.End(trace.WithTimestamp(at(11)))
	both.End(trace.WithTimestamp(at(13)))
	_, last := state(ectx, "last", "Task", 14)
	last.AddEvent("TaskTimedOut", trace.WithTimestamp(at(16)), trace.WithAttributes(attribute.String("error.type", "States.Timeout")))
	last.SetStatus(codes.Error, "the state's task failed")
	last.End(trace.WithTimestamp(at(17)))
	exec.SetAttributes(attribute.String("aiflow.execution.status", "Failed"), attribute.String("error.type", "States.Timeout"))
	exec.SetStatus(codes.Error, "States.Timeout")
	exec.End(trace.WithTimestamp(at(17)))
	want := rec.Ended(t)[len(got):]
	require.Len(t, want, 5)

	for run, got := range runsGot {
		// The execution ARN attribute names the run.
		for _, s := range want {
			if s.Name() == "execution summary" {
				s.Attributes()[0] = attribute.String("aiflow.execution.arn", fmt.Sprintf("%s-%d", execARN, run))
			}
		}
		require.Equal(t, comparable(t, want), comparable(t, got), "run %d", run)
	}
}

// comparable are spans by name, their own span IDs left out and their
// parents named.
func comparable(t *testing.T, spans []sdktrace.ReadOnlySpan) map[string]tracetest.SpanStub {
	t.Helper()
	names := map[trace.SpanID]string{}
	for _, s := range spans {
		names[s.SpanContext().SpanID()] = s.Name()
	}
	out := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		stub := tracetest.SpanStubFromReadOnlySpan(s)
		stub.SpanContext = stub.SpanContext.WithSpanID(trace.SpanID{})
		if name, ok := names[stub.Parent.SpanID()]; ok {
			stub.Parent = stub.Parent.WithSpanID(trace.SpanID{}).WithTraceState(trace.TraceState{})
			stub.Name += " under " + name
		}
		out[s.Name()] = stub
	}
	return out
}

// TestStateSpansFollowTheSampler: the provider's sampler decides an
// execution's spans, as it decides the SDK tracer's: always_off makes
// none of a sampled trace header, and the decision is taken once.
func TestStateSpansFollowTheSampler(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(tracing.Params{Config: config.Tracing{Sampler: config.SamplerAlwaysOff}, Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	states := tracing.NewStateSpans(tracing.StateSpansParams{Provider: p})
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	h.add(sfn.HistoryEvent{Type: "PassStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "p"}})
	h.add(sfn.HistoryEvent{Type: "PassStateExited", StateExited: &sfn.StateExitedDetails{Name: "p"}})
	h.add(sfn.HistoryEvent{Type: "ExecutionSucceeded", ExecutionSucceeded: &sfn.OutputDetails{}})
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, StateMachineARN: machineARN, TraceHeader: header, Events: h.events})
	// Started elsewhere (resumed): its states alone, under the header.
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN + "-resumed", StateMachineARN: machineARN, TraceHeader: header, Events: h.events[1:]})
	require.Zero(t, states.Open())
	require.NoError(t, p.ForceFlush(t.Context()))
	require.Empty(t, exp.GetSpans())
}

// TestStateSpansOfAResumedExecution: an execution whose start this
// process did not see gets its states' spans under its trace header.
func TestStateSpansOfAResumedExecution(t *testing.T) {
	t.Parallel()
	rec, states := recorded(t)
	h := &history{base: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	h.add(sfn.HistoryEvent{Type: "ExecutionStarted", ExecutionStarted: &sfn.ExecutionStartedDetails{}})
	h.add(sfn.HistoryEvent{Type: "PassStateEntered", StateEntered: &sfn.StateEnteredDetails{Name: "p"}})
	h.add(sfn.HistoryEvent{Type: "PassStateExited", StateExited: &sfn.StateExitedDetails{Name: "p"}})
	h.add(sfn.HistoryEvent{Type: "ExecutionSucceeded", ExecutionSucceeded: &sfn.OutputDetails{}})
	states.Observe(t.Context(), tracing.History{ExecutionARN: execARN, StateMachineARN: machineARN, TraceHeader: header, Events: h.events[1:]})
	require.Zero(t, states.Open())
	spans := rec.Ended(t)
	require.Len(t, spans, 1)
	require.Equal(t, "state p", spans[0].Name())
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", spans[0].SpanContext().TraceID().String())
	require.Equal(t, "53995c3f42cd8ad8", spans[0].Parent().SpanID().String())
	require.True(t, spans[0].Parent().IsRemote())
}
