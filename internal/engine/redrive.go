package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Redrive carries a FAILED, TIMED_OUT or ABORTED execution on from where
// it stopped, as Step Functions' RedriveExecution does: the states that
// succeeded are not run again, the state that did not is run again (a
// Task is scheduled again, with its retriers' counts back at 0), and of a
// Parallel or Map state that failed only the branches and iterations that
// failed or were aborted run again, each from where it stopped, while the
// others keep their results.
//
// What a redrive resumes from is written with the transition that stops
// a thread without success: a halt names the thread and, when its last
// written snapshot is not what it was when it stopped, carries the
// snapshot. The execution's closing transition halts every thread still
// running, the root among them; a failed or aborted child of a Parallel
// or Map state is halted when it ends. The redrive's own transition
// writes the threads it brings back, and again the fan-outs of the
// Parallel and Map states it resumes with the ends of their children that
// succeeded, so that an engine that restarts resumes a redriven
// execution from its history like any other.

// halt is a thread that stopped without success.
type halt struct {
	ID        int   `json:"id"`
	Parent    int   `json:"parent,omitempty"`
	Index     int   `json:"index,omitempty"`
	ParentGen int64 `json:"parentGen,omitempty"`
	// Thread is the thread as it stopped; nil when its last written
	// snapshot is that already.
	Thread *thread `json:"thread,omitempty"`
}

// fanOut is the fan-out of a Parallel or Map state whose children failed
// it, which the thread no longer holds once its state failed.
type fanOut struct {
	Gen       int64
	Effective any
	MaxConc   int
}

// redriveMark is a redrive, in the batch that made it.
type redriveMark struct {
	Count int       `json:"count"`
	Date  time.Time `json:"date"`
	Token string    `json:"token,omitempty"`
}

// halt records that thread t stops without success.
func (x *execution) halt(t *thread) {
	h := halt{ID: t.ID, Parent: t.Parent, Index: t.Index}
	if p := x.threads[t.Parent]; t.Parent != 0 && p != nil {
		h.ParentGen = p.Gen
	}
	b := x.batch()
	fo := t.fanOut
	if fo != nil && fo.Gen != t.Gen {
		fo = nil
	}
	if b.Threads[t.ID] == t || fo != nil {
		c := *t
		c.states, c.kids, c.stops, c.hbStop, c.fanOut = nil, nil, nil, nil, nil
		c.Retries = slices.Clone(t.Retries)
		if fo != nil {
			c.Phase, c.Effective, c.MaxConc = phaseChildren, fo.Effective, fo.MaxConc
		}
		h.Thread = &c
	}
	b.Halted = append(b.Halted, h)
}

// shedHalts drops the halts of a transition too large to write, so that
// what a redrive needs never fails an execution that would have fit
// without it; it reports whether there were any. A redrive then runs the
// children it has no halt of from their start, or refuses the execution
// when the root's halt is gone.
func (x *execution) shedHalts() bool {
	if len(x.b.Halted) == 0 {
		return false
	}
	x.b.Halted = nil
	return true
}

// haltAll halts every thread of a closing execution, parents first.
func (x *execution) haltAll() {
	ids := make([]int, 0, len(x.threads))
	for id := range x.threads {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		x.halt(x.threads[id])
	}
}

// redriveHistory is what a redrive reads of an execution's batches.
type redriveHistory struct {
	raws    int
	events  int64
	start   *batchStart
	marks   []redriveMark
	spawned map[int]*spawnTrack
	halts   map[int]*thread // by thread ID, the latest
	haltOf  map[int]halt
	root    *thread // the root as the closing transition halted it
	maxID   int
	succ    []string
	spent   []string
}

type spawnTrack struct {
	info  spawnInfo
	ended []childEnd // the succeeded ones
}

