package tracing

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
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
// its retries counted in aiflow.state.retries. The spans carry the
// history's timestamps, not the time of the commit.
//
// The spans are built whole when they end and handed to the provider's
// batcher (see spanSink), not started and ended through the SDK's
// tracer: both ends come from history, so there is no live span to
// keep. The execution's sampling decision, taken once by the provider's
// sampler, holds for its states.
//
// It keeps each running execution's open spans in memory until the
// execution ends. An execution whose start this process did not see (it
// resumed after a restart) gets state spans parented directly under its
// trace header. An execution whose trace header says it is not sampled
// is skipped. It is safe for concurrent use.
type StateSpans struct {
	sink *spanSink // nil when tracing is off: nothing is made
	// execs holds the running executions, in shards chosen by the end of
	// their ARN (see shardOf) so that the engine's commit writers seldom
	// wait on each other. One execution's batches come in order from one
	// writer (the engine's contract with its Store), so an execSpans
	// needs no lock of its own.
	execs [stateShards]execShard
}

// stateShards is how many shards StateSpans keeps its executions in.
const stateShards = 16

// execShard is a shard of StateSpans.execs.
type execShard struct {
	mu sync.Mutex
	m  map[string]*execSpans
	_  [48]byte // a cache line of its own
}

// shardOf is the shard of an execution ARN: its last bytes (the
// execution's name, which differs from one execution to the next), not a
// hash of the whole, which the shard's map computes anyway.
func shardOf(arn string) int {
	h := uint32(2166136261)
	for i := max(len(arn)-8, 0); i < len(arn); i++ {
		h = (h ^ uint32(arn[i])) * 16777619
	}
	return int(h % stateShards)
}

// StateSpansParams configures NewStateSpans.
type StateSpansParams struct {
	// Provider makes and exports the spans; nil, or a provider with
	// tracing off, makes none.
	Provider *Provider
}

