package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// maxHistoryEvents is Step Functions' quota on an execution's history.
const maxHistoryEvents = 25000

// Thread phases: where a thread waits between transitions.
const (
	phaseTask     = "task"     // a task is scheduled; a callback, a result or a timer ends it
	phaseWait     = "wait"     // a Wait state's timer
	phaseRetry    = "retry"    // a retrier's backoff timer
	phaseChildren = "children" // a Parallel or Map state's branches or iterations
)

// execution is one running execution. Everything in it is guarded by mu;
// every change is recorded in the batch being built and written by the
// engine's writer in order.
type execution struct {
	e  *Engine
	mu sync.Mutex

	rec         ExecutionRecord
	smName      string
	roleARN     string
	definition  string
	sm          *asl.StateMachine
	input       any
	seq         int64
	lastEventID int64

	threads    map[int]*thread
	nextThread int
	tokens     tokenMap[int]    // token of a task in flight -> thread
	succeeded  tokenMap[bool]   // tokens whose task succeeded
	spent      tokenMap[bool]   // tokens closed otherwise
	messageIDs tokenMap[string] // token -> its TaskSubmitted output
	redrives   []redriveMark    // the execution's redrives, oldest first

	b       *batch
	effects []func()
	// late are the TaskSubmitted events not made yet, which the next
	// batch begins with (see deferwrite.go); lateGen counts the times late
	// went from empty to not; deferred is how many events at the head of
	// b are late ones.
	late     []lateSubmit
	lateGen  uint32
	deferred int
	done     chan struct{} // closed once the final event is written, or the execution is dropped
	doneOnce sync.Once
	stopTTL  func() bool
	closed   bool // a final event is recorded
	// written is the record as of the last transition the store holds:
	// what DescribeExecution shows, so that it never runs ahead of the
	// history. Nil until the first transition is written.
	written atomic.Pointer[ExecutionRecord]
	writer  int // the index of its commit writer in e.commits

	// ctxExecution and ctxStateMachine are the parts of the context
	// object that stay the same for the whole execution.
	ctxExecution, ctxStateMachine *asl.Object
	dead                          bool // dropped from the engine
	// ctxUse says whether the definition may read the context object
	// (see needsContext).
	ctxUse int8
	// text is the last value the execution encoded (see textOf).
	text textMemo
	// mapRuns are the execution's Map Runs by ARN.
	mapRuns map[string]*mapRunRecord
	// refusal is set once the store refused a transition of the
	// execution for its data: the answer of every later transition, which
	// is never written (see Engine.failRefused).
	refusal atomic.Pointer[sfn.Error]
	// intrinsicFunc is x.intrinsic as a func value (see intrinsics).
	intrinsicFunc func(expr string, input, context any) (any, error)
	// handoffs are the effects of the transition being built that the
	// commit writer runs itself (see handOff).
	handoffs []func()
}

// batch is one transition as stored: the history events it adds and what
// recovery needs to resume from it.
type batch struct {
	Start     *batchStart        `json:"start,omitempty"`
	Events    []sfn.HistoryEvent `json:"events"`
	Threads   map[int]*thread    `json:"threads,omitempty"` // changed threads; nil means ended
	Spawn     map[int]spawnInfo  `json:"spawn,omitempty"`   // a Parallel or Map thread started its children
	Ended     []childEnd         `json:"ended,omitempty"`
	Succeeded []string           `json:"succeeded,omitempty"`
	Spent     []string           `json:"spent,omitempty"`
	// Halted and Redrive are what a redrive resumes from (see redrive.go).
	Halted  []halt       `json:"halted,omitempty"`
	Redrive *redriveMark `json:"redrive,omitempty"`
	// MapRuns are the Map Runs the transition started, changed or ended.
	MapRuns map[string]*mapRunRecord `json:"mapRuns,omitempty"`
}

// batchStart is what an execution started with: the revision of its state
// machine (or version) whose definition and role the store keeps
// (Store.StateMachineRevision), or, in the first commits of executions
// started before the store kept revisions and of state machines that have
// none, the definition itself.
type batchStart struct {
	Definition string `json:"definition,omitempty"`
	Revision   string `json:"revision,omitempty"`
	RoleARN    string `json:"roleArn,omitempty"`
}

// spawnInfo and childEnd carry the parent's Gen at its fan-out, so that
// recovery never counts the end of one fan-out's child against the next
// fan-out of the same thread when both sit in one batch.
type spawnInfo struct {
	Gen   int64 `json:"gen,omitempty"`
	Slots int   `json:"slots"`
	Items []any `json:"items,omitempty"`
}

type childEnd struct {
	Parent int    `json:"parent"`
	Gen    int64  `json:"gen,omitempty"`
	Index  int    `json:"index"`
	Output any    `json:"output,omitempty"`
	Failed bool   `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`
}

// scopeStep leads from a scope to a nested one: a Parallel state's branch
// or a Map state's item processor.
type scopeStep struct {
	State  string `json:"state"`
	Branch int    `json:"branch,omitempty"`
}