// readRedrive folds an execution's batches for a redrive.
func readRedrive(raws []json.RawMessage) (*redriveHistory, error) {
	h := &redriveHistory{raws: len(raws), spawned: map[int]*spawnTrack{}, halts: map[int]*thread{}, haltOf: map[int]halt{}}
	last := map[int]*thread{}
	for i, raw := range raws {
		var b batch
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&b); err != nil {
			return nil, fmt.Errorf("decoding batch %d: %w", i+1, err)
		}
		if b.Start != nil {
			h.start = b.Start
		}
		if n := len(b.Events); n > 0 {
			h.events = b.Events[n-1].ID
		}
		h.root = nil
		for _, hl := range b.Halted {
			t := hl.Thread
			if t == nil {
				t = last[hl.ID]
			}
			if t == nil {
				continue
			}
			c := *t
			c.Retries = slices.Clone(t.Retries)
			h.halts[hl.ID], h.haltOf[hl.ID] = &c, hl
			if hl.Parent == 0 && i == len(raws)-1 {
				h.root = &c
			}
		}
		for id, t := range b.Threads {
			h.maxID = max(h.maxID, id)
			if t != nil {
				last[id] = t
			}
		}
		for id, info := range b.Spawn {
			h.spawned[id] = &spawnTrack{info: info}
		}
		for _, end := range b.Ended {
			if tr := h.spawned[end.Parent]; tr != nil && tr.info.Gen == end.Gen && !end.Failed {
				tr.ended = append(tr.ended, end)
			}
		}
		if b.Redrive != nil {
			h.marks = append(h.marks, *b.Redrive)
		}
		h.succ = append(h.succ, b.Succeeded...)
		h.spent = append(h.spent, b.Spent...)
	}
	return h, nil
}

// tokenDate returns the date of the redrive a client token made, if it is
// one of the last RedriveClientTokensKept tokens and younger than
// RedriveClientTokenLifetime.
func tokenDate(marks []redriveMark, token string, now time.Time) (time.Time, bool) {
	if token == "" {
		return time.Time{}, false
	}
	var kept []redriveMark
	for _, m := range marks {
		if m.Token != "" {
			kept = append(kept, m)
		}
	}
	if n := len(kept); n > sfn.RedriveClientTokensKept {
		kept = kept[n-sfn.RedriveClientTokensKept:]
	}
	for _, m := range kept {
		if m.Token == token && now.Sub(m.Date) < sfn.RedriveClientTokenLifetime {
			return m.Date, true
		}
	}
	return time.Time{}, false
}

// redriveReason returns why an execution cannot be redriven now, in Step
// Functions' words, or "" when it can; events is its number of history
// events when known (-1 otherwise).
func (e *Engine) redriveReason(rec ExecutionRecord, events int64) string {
	switch rec.Status {
	case sfn.StatusRunning:
		return sfn.RedriveReasonRunning
	case sfn.StatusSucceeded:
		return sfn.RedriveReasonSucceeded
	}
	e.mu.Lock()
	m := e.machines[rec.StateMachineARN]
	e.mu.Unlock()
	switch {
	case m == nil:
		return sfn.RedriveReasonDeleting
	case m.rec.Type == sfn.TypeExpress:
		return sfn.RedriveReasonExpress
	}
	now := e.now()
	switch {
	case now.Sub(rec.StartDate) > sfn.RedriveMaxOpenTime:
		return sfn.RedriveReasonMaxTime
	case now.Sub(rec.StopDate) > sfn.RedrivePeriod:
		return sfn.RedriveReasonPeriod
	case events >= sfn.RedriveMaxHistoryEvents:
		return sfn.RedriveReasonEventLimit
	}
	return ""
}

// describeRedrive sets the redrive status of a described execution; an
// execution of an EXPRESS state machine has none, as in Step Functions.
func (e *Engine) describeRedrive(d *sfn.Execution, rec ExecutionRecord) {
	e.mu.Lock()
	m := e.machines[rec.StateMachineARN]
	e.mu.Unlock()
	if m != nil && m.rec.Type == sfn.TypeExpress {
		return
	}
	if reason := e.redriveReason(rec, -1); reason != "" {
		d.RedriveStatus, d.RedriveStatusReason = sfn.RedriveStatusNotRedrivable, reason
		return
	}
	d.RedriveStatus = sfn.RedriveStatusRedrivable
}

func notRedrivable(arn, reason string) error {
	return errorf(sfn.CodeExecutionNotRedrivable, "execution %s cannot be redriven: %s", arn, reason)
}

