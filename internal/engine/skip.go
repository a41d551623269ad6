package engine

import (
	"sync/atomic"

	"github.com/aiflow/aiflow/internal/clock"
)

// workCount counts the work the engine has in hand that no timer stands
// for: transitions queued or being written, effects queued or running,
// Lambda invocations running, and calls that change executions (a start,
// a stop, a redrive, a task's callback) while they run: such a call arms
// timers (an execution's TimeoutSeconds, a Wait state's) before its
// transition is queued, and a skipping clock that found the engine quiet
// in between would jump over what the transition is about to arm. A clock that skips time (clock.Skipping)
// reads it through Quiet, so that it jumps only when the engine has
// nothing to do but wait.
type workCount struct {
	n     atomic.Int64
	epoch atomic.Uint64 // grows with every add
}

func (w *workCount) add(n int) {
	w.epoch.Add(1)
	w.n.Add(int64(n))
}

func (w *workCount) done(n int) { w.n.Add(-int64(n)) }

var _ clock.Activity = (*Engine)(nil)

// Quiet reports whether the engine has no work in hand but its timers (no
// transition waiting to be written, no effect waiting to run, no Lambda
// invocation running), with a count that grows whenever work arrives: the
// clock.Activity a skipping clock watches. While Close runs the engine is
// never quiet, so that its own bound on Close is not skipped.
func (e *Engine) Quiet() (quiet bool, epoch uint64) {
	epoch = e.work.epoch.Load()
	select {
	case <-e.closing:
		select {
		case <-e.halted:
		default:
			return false, epoch
		}
	default:
	}
	return e.work.n.Load() == 0, epoch
}

// watchedBy hands the engine to its clock when the clock waits for work to
// end before it moves time on (clock.Skipping).
func (e *Engine) watchedBy(c clock.Clock) {
	if w, ok := c.(clock.Watcher); ok {
		w.Watch(e)
	}
}