// thread is one line of control: the execution's root, a Parallel branch
// or a Map iteration.
type thread struct {
	ID         int            `json:"id"`
	Parent     int            `json:"parent,omitempty"`
	Index      int            `json:"index,omitempty"`
	Scope      []scopeStep    `json:"scope,omitempty"`
	State      string         `json:"state"`
	Input      any            `json:"input"`
	Entered    time.Time      `json:"entered"`
	Phase      string         `json:"phase"`
	Gen        int64          `json:"gen"`
	Retries    []int          `json:"retries,omitempty"`
	RetryCount int            `json:"retryCount,omitempty"`
	Due        time.Time      `json:"due,omitzero"`
	Token      string         `json:"token,omitempty"`
	Task       *taskCall      `json:"task,omitempty"`
	Vars       map[string]any `json:"vars,omitempty"`
	Outer      map[string]any `json:"outer,omitempty"`
	LastEvent  int64          `json:"lastEvent"`
	// EnteredEvent is the ID of the event that entered State, which the
	// cause of a JSONata failure names.
	EnteredEvent int64 `json:"enteredEvent,omitempty"`
	// Effective is a Parallel or Map state's effective input.
	Effective any `json:"effective,omitempty"`
	MaxConc   int `json:"maxConc,omitempty"`
	// MapRun is the ARN of a distributed Map state's Map Run.
	MapRun string `json:"mapRun,omitempty"`

	states map[string]*asl.State
	kids   *kids
	stops  []func() bool
	hbStop func() bool
	// inputJSON is Input as JSON when the StateEntered event encoded it,
	// so a snapshot of the thread need not encode it again.
	inputJSON string
	// fanOut is the Parallel or Map fan-out of the state whose children
	// failed it, for a redrive (see redrive.go).
	fanOut *fanOut
}

// MarshalJSON writes the thread's snapshot, reusing the input's encoding.
func (t *thread) MarshalJSON() ([]byte, error) {
	type plain thread
	if t.inputJSON == "" {
		return json.Marshal((*plain)(t))
	}
	return json.Marshal(struct {
		*plain
		Input json.RawMessage `json:"input"`
	}{(*plain)(t), json.RawMessage(t.inputJSON)})
}

// kids tracks a Parallel or Map thread's children.
type kids struct {
	items     []any // Map items; nil for Parallel
	results   []any
	done      []bool
	next      int // next item to start
	running   int
	failed    int
	succeeded int
	tolerated func(failed int) bool
	pumping   bool
}

// failure is an error a state reports: a name Retry and Catch match, and
// a cause.
type failure struct {
	Error string
	Cause string
}

func failureOf(err error) failure {
	var pe *asl.ProcessingError
	if errors.As(err, &pe) {
		return failure{Error: reported(pe.Name), Cause: pe.Error()}
	}
	var ee *asl.EvalError
	if errors.As(err, &ee) {
		return failure{Error: reported(ee.Name), Cause: ee.Name + ": " + ee.Cause}
	}
	var f *failureError
	if errors.As(err, &f) {
		return f.f
	}
	return failure{Error: asl.ErrorRuntime, Cause: err.Error()}
}

// reported is the error name Step Functions reports for a failure the
// States Language names: its error-handling guide marks
// States.ParameterPathFailure, States.IntrinsicFailure and
// States.NoChoiceMatched as reserved, and the service reports such
// failures as States.Runtime; the cause keeps the precise name.
func reported(name string) string {
	switch name {
	case asl.ErrorParameterPathFailure, asl.ErrorIntrinsicFailure, asl.ErrorNoChoiceMatched:
		return asl.ErrorRuntime
	}
	return name
}

type failureError struct{ f failure }

func (e *failureError) Error() string { return e.f.Error + ": " + e.f.Cause }

func (e *Engine) newExecution(rec ExecutionRecord) *execution {
	return &execution{e: e, rec: rec, writer: e.writerOf(rec.ARN), threads: map[int]*thread{}, done: make(chan struct{})}
}

func (x *execution) now() time.Time { return x.e.now() }

// writerOf is the engine's commit writer of an execution: always the
// same one, so that its transitions are written in order.
func (e *Engine) writerOf(arn string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(arn))
	return int(h.Sum32() % uint32(len(e.commits)))
}

// event records a history event of thread t (nil for the execution).
func (x *execution) event(t *thread, typ string, ev sfn.HistoryEvent) {
	p := x.eventAt(t, typ)
	ev.ID, ev.Type, ev.Timestamp, ev.PreviousEventID = p.ID, p.Type, p.Timestamp, p.PreviousEventID
	*p = ev
}

// eventAt records a history event of thread t (nil for the execution)
// without details and returns it, for the caller to set its detail field
// at once. The transitions every execution makes use it in place of
// event: a HistoryEvent is 300 bytes, which event's callers build in
// their stack frames (growing the stacks that run them) and copy.
func (x *execution) eventAt(t *thread, typ string) *sfn.HistoryEvent {
	b := x.batch()
	if b.Events == nil {
		// Most transitions record a few events: room for them, where
		// growing from one would allocate four times.
		b.Events = newEvents()
	}
	b.Events = append(b.Events, sfn.HistoryEvent{})
	ev := &b.Events[len(b.Events)-1]
	x.lastEventID++
	ev.ID = x.lastEventID
	ev.Type = typ
	ev.Timestamp = x.now()
	if t != nil {
		ev.PreviousEventID = t.LastEvent
		t.LastEvent = ev.ID
		x.dirty(t)
	} else if x.lastEventID > 1 {
		ev.PreviousEventID = x.lastEventID - 1
	}
	return ev
}

// batchEvents is the room for events a batch starts with: a task's end
// and the next task's start record five.
const batchEvents = 5

