package engine

import (
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// Events written late.
//
// A waitForTaskToken task's TaskSubmitted event says only that its message
// was sent. Written alone, it cost a transition's write of its own, one of
// seven for each task of a durable execution: a stream version moved, a
// summary written, a group commit's share. Nothing waits on it: recovery
// dispatches every task in flight again whether its TaskSubmitted is
// written or not (see resume), a callback is taken without it, and the
// message's result is kept in memory (messageIDs). So it waits for the
// execution's next transition, which is most often the task's own
// callback, and is written at the head of its batch; the engine writes it
// alone once Config.SubmittedWait has passed, and Close writes it before
// the engine stops. Until then the history does not show it.
//
// A waiting TaskSubmitted is kept small, for an execution in flight may
// wait on one for the whole of SubmittedWait: what the event will say, in
// the execution's late, and the execution in one queue of the engine's,
// in the order their waits end, under one timer.

// lateSubmit is a TaskSubmitted event not made yet: thread t's message,
// sent at at, whose SendMessage result is out.
type lateSubmit struct {
	t        *thread
	at       time.Time
	resource string
	out      string
}

// submitLate leaves l to be made with the execution's next transition, or
// alone once the engine's SubmittedWait has passed; a negative wait makes
// and writes it at once. The caller holds x.mu.
func (x *execution) submitLate(l lateSubmit) {
	if len(x.late) == 0 && x.e.submittedWait >= 0 {
		x.lateGen++
		x.e.late.push(x.e, lateEntry{x: x, gen: x.lateGen, due: l.at.Add(x.e.submittedWait)})
	}
	x.late = append(x.late, l)
	if x.e.submittedWait < 0 {
		x.flush(nil)
	}
}

// makeLate makes the late events in the batch, in the order they
// happened, with the times they happened. The caller holds x.mu.
func (x *execution) makeLate() {
	late := x.late
	x.late = nil // batch, here and through eventAt, finds none
	head := len(x.batch().Events) == 0
	for _, l := range late {
		_, _, rtype, rname, _ := parseResource(l.resource)
		ev := x.eventAt(l.t, "TaskSubmitted")
		ev.Timestamp = l.at
		ev.TaskSubmitted = &sfn.TaskOutputDetails{ResourceType: rtype, Resource: rname, Output: l.out}
	}
	if head {
		x.deferred = len(late)
	}
}

// writeLate writes the late events alone, if there are any. The
// caller holds x.mu.
func (x *execution) writeLate() {
	if len(x.late) > 0 && !x.dead {
		x.flush(nil)
	}
}

// lateEntry is an execution whose late events are to be written alone at
// due, unless they were written since (gen is then not the execution's
// lateGen any more).
type lateEntry struct {
	x   *execution
	gen uint32
	due time.Time
}

// lateQueue is the executions whose late events wait, in the order their
// waits end (every wait is as long), under one timer armed for the first.
type lateQueue struct {
	mu    sync.Mutex
	q     []lateEntry
	armed bool
}

func (lq *lateQueue) push(e *Engine, en lateEntry) {
	lq.mu.Lock()
	lq.q = append(lq.q, en)
	arm := !lq.armed
	lq.armed = true
	lq.mu.Unlock()
	if arm {
		e.afterFunc(max(en.due.Sub(e.clock.Now()), 0), "writing tasks' TaskSubmitted", e.writeLateDue)
	}
}

// writeLateDue writes the late events whose wait has ended, and arms the
// timer for the next.
func (e *Engine) writeLateDue() {
	now := e.clock.Now()
	lq := &e.late
	lq.mu.Lock()
	n := 0
	for n < len(lq.q) && !lq.q[n].due.After(now) {
		n++
	}
	due := make([]lateEntry, n)
	copy(due, lq.q[:n])
	clear(lq.q[:n])
	lq.q = lq.q[n:]
	var next time.Duration
	rearm := len(lq.q) > 0
	if rearm {
		next = max(lq.q[0].due.Sub(now), 0)
	} else {
		lq.armed = false
	}
	lq.mu.Unlock()
	for _, en := range due {
		x := en.x
		x.mu.Lock()
		if x.lateGen == en.gen {
			x.writeLate()
		}
		x.mu.Unlock()
	}
	if rearm {
		e.afterFunc(next, "writing tasks' TaskSubmitted", e.writeLateDue)
	}
}