// RedriveExecution redrives a FAILED, TIMED_OUT or ABORTED execution of a
// STANDARD state machine (see the package's redrive documentation) and
// returns once the redrive is written. A client token the execution's
// last 10 redrives used in the last 15 minutes returns that redrive's
// date again. Errors: ExecutionDoesNotExist; ExecutionNotRedrivable for
// one that runs or succeeded, of an EXPRESS or deleted state machine,
// closed more than 14 days ago, started more than a year ago, or whose
// history holds 24,999 events or more.
func (e *Engine) RedriveExecution(ctx context.Context, in sfn.RedriveExecutionInput) (sfn.RedriveExecutionOutput, error) {
	e.work.add(1) // see workCount: timers armed before the transition is queued
	defer e.work.done(1)
	if err := e.checkOpen(); err != nil {
		return sfn.RedriveExecutionOutput{}, err
	}
	arn := in.ExecutionARN
	if err := checkExecutionARN(arn); err != nil {
		return sfn.RedriveExecutionOutput{}, err
	}
	if len(in.ClientToken) > 64 {
		return sfn.RedriveExecutionOutput{}, errorf(sfn.CodeValidation, "clientToken is limited to 64 characters")
	}
	for {
		e.mu.Lock()
		x := e.execs[arn]
		e.mu.Unlock()
		if x == nil {
			break
		}
		x.mu.Lock()
		closed, marks := x.closed, x.redrives
		x.mu.Unlock()
		if d, ok := tokenDate(marks, in.ClientToken, e.now()); ok {
			return sfn.RedriveExecutionOutput{RedriveDate: d}, nil
		}
		if !closed {
			return sfn.RedriveExecutionOutput{}, notRedrivable(arn, sfn.RedriveReasonRunning)
		}
		// Its end is being written: wait until it is, as long as a write
		// waits while the store fails (see outage.go).
		if err := e.waitWritten(ctx, x); err != nil {
			return sfn.RedriveExecutionOutput{}, err
		}
	}
	rec, ok, err := e.store.Execution(ctx, arn)
	if err != nil {
		return sfn.RedriveExecutionOutput{}, e.storeError("RedriveExecution", err)
	}
	if !ok {
		return sfn.RedriveExecutionOutput{}, errorf(sfn.CodeExecutionDoesNotExist, "execution %s does not exist", arn)
	}
	raws, err := e.store.Batches(ctx, arn)
	if err != nil {
		return sfn.RedriveExecutionOutput{}, e.storeError("RedriveExecution", err)
	}
	h, err := readRedrive(raws)
	if err != nil {
		return sfn.RedriveExecutionOutput{}, e.storeError("RedriveExecution", fmt.Errorf("reading the history of %s: %w", arn, err))
	}
	if d, ok := tokenDate(h.marks, in.ClientToken, e.now()); ok {
		return sfn.RedriveExecutionOutput{RedriveDate: d}, nil
	}
	if reason := e.redriveReason(rec, h.events); reason != "" {
		return sfn.RedriveExecutionOutput{}, notRedrivable(arn, reason)
	}
	if h.root == nil || h.start == nil {
		return sfn.RedriveExecutionOutput{}, notRedrivable(arn, "the engine kept no state to resume it from (it closed before the engine kept one for redrives, its store refused a transition, or a transition exceeded the size limit)")
	}
	definition, roleARN, err := e.startDefinition(ctx, rec.StateMachineARN, h.start)
	if err != nil {
		return sfn.RedriveExecutionOutput{}, e.storeError("RedriveExecution", fmt.Errorf("reading the definition of %s: %w", arn, err))
	}
	x, err := e.rebuild(rec, h, definition, roleARN)
	if err == nil && !x.resumable(h.root) {
		err = fmt.Errorf("its root thread is in no state of its definition (%q)", h.root.State)
	}
	if err != nil {
		return sfn.RedriveExecutionOutput{}, e.storeError("RedriveExecution", fmt.Errorf("rebuilding %s: %w", arn, err))
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return sfn.RedriveExecutionOutput{}, errorf(sfn.CodeServiceUnavailable, "the engine is closed")
	}
	if e.execs[arn] != nil {
		e.mu.Unlock()
		return sfn.RedriveExecutionOutput{}, notRedrivable(arn, sfn.RedriveReasonRunning)
	}
	e.execs[arn] = x
	e.closedRecs.drop(arn)
	e.mu.Unlock()

	x.mu.Lock()
	now := e.now()
	x.closed = false
	x.rec.Status, x.rec.StopDate, x.rec.Output, x.rec.Error, x.rec.Cause = sfn.StatusRunning, time.Time{}, "", "", ""
	x.rec.RedriveCount++
	x.rec.RedriveDate = now
	mark := redriveMark{Count: x.rec.RedriveCount, Date: now, Token: in.ClientToken}
	x.redrives = append(x.redrives, mark)
	x.batch().Redrive = &mark
	x.event(nil, "ExecutionRedriven", sfn.HistoryEvent{ExecutionRedriven: &sfn.ExecutionRedrivenDetails{RedriveCount: x.rec.RedriveCount}})
	x.armTTL()
	root := *h.root
	x.restore(&root, h)
	done := make(chan error, 1)
	x.flush(done)
	x.mu.Unlock()
	if err := e.awaitWrite(ctx, done); err != nil {
		e.forgetUnwritten(ctx, x, err)
		return sfn.RedriveExecutionOutput{}, err
	}
	return sfn.RedriveExecutionOutput{RedriveDate: now}, nil
}