// eventSlices holds the event slices of batches written, for the next
// batches: once its commit is written, a batch's events are read by no
// one (a frozen batch holds events of its own; the store and its
// observers keep none of Commit.Events), and the 1.5 KB of room each
// takes would otherwise be garbage for every transition.
var eventSlices = sync.Pool{New: func() any {
	s := make([]sfn.HistoryEvent, 0, batchEvents)
	return &s
}}

// newEvents returns an empty slice with room for batchEvents events.
func newEvents() []sfn.HistoryEvent {
	p := eventSlices.Get().(*[]sfn.HistoryEvent)
	s := *p
	*p = nil
	eventSlicePtrs.Put(p)
	return s
}

// eventSlicePtrs holds the pointers eventSlices' slices travel in, so
// that putting a slice back allocates nothing.
var eventSlicePtrs = sync.Pool{New: func() any { return new([]sfn.HistoryEvent) }}

// recycledEventsMax is the most room a recycled event slice keeps: an
// execution's first transition, which records its start and runs to its
// first task, grows the room of batchEvents to twice or more, and
// recycling only slices of that room had every start allocate both.
const recycledEventsMax = 4 * batchEvents

// recycleEvents gives back the events of a batch whose commit is written,
// cleared; a slice that grew past recycledEventsMax is left to the
// collector.
func recycleEvents(s []sfn.HistoryEvent) {
	if cap(s) < batchEvents || cap(s) > recycledEventsMax {
		return
	}
	clear(s[:cap(s)])
	p := eventSlicePtrs.Get().(*[]sfn.HistoryEvent)
	*p = s[:0]
	eventSlices.Put(p)
}

func (x *execution) batch() *batch {
	if x.b == nil {
		x.b = batchPool.Get().(*batch)
		if len(x.late) > 0 {
			x.makeLate()
		}
	}
	return x.b
}

func (x *execution) dirty(t *thread) {
	b := x.batch()
	if b.Threads == nil {
		b.Threads = map[int]*thread{}
	}
	b.Threads[t.ID] = t
}

func (x *execution) effect(f func()) { x.effects = append(x.effects, f) }

// handOff is effect for a function that only hands work to one of the
// engine's workers (spawn), which never waits: the commit writer runs it
// once the transition is written, before it passes the transition's other
// effects to the effect loop, rather than the effect loop a moment later
// (a goroutine's wake-up less for each task a transition starts).
func (x *execution) handOff(f func()) { x.handoffs = append(x.handoffs, f) }

// flush queues the batch built so far for writing. done, when not nil,
// receives the outcome of the write.
func (x *execution) flush(done chan error) {
	if len(x.late) > 0 {
		x.makeLate()
	}
	if x.b == nil || len(x.b.Events) == 0 && len(x.b.Threads) == 0 && len(x.b.Succeeded) == 0 && len(x.b.Spent) == 0 {
		x.b, x.deferred = nil, 0
		if done != nil {
			done <- nil
		}
		return
	}
	var data []byte
	var frozen *Batch
	if x.e.keepBatches {
		frozen = x.freezeBatch()
	}
	if frozen == nil {
		data = x.encodeBatch()
		if len(data) > MaxBatchBytes && x.shedHalts() {
			data = x.encodeBatch()
		}
		if len(data) > MaxBatchBytes {
			data = x.oversized(len(data))
		}
	}
	typ := "Transition"
	if n := len(x.b.Events); n > 0 {
		typ = x.b.Events[n-1].Type
	}
	x.seq++
	p := pendingCommits.Get().(*pendingCommit)
	*p = pendingCommit{x: x, commit: Commit{Execution: x.rec, Seq: x.seq, Type: typ, Data: data, Batch: frozen, Events: x.b.Events, Redrive: x.b.Redrive != nil}, effects: x.effects, handoffs: x.handoffs, done: done,
		prevEventID: x.lastEventID - int64(len(x.b.Events))}
	putBatch(x.b)
	x.b, x.effects, x.handoffs, x.deferred = nil, nil, nil, 0
	if !x.e.commits[x.writer].push(p) && done != nil {
		done <- errorf(sfn.CodeServiceUnavailable, "the engine is closed")
	}
}

// oversized replaces a transition too large to store (a Map whose
// iterations all start or end at once with large inputs, say) with the
// execution's failure: the transition never happened, its effects are
// dropped, and the execution ends with States.DataLimitExceeded in the
// state it had before it, as Step Functions fails an execution whose
// history would break its limits.
func (x *execution) oversized(size int) []byte {
	b := x.b
	kept := &batch{Start: b.Start}
	if len(b.Events) > 0 {
		x.lastEventID = b.Events[0].ID - 1
		switch {
		case b.Start != nil:
			kept.Events = b.Events[:1] // ExecutionStarted
			x.lastEventID = b.Events[0].ID
		case x.deferred > 0:
			// Events made late (makeLate) happened before the
			// transition: they are kept.
			kept.Events = b.Events[:x.deferred]
			x.lastEventID = b.Events[x.deferred-1].ID
		}
	}
	x.b, x.effects, x.handoffs = kept, nil, nil
	x.closed = false
	x.rec.Output = ""
	x.finish(sfn.StatusFailed, nil, failure{
		Error: asl.ErrorDataLimitExceeded,
		Cause: fmt.Sprintf("A transition of the execution would write %d bytes of history, more than the %d bytes the engine stores in one.", size, MaxBatchBytes),
	})
	x.b.Halted = nil // the threads' state is what was too large
	data := x.encodeBatch()
	if len(data) > MaxBatchBytes {
		// Only an ExecutionStarted with a huge input and definition, each
		// checked before, could be this large.
		panic(fmt.Sprintf("engine: the failure of %s is %d bytes", x.rec.ARN, len(data)))
	}
	return data
}

