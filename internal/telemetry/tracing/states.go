package tracing

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// StateSpans derives spans from executions' history as it is committed,
// the way Step Functions' X-Ray integration derives its segments: a span
// per execution (ExecutionStarted to its end), the child of the trace
// header the execution was started with, and a span per state
// (StateEntered to StateExited), the child of the execution's span or of
// the Parallel or Map state it runs in. A state's failed task attempts
// and its retries are events of its span (TaskFailed and TaskTimedOut
// with error.type, each retry's TaskScheduled with aiflow.state.attempt),
// its retries counted in aiflow.state.retries. The spans carry the history's timestamps, not the time of the commit.
//
// It keeps each running execution's open spans in memory until the
// execution ends. An execution whose start this process did not see (it
// resumed after a restart) gets state spans parented directly under its
// trace header. An execution whose trace header says it is not sampled
// is skipped. It is safe for concurrent use.
type StateSpans struct {
	tracer trace.Tracer
	// execs holds a *execSpans per running execution. One execution's
	// batches come in order from one writer (the engine's contract with
	// its Store), so an execSpans needs no lock of its own.
	execs sync.Map
}

// StateSpansParams configures NewStateSpans.
type StateSpansParams struct {
	// TracerProvider makes the spans; nil means the OpenTelemetry global.
	TracerProvider trace.TracerProvider
}

// NewStateSpans returns an observer of committed history.
func NewStateSpans(p StateSpansParams) *StateSpans {
	return &StateSpans{tracer: tracerOf(p.TracerProvider)}
}

// History is one committed batch of an execution's history.
type History struct {
	// ExecutionARN and StateMachineARN name the execution.
	ExecutionARN    string
	StateMachineARN string
	// TraceHeader is the X-Ray trace header the execution was started
	// with (StartExecutionInput.TraceHeader); empty starts a trace.
	TraceHeader string
	// Events are the batch's history events, in order.
	Events []sfn.HistoryEvent
}

// execSpans is what StateSpans keeps of a running execution.
type execSpans struct {
	parent  context.Context // the execution's span, or its trace header
	span    trace.Span      // nil when the start was not seen
	skip    bool            // not sampled
	stateOf map[int64]*stateSpan
}

// stateSpan is one open state.
type stateSpan struct {
	ctx       context.Context
	span      trace.Span
	parent    *stateSpan
	scheduled int
	failed    bool
	done      bool
}

// Observe turns one committed batch into spans. ctx is only a base for
// the spans' contexts: their parents come from h. The batches of one
// execution must come in order, and not at once (as the engine commits
// them); those of different executions may come at once.
func (s *StateSpans) Observe(ctx context.Context, h History) {
	var x *execSpans
	if v, ok := s.execs.Load(h.ExecutionARN); ok {
		x = v.(*execSpans)
	}
	for _, ev := range h.Events {
		if x == nil {
			x = s.begin(ctx, h, ev)
			s.execs.Store(h.ExecutionARN, x)
		}
		end := executionEnd(ev.Type)
		if !x.skip {
			end = s.event(x, ev)
		}
		if end {
			s.execs.Delete(h.ExecutionARN)
			x = nil
		}
	}
}

// Open reports how many executions have open spans, for tests.
func (s *StateSpans) Open() int {
	n := 0
	s.execs.Range(func(any, any) bool { n++; return true })
	return n
}

// begin starts what is kept of an execution at its first event seen.
func (s *StateSpans) begin(ctx context.Context, h History, first sfn.HistoryEvent) *execSpans {
	parent := telemetry.ContextWithXRayHeader(trace.ContextWithSpanContext(context.WithoutCancel(ctx), trace.SpanContext{}), h.TraceHeader)
	x := &execSpans{parent: parent, stateOf: make(map[int64]*stateSpan, 32)}
	if sc := trace.SpanContextFromContext(parent); sc.IsValid() && !sc.IsSampled() {
		x.skip = true
		return x
	}
	if first.Type != "ExecutionStarted" {
		return x
	}
	machine := h.StateMachineARN
	if i := strings.LastIndexByte(machine, ':'); i >= 0 {
		machine = machine[i+1:]
	}
	pctx, span := s.tracer.Start(parent, "execution "+machine, trace.WithTimestamp(first.Timestamp), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("aiflow.execution.arn", h.ExecutionARN),
			attribute.String("aws.step_functions.state_machine.arn", h.StateMachineARN),
			attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "StepFunctions")))
	if !span.IsRecording() {
		x.skip = true
		return x
	}
	x.parent, x.span = pctx, span
	return x
}