// waitWritten waits for a closed execution's end to be written, for at
// most answerWaitersAfter: ServiceUnavailable then, since its store fails.
func (e *Engine) waitWritten(parent context.Context, x *execution) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := e.clock.AfterFunc(answerWaitersAfter, cancel)
	defer stop()
	err := x.wait(ctx)
	if err == nil || parent.Err() != nil || ctx.Err() == nil {
		return err
	}
	select {
	case <-x.done:
		return nil
	default:
	}
	return errorf(sfn.CodeServiceUnavailable, "the end of execution %s is not written yet; try again", x.rec.ARN)
}

// rebuild builds a closed execution from its history, for a redrive.
func (e *Engine) rebuild(rec ExecutionRecord, h *redriveHistory, definition, roleARN string) (*execution, error) {
	x := e.newExecution(rec)
	x.written.Store(&rec)
	x.closed = true
	x.seq = int64(h.raws)
	x.lastEventID = h.events
	x.nextThread = h.maxID
	x.definition, x.roleARN = definition, roleARN
	x.redrives = h.marks
	for _, tok := range h.succ {
		x.succeeded.set(tok, true)
	}
	for _, tok := range h.spent {
		x.spent.set(tok, true)
	}
	m, err := newMachine(StateMachineRecord{Definition: x.definition})
	if err != nil {
		return nil, fmt.Errorf("parsing its definition: %w", err)
	}
	x.sm = m.sm
	if x.smName, err = checkStateMachineARN(rec.StateMachineARN); err != nil {
		return nil, err
	}
	if x.input, err = decodeJSON(rec.Input); err != nil {
		return nil, fmt.Errorf("decoding its input: %w", err)
	}
	return x, nil
}

// resumable reports whether a halted thread names a state of the
// execution's definition, as a snapshot of the engine's own making does.
func (x *execution) resumable(t *thread) bool {
	states, err := x.scopeStates(t.Scope)
	return err == nil && t.State != "" && states[t.State] != nil
}

// restore brings back a halted thread, which must be resumable, and
// carries it on: a Parallel or Map state that failed by its children, or
// stopped while they ran, runs again the children that did not succeed;
// any other state runs again.
func (x *execution) restore(t *thread, h *redriveHistory) {
	states, _ := x.scopeStates(t.Scope)
	t.states = states
	t.LastEvent = x.lastEventID
	t.Task, t.Token, t.Due, t.Retries, t.RetryCount, t.fanOut = nil, "", time.Time{}, nil, 0, nil
	x.threads[t.ID] = t
	x.nextThread = max(x.nextThread, t.ID)
	st := states[t.State]
	if tr := h.spawned[t.ID]; t.Phase == phaseChildren && tr != nil && tr.info.Gen == t.Gen {
		x.dirty(t)
		x.restoreChildren(t, st, tr, h)
		return
	}
	t.Phase, t.Effective, t.MaxConc = "", nil, 0
	t.Gen++
	x.dirty(t)
	next, out := x.run(t, st)
	x.drive(t, next, out)
}