func (x *execution) encodeBatch() []byte {
	data, err := marshalBatch(x.b)
	if err != nil {
		// Values come from JSON, so this cannot happen; say so loudly.
		panic(fmt.Sprintf("engine: encoding a transition of %s: %v", x.rec.ARN, err))
	}
	if batchEncodingCheck != nil {
		batchEncodingCheck(x.b, data)
	}
	return data
}

// scopeStates returns the states of the scope a thread runs in.
func (x *execution) scopeStates(scope []scopeStep) (map[string]*asl.State, error) {
	states := x.sm.States
	for _, s := range scope {
		st := states[s.State]
		if st == nil {
			return nil, fmt.Errorf("no state %q", s.State)
		}
		switch st.Type {
		case asl.TypeParallel:
			if s.Branch < 0 || s.Branch >= len(st.Branches) {
				return nil, fmt.Errorf("state %q has no branch %d", s.State, s.Branch)
			}
			states = st.Branches[s.Branch].States
		case asl.TypeMap:
			states = processor(st).States
		default:
			return nil, fmt.Errorf("state %q has no nested states", s.State)
		}
	}
	return states, nil
}

func processor(st *asl.State) *asl.ItemProcessor {
	if st.ItemProcessor != nil {
		return st.ItemProcessor
	}
	return st.Iterator
}

// contextObject is "$$" for thread t in its current state, nil when no
// path of the state can read it. Its objects are asl Objects with their
// members in the order of their keys, as a map's are encoded: a few members
// each, in one allocation where a map takes two and four times the room.
func (x *execution) contextObject(t *thread, token string, mapItem *[2]any) any {
	if mapItem == nil && !x.needsContext(t) {
		return nil // no path of the state can read it
	}
	if x.ctxExecution == nil {
		// The same for every state: built once. Values that paths
		// select are never changed in place (asl copies before it
		// writes), so sharing them is safe.
		e := asl.NewObject(7)
		e.Set("Id", x.rec.ARN)
		e.Set("Input", x.input)
		e.Set("Name", x.rec.Name)
		e.Set("RedriveCount", json.Number(strconv.Itoa(x.rec.RedriveCount)))
		if !x.rec.RedriveDate.IsZero() {
			e.Set("RedriveTime", formatTime(x.rec.RedriveDate))
		}
		e.Set("RoleArn", x.roleARN)
		e.Set("StartTime", formatTime(x.rec.StartDate))
		x.ctxExecution = e
		sm := asl.NewObject(2)
		sm.Set("Id", x.rec.StateMachineARN)
		sm.Set("Name", x.smName)
		x.ctxStateMachine = sm
	}
	n := 3 // Execution, State, StateMachine; then Map and Task when there are
	if mapItem != nil {
		n++
	}
	if token != "" {
		n++
	}
	c := asl.NewObject(n) // four or fewer: one allocation
	c.Set("Execution", x.ctxExecution)
	if mapItem != nil {
		item := asl.NewObject(2)
		item.Set("Index", mapItem[0])
		item.Set("Value", mapItem[1])
		m := asl.NewObject(1)
		m.Set("Item", item)
		c.Set("Map", m)
	}
	state := asl.NewObject(3)
	state.Set("EnteredTime", formatTime(t.Entered))
	state.Set("Name", t.State)
	state.Set("RetryCount", json.Number(strconv.Itoa(t.RetryCount)))
	c.Set("State", state)
	c.Set("StateMachine", x.ctxStateMachine)
	if token != "" {
		task := asl.NewObject(1)
		task.Set("Token", token)
		c.Set("Task", task)
	}
	return c
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// env is the context argument for paths of thread t.
func (x *execution) env(t *thread, ctx any) asl.Env {
	return asl.Env{Context: ctx, Vars: visibleVars(t)}
}

func visibleVars(t *thread) map[string]any {
	if len(t.Outer) == 0 {
		return t.Vars
	}
	if len(t.Vars) == 0 {
		return t.Outer
	}
	m := make(map[string]any, len(t.Outer)+len(t.Vars))
	for k, v := range t.Outer {
		m[k] = v
	}
	for k, v := range t.Vars {
		m[k] = v
	}
	return m
}

// intrinsic evaluates an intrinsic function for ApplyTemplate.
func (x *execution) intrinsic(expr string, input, context any) (any, error) {
	c, err := asl.ParseIntrinsicShared(expr)
	if err != nil {
		return nil, err
	}
	return asl.EvalIntrinsic(c, resolver(input, context), asl.IntrinsicEffects{RandomFunc: x.e.randomInt, UUIDFunc: x.e.uuid})
}

// resolver resolves paths against input and context for choice rules
// and intrinsic functions: a path that selects nothing is not found, not
// an error.
func resolver(input, context any) func(path string) (any, bool, error) {
	return func(path string) (any, bool, error) {
		p, err := asl.ParsePathShared(path)
		if err != nil {
			return nil, false, err
		}
		v, err := asl.Lookup(p, input, context)
		if errors.Is(err, asl.ErrPathNotFound) {
			return nil, false, nil
		}
		return v, err == nil, err
	}
}

func (e *Engine) randomInt(start, end int64) int64 {
	if end <= start {
		return start
	}
	b := e.randomBytes(8)
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return start + int64(n%uint64(end-start))
}

// uuid is a version 4 UUID from the engine's random source.
func (e *Engine) uuid() string {
	return formatUUID(e.randomBytes(16), 4)
}

// formatUUID writes 16 bytes as a UUID of the version given, in its
// canonical form, its version and variant bits set.
func formatUUID(b []byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// executionName is the name of an execution started without one: a UUID,
// as Step Functions names one, of version 7 (RFC 9562): the start's Unix
// milliseconds and then 74 random bits. The time first puts the
// execution's ARN, and so its rows in every index keyed by it (the
// store's summaries, its history's stream), after those of the
// executions started before, where a version 4 UUID put each anywhere.
func (e *Engine) executionName(at time.Time) string {
	b := e.randomBytes(16)
	ms := uint64(max(at.UnixMilli(), 0))
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	return formatUUID(b, 7)
}

// text is the JSON text of a value, object members in order (see
// asl.EncodeJSON).
func text(v any) string {
	bp := textBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // a large payload's buffer is not kept
			textBuffers.Put(bp)
		}
	}()
	b, err := asl.AppendJSON((*bp)[:0], v)
	if err != nil {
		return "null"
	}
	*bp = b
	return string(b)
}

var textBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// decodeJSON decodes a JSON text with numbers kept exact and object
// members in order.
func decodeJSON(s string) (any, error) {
	return asl.DecodeJSON([]byte(s))
}

func tooBig(s string) bool { return len(s) > sfn.MaxPayloadBytes }

func dataLimit(what string, n int) failure {
	return failure{Error: asl.ErrorDataLimitExceeded, Cause: fmt.Sprintf("The %s has exceeded the maximum size of %d bytes: it has %d bytes.", what, sfn.MaxPayloadBytes, n)}
}

// drive runs thread t from state name with input until it waits or ends.
func (x *execution) drive(t *thread, name string, input any) {
	for name != "" && !x.closed {
		if x.lastEventID >= maxHistoryEvents {
			x.finish(sfn.StatusFailed, nil, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("The execution reached the limit of %d history events.", maxHistoryEvents)})
			return
		}
		name, input = x.step(t, name, input)
	}
}

// enter records that thread t entered state name.
func (x *execution) enter(t *thread, name string, input any) *asl.State {
	st := t.states[name]
	t.State, t.Input, t.Entered = name, input, x.now()
	t.Retries, t.RetryCount, t.Task, t.Token, t.Due = nil, 0, nil, "", time.Time{}
	t.Phase, t.fanOut = "", nil
	t.inputJSON = x.textOf(input)
	x.eventAt(t, enteredEvent(st.Type)).StateEntered = &sfn.StateEnteredDetails{Name: name, Input: t.inputJSON}
	t.EnteredEvent = t.LastEvent
	return st
}

// step enters state name and runs it; it returns the next state and its
// input when the state finished at once, or "" when the thread now waits
// or ended.
func (x *execution) step(t *thread, name string, input any) (string, any) {
	st := x.enter(t, name, input)
	return x.run(t, st)
}

// run runs thread t's current state (again, after a retry's backoff).
func (x *execution) run(t *thread, st *asl.State) (string, any) {
	if x.jsonata(st) {
		if next, out, ok := x.runJSONata(t, st); ok {
			return next, out
		}
	}
	switch st.Type {
	case asl.TypePass:
		return x.runPass(t, st)
	case asl.TypeChoice:
		return x.runChoice(t, st)
	case asl.TypeWait:
		return x.runWait(t, st)
	case asl.TypeSucceed:
		ctx := x.contextObject(t, "", nil)
		env := x.env(t, ctx)
		eff, err := asl.ProcessInput(st, t.Input, env, x.intrinsic)
		if err != nil {
			return x.fail(t, st, failureOf(err))
		}
		out, err := asl.ProcessOutput(st, t.Input, eff, env, x.intrinsic)
		if err != nil {
			return x.fail(t, st, failureOf(err))
		}
		return x.exit(t, st, out, "", nil)
	case asl.TypeFail:
		return x.runFail(t, st)
	case asl.TypeTask:
		return x.runTask(t, st)
	case asl.TypeParallel:
		return x.runParallel(t, st)
	case asl.TypeMap:
		return x.runMap(t, st)
	}
	return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("state type %q is not supported", st.Type)})
}

func (x *execution) runPass(t *thread, st *asl.State) (string, any) {
	env := x.env(t, x.contextObject(t, "", nil))
	eff, err := asl.ProcessInput(st, t.Input, envArg(env), x.intrinsics())
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	result := eff
	if st.Result != nil {
		if result, err = decodeJSON(string(st.Result)); err != nil {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: "decoding Result: " + err.Error()})
		}
	}
	return x.complete(t, st, result, env)
}

// complete finishes a state that has a result: ResultSelector,
// ResultPath, OutputPath, Assign, the size limit, then the exit.
func (x *execution) complete(t *thread, st *asl.State, result any, env asl.Env) (string, any) {
	if x.jsonata(st) {
		return x.completeJSONata(t, st, result, env)
	}
	out, err := asl.ProcessOutput(st, t.Input, result, envArg(env), x.intrinsics())
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	// Assign sees the raw result, beside ResultSelector, not after it.
	assigned, err := x.assign(t, st.Assign, result, env)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	return x.exit(t, st, out, st.Next, assigned)
}

