package engine

import "time"

// leanThread is a thread as a frozen batch keeps it when it has none of
// the fields of Parallel and Map states, retries, tokens and variables:
// the fields its snapshot writes, in half the bytes of a thread (the
// memory store keeps one for most transitions of every execution).
type leanThread struct {
	id                           int
	state, phase                 string
	input                        any
	inputJSON                    string
	entered                      time.Time
	gen, lastEvent, enteredEvent int64
	call                         taskCall
	hasCall                      bool
}

// leanOf returns t as a leanThread, or nil when t has a field the lean
// form leaves out. A call whose parameters are kept encoded is kept
// without their decoded value, as freezeBatch keeps it.
func leanOf(t *thread) *leanThread {
	if t.Parent != 0 || t.Index != 0 || t.Scope != nil || t.Retries != nil || t.RetryCount != 0 || !t.Due.IsZero() ||
		t.Token != "" || t.Vars != nil || t.Outer != nil || t.Effective != nil || t.MaxConc != 0 || t.MapRun != "" {
		return nil
	}
	l := &leanThread{id: t.ID, state: t.State, phase: t.Phase, input: t.Input, inputJSON: t.inputJSON, entered: t.Entered,
		gen: t.Gen, lastEvent: t.LastEvent, enteredEvent: t.EnteredEvent}
	if l.inputJSON != "" {
		l.input = nil
	}
	if c := t.Task; c != nil {
		l.call, l.hasCall = *c, true
		if c.paramsJSON != "" {
			l.call.Params = nil
		}
	}
	return l
}

// thread returns the thread l keeps, for its batch's encoding.
func (l *leanThread) thread() *thread {
	t := &thread{ID: l.id, State: l.state, Phase: l.phase, Input: l.input, inputJSON: l.inputJSON, Entered: l.entered,
		Gen: l.gen, LastEvent: l.lastEvent, EnteredEvent: l.enteredEvent}
	if l.hasCall {
		c := l.call
		t.Task = &c
	}
	return t
}