// restoreChildren resumes the fan-out of Parallel or Map thread p.
func (x *execution) restoreChildren(p *thread, st *asl.State, tr *spawnTrack, h *redriveHistory) {
	n := tr.info.Slots
	k := &kids{items: tr.info.Items, results: make([]any, n), done: make([]bool, n)}
	if st.Type == asl.TypeMap {
		env := x.env(p, x.contextObject(p, "", nil))
		k.tolerated, _ = x.tolerance(p, st, p.Effective, env, n)
	}
	p.kids = k
	x.spawn(p, spawnInfo{Slots: n, Items: tr.info.Items})
	b := x.batch()
	for _, end := range tr.ended {
		if end.Index >= n || k.done[end.Index] {
			continue
		}
		k.done[end.Index] = true
		k.succeeded++
		k.results[end.Index] = end.Output
		k.next = max(k.next, end.Index+1)
		b.Ended = append(b.Ended, end)
	}
	halted := map[int]*thread{}
	for id, t := range h.halts {
		hl := h.haltOf[id]
		if hl.Parent != p.ID || hl.ParentGen != p.Gen || t.Index >= n || k.done[t.Index] {
			continue
		}
		if prev := halted[t.Index]; prev == nil || prev.ID < t.ID {
			halted[t.Index] = t
		}
		k.next = max(k.next, t.Index+1)
	}
	gen := p.Gen
	k.pumping = true
	for i := 0; i < k.next && x.still(p, gen); i++ {
		if k.done[i] {
			continue
		}
		k.running++
		c := halted[i]
		if c == nil || !x.resumable(c) {
			x.startChild(p, st, i)
			continue
		}
		c.Parent = p.ID
		if st.Type == asl.TypeMap {
			x.event(p, "MapIterationStarted", sfn.HistoryEvent{MapIterationStarted: &sfn.MapIterationDetails{Name: p.State, Index: i}})
		}
		x.restore(c, h)
	}
	k.pumping = false
	if x.still(p, gen) {
		x.pump(p)
	}
}

// startChild starts child i of Parallel or Map thread p from the start
// of its branch or iteration, for pump and for a redrive. It returns false
// when the child could not start and p failed with it (pumping ended).
func (x *execution) startChild(p *thread, st *asl.State, i int) bool {
	k := p.kids
	if st.Type == asl.TypeParallel {
		c, err := x.newThread(p, i, appendScope(p.Scope, scopeStep{State: p.State, Branch: i}))
		if err != nil {
			k.pumping = false
			x.childrenFailed(p, failure{Error: asl.ErrorRuntime, Cause: err.Error()})
			return false
		}
		x.drive(c, st.Branches[i].StartAt, p.Effective)
		return true
	}
	c, err := x.newThread(p, i, appendScope(p.Scope, scopeStep{State: p.State}))
	if err != nil {
		k.pumping = false
		x.childrenFailed(p, failure{Error: asl.ErrorRuntime, Cause: err.Error()})
		return false
	}
	x.event(p, "MapIterationStarted", sfn.HistoryEvent{MapIterationStarted: &sfn.MapIterationDetails{Name: p.State, Index: i}})
	c.LastEvent = p.LastEvent
	ctx := x.contextObject(p, "", &[2]any{jsonInt(i), k.items[i]})
	in, err := k.items[i], error(nil)
	if st.ItemBatcher == nil { // a batch's items went through ItemSelector already
		in, err = x.processItem(p, st, k.items[i], ctx)
	}
	if err != nil {
		k.pumping = false
		x.abortThread(c)
		k.running--
		x.childrenFailed(p, failureOf(err))
		return false
	}
	x.drive(c, processor(st).StartAt, in)
	return true
}

// redriveMatches reports whether an execution redriven count times passes
// a ListExecutions redrive filter.
func redriveMatches(f sfn.RedriveFilter, count int) bool {
	switch f {
	case sfn.RedriveFilterRedriven:
		return count > 0
	case sfn.RedriveFilterNotRedriven:
		return count == 0
	}
	return true
}