// assign evaluates an Assign block against input (all values against the
// variables as they were) and sets the variables of thread t.
func (x *execution) assign(t *thread, block map[string]json.RawMessage, input any, env asl.Env) (map[string]string, error) {
	if len(block) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(block)
	if err != nil {
		return nil, err
	}
	v, err := asl.ApplyTemplate(raw, input, env, x.intrinsic)
	if err != nil {
		return nil, err
	}
	vals, _ := asl.AsObject(v)
	vars := make(map[string]any, len(t.Vars)+vals.Len())
	for k, val := range t.Vars {
		vars[k] = val
	}
	assigned := make(map[string]string, vals.Len())
	for k, val := range vals.All() {
		vars[k] = val
		assigned[k] = text(val)
	}
	t.Vars = vars
	return assigned, nil
}

// exit records that thread t left its state with output and goes on to
// next; with no next (End, Succeed) the thread ends.
func (x *execution) exit(t *thread, st *asl.State, output any, next string, assigned map[string]string) (string, any) {
	s := x.textOf(output)
	if tooBig(s) {
		return x.fail(t, st, dataLimit("state output", len(s)))
	}
	x.eventAt(t, exitedEvent(st.Type)).StateExited = &sfn.StateExitedDetails{Name: t.State, Output: s, AssignedVariables: assigned}
	if st.Type == asl.TypeSucceed || st.End {
		x.endThread(t, output, nil)
		return "", nil
	}
	return next, output
}

func (x *execution) runChoice(t *thread, st *asl.State) (string, any) {
	env := x.env(t, x.contextObject(t, "", nil))
	eff, err := asl.ProcessInput(st, t.Input, env, x.intrinsic)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	resolve := resolver(eff, env)
	var rule *asl.ChoiceRule
	for i := range st.Choices {
		ok, err := asl.EvalChoice(st.Choices[i], resolve)
		if err != nil {
			return x.fail(t, st, failureOf(err))
		}
		if ok {
			rule = &st.Choices[i]
			break
		}
	}
	next := st.Default
	var block map[string]json.RawMessage
	if rule != nil {
		next, block = rule.Next, rule.Assign
	} else {
		block = st.Assign
	}
	if next == "" {
		return x.fail(t, st, failure{Error: reported(asl.ErrorNoChoiceMatched), Cause: fmt.Sprintf("States.NoChoiceMatched: no Choice rule matched and there is no Default (state %q)", t.State)})
	}
	out, err := asl.ProcessOutput(st, t.Input, eff, env, x.intrinsic)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	assigned, err := x.assign(t, block, eff, env)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	return x.exit(t, st, out, next, assigned)
}

func (x *execution) runFail(t *thread, st *asl.State) (string, any) {
	env := x.env(t, x.contextObject(t, "", nil))
	f := failure{Error: st.Error, Cause: st.Cause}
	lookup := func(field, path string) (string, error) {
		p, err := asl.ParsePathShared(path)
		if err == nil {
			var v any
			if v, err = asl.Lookup(p, t.Input, env); err == nil {
				if s, ok := v.(string); ok {
					return s, nil
				}
				err = fmt.Errorf("%s %s selects a %T, not a string", field, path, v)
			}
		}
		return "", err
	}
	var err error
	if st.ErrorPath != "" {
		if strings.HasPrefix(st.ErrorPath, "States.") {
			var v any
			if v, err = x.intrinsic(st.ErrorPath, t.Input, env); err == nil {
				f.Error, _ = v.(string)
			}
		} else {
			f.Error, err = lookup("ErrorPath", st.ErrorPath)
		}
	}
	if err == nil && st.CausePath != "" {
		if strings.HasPrefix(st.CausePath, "States.") {
			var v any
			if v, err = x.intrinsic(st.CausePath, t.Input, env); err == nil {
				f.Cause, _ = v.(string)
			}
		} else {
			f.Cause, err = lookup("CausePath", st.CausePath)
		}
	}
	if err != nil {
		f = failure{Error: asl.ErrorRuntime, Cause: err.Error()}
	}
	x.endThread(t, nil, &f)
	return "", nil
}

func (x *execution) runWait(t *thread, st *asl.State) (string, any) {
	env := x.env(t, x.contextObject(t, "", nil))
	eff, err := asl.ProcessInput(st, t.Input, env, x.intrinsic)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	now := x.now()
	var due time.Time
	switch {
	case st.Seconds != nil:
		due = now.Add(time.Duration(*st.Seconds) * time.Second)
	case st.Timestamp != "":
		if due, err = time.Parse(time.RFC3339, st.Timestamp); err != nil {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: "Timestamp: " + err.Error()})
		}
	case st.SecondsPath != "":
		v, err := lookupPath(st.SecondsPath, eff, env)
		if err != nil {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: "SecondsPath: " + err.Error()})
		}
		n, ok := asInt(v)
		if !ok || n < 0 {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("SecondsPath %s selects %s, not a non-negative integer", st.SecondsPath, text(v))})
		}
		due = now.Add(time.Duration(n) * time.Second)
	case st.TimestampPath != "":
		v, err := lookupPath(st.TimestampPath, eff, env)
		if err != nil {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: "TimestampPath: " + err.Error()})
		}
		s, _ := v.(string)
		if due, err = time.Parse(time.RFC3339, s); err != nil {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("TimestampPath %s selects %s, not an RFC 3339 timestamp", st.TimestampPath, text(v))})
		}
	}
	t.Phase, t.Due = phaseWait, due
	t.Gen++
	x.dirty(t)
	x.armWait(t)
	return "", nil
}