// NewStateSpans returns an observer of committed history.
func NewStateSpans(p StateSpansParams) *StateSpans {
	s := &StateSpans{}
	if p.Provider != nil {
		s.sink = p.Provider.sink
	}
	for i := range s.execs {
		s.execs[i].m = make(map[string]*execSpans)
	}
	return s
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

// execSpans is what StateSpans keeps of a running execution. When the
// sink recycles spans, it is taken from execPool and put back, with the
// state spans it made, once the execution has ended and every span of it
// has been exported (refs).
type execSpans struct {
	// The fields each commit reads come first, in one cache line: the
	// execution's open spans are read back from memory once per commit,
	// long after they were written.
	skip bool // not sampled
	// decided and sampled are the sampling decision for the states
	// parented under the trace header, once taken (the start not seen).
	decided, sampled bool
	// stateOf is the state each event ID (from base on) belongs to: the
	// one open when it was written.
	base    int64
	stateOf []*stateSpan
	// span is the execution's span (own, below), nil when its start was
	// not seen.
	span   *endedSpan
	parent trace.SpanContext // the execution's span, or its trace header
	// states are the state spans made for this execution, the first
	// used of them; those beyond are kept from an earlier execution, to
	// be made again.
	states []*stateSpan
	used   int
	// refs counts the execution's spans handed to the exporter and not
	// yet released, and one more while the execution runs; the last
	// release puts it back in execPool. Only when the sink recycles.
	refs atomic.Int32
	own  endedSpan
	// attrs holds own's attributes: four at its start, its status and
	// its error at its end.
	attrs [6]attribute.KeyValue
}

// execPool holds execSpans for reuse, when the sink recycles spans.
var execPool = sync.Pool{New: func() any { return &execSpans{stateOf: make([]*stateSpan, 0, 32)} }}

// newState returns a state span to fill: a kept one, cleared, or a new
// one.
func (x *execSpans) newState() *stateSpan {
	if x.used < len(x.states) {
		st := x.states[x.used]
		x.used++
		// Its span and attributes are written whole when it is made.
		st.parent, st.sampled, st.scheduled, st.failed, st.done = nil, false, 0, false, false
		return st
	}
	st := &stateSpan{}
	if x.refs.Load() > 0 { // recycled: kept for the next execution
		x.states = append(x.states, st)
		x.used++
	}
	return st
}

// exporting notes that one of the execution's spans goes to the
// exporter, which will release it.
func (x *execSpans) exporting(s *endedSpan) {
	if x.refs.Load() > 0 {
		x.refs.Add(1)
		s.owner = x
	}
}

// release is the exporter's, or the observer's at the execution's end:
// the last one puts x back in execPool.
func (x *execSpans) release() {
	if x.refs.Add(-1) != 0 {
		return
	}
	clear(x.stateOf)
	*x = execSpans{stateOf: x.stateOf[:0], states: x.states}
	execPool.Put(x)
}

// stateSpan is one open state. The fields each event of the state reads
// come first, in one cache line.
type stateSpan struct {
	parent    *stateSpan
	sampled   bool
	failed    bool
	done      bool
	scheduled int
	span      endedSpan
	attrs     [3]attribute.KeyValue // name and type, and retries when there were
}

// Observe turns one committed batch into spans. ctx is not used for the
// spans: their parents come from h. The batches of one execution must
// come in order, and not at once (as the engine commits them); those of
// different executions may come at once.
func (s *StateSpans) Observe(_ context.Context, h History) {
	if s.sink == nil {
		return
	}
	sh := &s.execs[shardOf(h.ExecutionARN)]
	sh.mu.Lock()
	x := sh.m[h.ExecutionARN]
	sh.mu.Unlock()
	for i := range h.Events {
		ev := &h.Events[i]
		if x == nil {
			x = s.begin(h, ev)
			sh.mu.Lock()
			sh.m[h.ExecutionARN] = x
			sh.mu.Unlock()
		}
		end := executionEnd(ev.Type)
		if !x.skip {
			end = s.event(x, ev)
		}
		if end {
			sh.mu.Lock()
			delete(sh.m, h.ExecutionARN)
			sh.mu.Unlock()
			if x.refs.Load() > 0 {
				x.release() // the observer's hold
			}
			x = nil
		}
	}
}

// Open reports how many executions have open spans, for tests.
func (s *StateSpans) Open() int {
	n := 0
	for i := range s.execs {
		sh := &s.execs[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// begin starts what is kept of an execution at its first event seen.
func (s *StateSpans) begin(h History, first *sfn.HistoryEvent) *execSpans {
	var x *execSpans
	if s.sink.recycle {
		x = execPool.Get().(*execSpans)
		x.refs.Store(1)
	} else {
		x = &execSpans{stateOf: make([]*stateSpan, 0, 32)}
	}
	x.parent, x.base = telemetry.XRaySpanContext(h.TraceHeader), first.ID
	if x.parent.IsValid() && !x.parent.IsSampled() {
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
	x.attrs[0] = attribute.String("aiflow.execution.arn", h.ExecutionARN)
	x.attrs[1] = attribute.String("aws.step_functions.state_machine.arn", h.StateMachineARN)
	x.attrs[2] = attribute.String("rpc.system", "aws-api")
	x.attrs[3] = attribute.String("rpc.service", "StepFunctions")
	attrs := x.attrs[:4]
	sc, sampled := s.sink.newSpan(x.parent, nil, "execution ", machine, trace.SpanKindServer, attrs)
	if !sampled {
		x.skip = true
		return x
	}
	x.own = endedSpan{sink: s.sink, prefix: "execution ", name: machine, sc: sc, parent: x.parent, kind: trace.SpanKindServer,
		start: first.Timestamp, attrs: attrs}
	x.parent, x.span = sc, &x.own
	x.decided, x.sampled = true, true
	return x
}

// at is the state event id belongs to, nil for none.
func (x *execSpans) at(id int64) *stateSpan {
	if i := id - x.base; i >= 0 && i < int64(len(x.stateOf)) {
		return x.stateOf[i]
	}
	return nil
}

// maxIDGap bounds the slots set fills when event IDs jump, which the
// engine's (consecutive from 1) never do.
const maxIDGap = 1 << 12

// set notes that event id belongs to st.
func (x *execSpans) set(id int64, st *stateSpan) {
	i := id - x.base
	switch {
	case i < 0 || i >= int64(len(x.stateOf))+maxIDGap:
		return
	case i < int64(len(x.stateOf)):
		x.stateOf[i] = st
		return
	}
	for int64(len(x.stateOf)) < i {
		x.stateOf = append(x.stateOf, nil)
	}
	x.stateOf = append(x.stateOf, st)
}

// event applies one history event; it reports the execution's end.
func (s *StateSpans) event(x *execSpans, ev *sfn.HistoryEvent) bool {
	prev := x.at(ev.PreviousEventID)
	for prev != nil && prev.done {
		// An ended span is the exporter's: what follows it belongs to the
		// state around it.
		prev = prev.parent
	}
	switch {
	case ev.StateEntered != nil:
		st := x.newState()
		st.parent = prev
		st.attrs[0] = attribute.String("aiflow.state.name", ev.StateEntered.Name)
		st.attrs[1] = attribute.String("aiflow.state.type", strings.TrimSuffix(ev.Type, "StateEntered"))
		attrs := st.attrs[:2]
		parent, decided, into := x.parent, (*bool)(nil), x.span
		switch {
		case prev != nil:
			parent, decided, into = prev.span.sc, &prev.sampled, &prev.span
		case x.decided:
			decided = &x.sampled
		}
		sc, sampled := s.sink.newSpan(parent, decided, "state ", ev.StateEntered.Name, trace.SpanKindInternal, attrs)
		if decided == nil && parent.IsValid() {
			x.decided, x.sampled = true, sampled
		}
		if into != nil {
			into.children++
		}
		st.sampled = sampled
		st.span = endedSpan{sink: s.sink, prefix: "state ", name: ev.StateEntered.Name, sc: sc, parent: parent, kind: trace.SpanKindInternal,
			start: ev.Timestamp, attrs: attrs}
		x.set(ev.ID, st)
		return false
	case ev.StateExited != nil:
		if prev == nil {
			return false
		}
		s.end(x, prev, ev.Timestamp)
		x.set(ev.ID, prev.parent)
		return false
	case executionEnd(ev.Type):
		s.endExecution(x, ev)
		return true
	}
	x.set(ev.ID, prev)
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
			prev.span.events = append(prev.span.events, sdktrace.Event{Name: ev.Type, Time: ev.Timestamp,
				Attributes: []attribute.KeyValue{attribute.Int("aiflow.state.attempt", prev.scheduled-1)}})
		}
	case "TaskFailed", "TaskTimedOut":
		prev.failed = true
		prev.span.events = append(prev.span.events, sdktrace.Event{Name: ev.Type, Time: ev.Timestamp, Attributes: taskEventAttrs(ev)})
	case "TaskSucceeded":
		prev.failed = false
	}
	return false
}

// taskEventAttrs are the attributes of a task event: the error of a
// failed attempt, the resource of a scheduled one.
func taskEventAttrs(ev *sfn.HistoryEvent) []attribute.KeyValue {
	switch {
	case ev.TaskFailed != nil:
		return []attribute.KeyValue{attribute.String("error.type", ev.TaskFailed.Error)}
	case ev.TaskTimedOut != nil:
		return []attribute.KeyValue{attribute.String("error.type", ev.TaskTimedOut.Error)}
	}
	return nil
}

// end ends a state's span: failed when its last task attempt failed (a
// Catch took it elsewhere), with its retries counted; a sampled one is
// exported.
func (s *StateSpans) end(x *execSpans, st *stateSpan, at time.Time) {
	if st.done {
		return
	}
	st.done = true
	if st.scheduled > 1 {
		st.attrs[2] = attribute.Int("aiflow.state.retries", st.scheduled-1)
		st.span.attrs = st.attrs[:3]
	}
	if st.failed {
		st.span.status = sdktrace.Status{Code: codes.Error, Description: "the state's task failed"}
	}
	st.span.end = at
	if st.sampled {
		x.exporting(&st.span)
		s.sink.export(&st.span)
	}
}

// endExecution ends the states still open (the ones the execution's end
// cut short) and the execution's span, at the execution's end.
func (s *StateSpans) endExecution(x *execSpans, ev *sfn.HistoryEvent) {
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
		s.end(x, st, ev.Timestamp)
	}
	if x.span == nil {
		return
	}
	x.attrs[4] = attribute.String("aiflow.execution.status", strings.TrimPrefix(ev.Type, "Execution"))
	x.own.attrs = x.attrs[:5]
	if fail != nil {
		x.attrs[5] = attribute.String("error.type", fail.Error)
		x.own.attrs = x.attrs[:6]
		x.own.status = sdktrace.Status{Code: codes.Error, Description: fail.Error}
	}
	x.own.end = ev.Timestamp
	x.exporting(x.span)
	s.sink.export(x.span)
}

// executionEnd reports whether typ ends an execution.
func executionEnd(typ string) bool {
	switch typ {
	case "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut":
		return true
	}
	return false
}