// event applies one history event; it reports the execution's end.
func (s *StateSpans) event(x *execSpans, ev sfn.HistoryEvent) bool {
	prev := x.stateOf[ev.PreviousEventID]
	switch {
	case ev.StateEntered != nil:
		ctx := x.parent
		if prev != nil {
			ctx = prev.ctx
		}
		kind := strings.TrimSuffix(ev.Type, "StateEntered")
		sctx, span := s.tracer.Start(ctx, "state "+ev.StateEntered.Name, trace.WithTimestamp(ev.Timestamp),
			trace.WithAttributes(attribute.String("aiflow.state.name", ev.StateEntered.Name), attribute.String("aiflow.state.type", kind)))
		x.stateOf[ev.ID] = &stateSpan{ctx: sctx, span: span, parent: prev}
		return false
	case ev.StateExited != nil:
		if prev == nil {
			return false
		}
		prev.end(ev.Timestamp)
		x.stateOf[ev.ID] = prev.parent
		return false
	case executionEnd(ev.Type):
		x.end(ev)
		return true
	}
	x.stateOf[ev.ID] = prev
	if prev == nil {
		return false
	}
	// The attempts are events: each failure, and each retry's
	// TaskScheduled. A first attempt's start and a success are the
	// state's own start and end, and the worker's span tells when it ran.
	switch ev.Type {
	case "TaskScheduled":
		prev.scheduled++
		prev.failed = false
		if prev.scheduled > 1 {
			prev.span.AddEvent(ev.Type, trace.WithTimestamp(ev.Timestamp), trace.WithAttributes(attribute.Int("aiflow.state.attempt", prev.scheduled-1)))
		}
	case "TaskFailed", "TaskTimedOut":
		prev.failed = true
		prev.span.AddEvent(ev.Type, trace.WithTimestamp(ev.Timestamp), trace.WithAttributes(taskEventAttrs(ev)...))
	case "TaskSucceeded":
		prev.failed = false
	}
	return false
}

// taskEventAttrs are the attributes of a task event: the error of a
// failed attempt, the resource of a scheduled one.
func taskEventAttrs(ev sfn.HistoryEvent) []attribute.KeyValue {
	switch {
	case ev.TaskFailed != nil:
		return []attribute.KeyValue{attribute.String("error.type", ev.TaskFailed.Error)}
	case ev.TaskTimedOut != nil:
		return []attribute.KeyValue{attribute.String("error.type", ev.TaskTimedOut.Error)}
	}
	return nil
}

// end ends a state's span: failed when its last task attempt failed (a
// Catch took it elsewhere), with its retries counted.
func (st *stateSpan) end(at time.Time) {
	if st.done {
		return
	}
	st.done = true
	if st.scheduled > 1 {
		st.span.SetAttributes(attribute.Int("aiflow.state.retries", st.scheduled-1))
	}
	if st.failed {
		st.span.SetStatus(codes.Error, "the state's task failed")
	}
	st.span.End(trace.WithTimestamp(at))
}

// end ends the states still open (the ones the execution's end cut short)
// and the execution's span, at the execution's end.
func (x *execSpans) end(ev sfn.HistoryEvent) {
	var fail *sfn.FailureDetails
	switch {
	case ev.ExecutionFailed != nil:
		fail = ev.ExecutionFailed
	case ev.ExecutionAborted != nil:
		fail = ev.ExecutionAborted
	case ev.ExecutionTimedOut != nil:
		fail = ev.ExecutionTimedOut
	}
	for _, st := range x.stateOf {
		if st == nil || st.done {
			continue
		}
		if fail != nil {
			st.failed = true
		}
		st.end(ev.Timestamp)
	}
	if x.span == nil {
		return
	}
	x.span.SetAttributes(attribute.String("aiflow.execution.status", strings.TrimPrefix(ev.Type, "Execution")))
	if fail != nil {
		x.span.SetAttributes(attribute.String("error.type", fail.Error))
		x.span.SetStatus(codes.Error, fail.Error)
	}
	x.span.End(trace.WithTimestamp(ev.Timestamp))
}

// executionEnd reports whether typ ends an execution.
func executionEnd(typ string) bool {
	switch typ {
	case "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut":
		return true
	}
	return false
}

// tracerOf is tp's tracer, or the global provider's.
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(tracerName)
}