func (x *execution) armWait(t *thread) {
	id, gen := t.ID, t.Gen
	t.stops = append(t.stops, x.e.afterFunc(max(t.Due.Sub(x.now()), 0), "a Wait state's or a retry's timer", func() { x.waitDone(id, gen) }))
}

func (x *execution) waitDone(id int, gen int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.live(id, gen, phaseWait, phaseRetry)
	if t == nil {
		return
	}
	st := t.states[t.State]
	t.stops = nil
	if t.Phase == phaseRetry {
		t.Phase = ""
		next, out := x.run(t, st)
		x.drive(t, next, out)
		x.flush(nil)
		return
	}
	t.Phase = ""
	env := x.env(t, x.contextObject(t, "", nil))
	if x.jsonata(st) {
		next, out := x.completeJSONata(t, st, nil, env)
		x.drive(t, next, out)
		x.flush(nil)
		return
	}
	eff, err := asl.ProcessInput(st, t.Input, env, x.intrinsic)
	var next string
	var out any
	if err != nil {
		next, out = x.fail(t, st, failureOf(err))
	} else if out, err = asl.ProcessOutput(st, t.Input, eff, env, x.intrinsic); err != nil {
		next, out = x.fail(t, st, failureOf(err))
	} else {
		assigned, err := x.assign(t, st.Assign, eff, env)
		if err != nil {
			next, out = x.fail(t, st, failureOf(err))
		} else {
			next, out = x.exit(t, st, out, st.Next, assigned)
		}
	}
	x.drive(t, next, out)
	x.flush(nil)
}

// live returns thread id if it still waits in generation gen in one of
// the phases.
func (x *execution) live(id int, gen int64, phases ...string) *thread {
	if x.closed || x.dead {
		return nil
	}
	t := x.threads[id]
	if t == nil || t.Gen != gen {
		return nil
	}
	for _, p := range phases {
		if t.Phase == p {
			return t
		}
	}
	return nil
}

func lookupPath(path string, input any, env asl.Env) (any, error) {
	p, err := asl.ParsePathShared(path)
	if err != nil {
		return nil, err
	}
	return asl.Lookup(p, input, env)
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err == nil && f == math.Trunc(f) {
			return int64(f), true
		}
	case float64:
		if n == math.Trunc(n) {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// matches reports whether a Retrier's or Catcher's ErrorEquals matches
// the error name. States.ALL matches every error but the terminal
// States.DataLimitExceeded and States.Runtime; States.TaskFailed every
// error but those and the timeouts.
func matches(errorEquals []string, name string) bool {
	terminal := name == asl.ErrorDataLimitExceeded || name == asl.ErrorRuntime
	for _, e := range errorEquals {
		switch {
		case terminal:
			continue
		case e == name:
			return true
		case e == asl.ErrorAll:
			return true
		case e == asl.ErrorTaskFailed && name != asl.ErrorTimeout && name != asl.ErrorHeartbeatTimeout:
			return true
		}
	}
	return false
}

// fail handles a failure of thread t's current state: the first matching
// retrier schedules a new attempt, else the first matching catcher leads
// on, else the thread fails.
func (x *execution) fail(t *thread, st *asl.State, f failure) (string, any) {
	for i, r := range st.Retry {
		if !matches(r.ErrorEquals, f.Error) {
			continue
		}
		maxAttempts := 3
		if r.MaxAttempts != nil {
			maxAttempts = *r.MaxAttempts
		}
		if t.Retries == nil {
			t.Retries = make([]int, len(st.Retry))
		}
		if t.Retries[i] >= maxAttempts {
			break
		}
		t.Retries[i]++
		t.RetryCount++
		t.Phase, t.Due = phaseRetry, x.now().Add(x.backoff(r, t.Retries[i]))
		t.Gen++
		t.Task, t.Token = nil, ""
		x.dirty(t)
		x.armWait(t)
		return "", nil
	}
	for i, c := range st.Catch {
		if !matches(c.ErrorEquals, f.Error) {
			continue
		}
		if x.jsonata(st) {
			return x.catchJSONata(t, st, i, f)
		}
		errOut := errorOutput(f.Error, f.Cause)
		out, err := asl.SetResult(t.Input, c.ResultPath, errOut)
		if err != nil {
			x.endThread(t, nil, &failure{Error: asl.ErrorResultPathMatchFailure, Cause: err.Error()})
			return "", nil
		}
		env := x.env(t, x.contextObject(t, "", nil))
		assigned, err := x.assign(t, c.Assign, errOut, env)
		if err != nil {
			ff := failureOf(err)
			x.endThread(t, nil, &ff)
			return "", nil
		}
		s := text(out)
		if tooBig(s) {
			ff := dataLimit("state output", len(s))
			x.endThread(t, nil, &ff)
			return "", nil
		}
		x.eventAt(t, exitedEvent(st.Type)).StateExited = &sfn.StateExitedDetails{Name: t.State, Output: s, AssignedVariables: assigned}
		return c.Next, out
	}
	x.endThread(t, nil, &f)
	return "", nil
}

// backoff is the delay before retry attempt n (1-based) of r.
func (x *execution) backoff(r asl.Retrier, n int) time.Duration {
	interval := 1.0
	if r.IntervalSeconds != nil {
		interval = float64(*r.IntervalSeconds)
	}
	rate := 2.0
	if r.BackoffRate != nil {
		rate = *r.BackoffRate
	}
	d := interval * math.Pow(rate, float64(n-1))
	if r.MaxDelaySeconds != nil && d > float64(*r.MaxDelaySeconds) {
		d = float64(*r.MaxDelaySeconds)
	}
	if r.JitterStrategy == asl.JitterFull {
		d *= float64(x.e.randomInt(0, 1<<30)) / float64(1<<30)
	}
	return time.Duration(d * float64(time.Second))
}

// endThread ends thread t with output or a failure.
func (x *execution) endThread(t *thread, output any, f *failure) {
	x.closeTask(t, false)
	t.stopAll()
	if t.Parent == 0 {
		if f != nil {
			x.finish(sfn.StatusFailed, nil, *f)
		} else {
			x.finish(sfn.StatusSucceeded, output, failure{})
		}
		return
	}
	if f != nil {
		x.halt(t)
	}
	delete(x.threads, t.ID)
	x.batch()
	if x.b.Threads == nil {
		x.b.Threads = map[int]*thread{}
	}
	x.b.Threads[t.ID] = nil
	parent := x.threads[t.Parent]
	end := childEnd{Parent: t.Parent, Index: t.Index, Output: output}
	if parent != nil {
		end.Gen = parent.Gen
	}
	if f != nil {
		end.Failed, end.Error, end.Cause = true, f.Error, f.Cause
	}
	x.b.Ended = append(x.b.Ended, end)
	if parent == nil || parent.kids == nil {
		return
	}
	x.childEnded(parent, t, end)
}

func (t *thread) stopAll() {
	for _, s := range t.stops {
		s()
	}
	t.stops = nil
}

// closeTask closes the task thread t waits for, if any: its token can no
// longer complete it.
func (x *execution) closeTask(t *thread, succeeded bool) {
	if t.Token == "" {
		return
	}
	x.tokens.del(t.Token)
	if succeeded {
		x.succeeded.set(t.Token, true)
		x.batch().Succeeded = append(x.b.Succeeded, t.Token)
	} else {
		x.spent.set(t.Token, true)
		x.batch().Spent = append(x.b.Spent, t.Token)
	}
	x.messageIDs.del(t.Token)
	t.Token = ""
}

// abortThread stops thread t and its children without recording an end.
func (x *execution) abortThread(t *thread) {
	for _, c := range x.children(t.ID) {
		x.abortThread(c)
	}
	x.closeTask(t, false)
	t.stopAll()
	x.halt(t)
	delete(x.threads, t.ID)
	b := x.batch()
	if b.Threads == nil {
		b.Threads = map[int]*thread{}
	}
	b.Threads[t.ID] = nil
}

func (x *execution) children(id int) []*thread {
	var out []*thread
	for _, c := range x.threads {
		if c.Parent == id {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// finish closes the execution with a final status.
func (x *execution) finish(status sfn.ExecutionStatus, output any, f failure) {
	if x.closed {
		return
	}
	for _, t := range x.threads {
		x.closeTask(t, false)
		t.stopAll()
	}
	if x.stopTTL != nil {
		x.stopTTL()
	}
	now := x.now()
	switch status {
	case sfn.StatusSucceeded:
		s := x.textOf(output)
		if tooBig(s) {
			status, f = sfn.StatusFailed, dataLimit("execution output", len(s))
		} else {
			x.rec.Output = s
			x.eventAt(nil, "ExecutionSucceeded").ExecutionSucceeded = &sfn.OutputDetails{Output: s}
		}
	}
	switch status {
	case sfn.StatusFailed:
		x.eventAt(nil, "ExecutionFailed").ExecutionFailed = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
	case sfn.StatusAborted:
		x.eventAt(nil, "ExecutionAborted").ExecutionAborted = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
	case sfn.StatusTimedOut:
		x.eventAt(nil, "ExecutionTimedOut").ExecutionTimedOut = &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}
	}
	if status != sfn.StatusSucceeded {
		x.rec.Error, x.rec.Cause = f.Error, f.Cause
		x.haltAll()
	}
	x.rec.Status, x.rec.StopDate = status, now
	x.closed = true
	b := x.batch()
	if b.Threads == nil {
		b.Threads = map[int]*thread{}
	}
	for id := range x.threads {
		b.Threads[id] = nil
	}
	x.threads = map[int]*thread{}
	x.effect(func() {
		x.e.leave(x)
		x.e.finishDeleting(x.e.drainCtx, x.smName)
		x.closeDone()
	})
}

func (x *execution) newThread(parent *thread, index int, scope []scopeStep) (*thread, error) {
	states, err := x.scopeStates(scope)
	if err != nil {
		return nil, err
	}
	x.nextThread++
	t := &thread{ID: x.nextThread, Index: index, Scope: scope, states: states}
	if parent != nil {
		t.Parent = parent.ID
		t.Outer = visibleVars(parent)
		t.LastEvent = parent.LastEvent
	}
	x.threads[t.ID] = t
	return t, nil
}

func (x *execution) closeDone() { x.doneOnce.Do(func() { close(x.done) }) }
