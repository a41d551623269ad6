package engine

// Events written late.
//
// A waitForTaskToken task's TaskSubmitted event says only that its message
// was sent. Written alone, it cost a transition's write of its own, one of
// seven for each task of a durable execution: a stream version moved, a
// summary written, a group commit's share. Nothing waits on it: recovery
// dispatches every task in flight again whether its TaskSubmitted is
// written or not (see resume), a callback is taken without it, and the
// message's result is kept in memory (messageIDs). So it waits, at the
// head of the execution's next batch, for the next transition, which is
// most often the task's own callback, and is written with it; a timer
// writes it alone once Config.SubmittedWait has passed, and Close writes
// it before the engine stops. Until then the history does not show it.

// deferWrite leaves the events of the batch built so far to be written
// with the execution's next transition, and arms the timer that writes
// them alone if none comes within the engine's SubmittedWait. The caller
// holds x.mu.
func (x *execution) deferWrite() {
	if x.e.submittedWait < 0 {
		x.flush(nil)
		return
	}
	x.deferred = len(x.b.Events)
	if x.stopDeferred != nil {
		return
	}
	x.deferGen++
	gen := x.deferGen
	x.stopDeferred = x.e.afterFunc(x.e.submittedWait, "writing a task's TaskSubmitted", func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		if x.stopDeferred == nil || x.deferGen != gen {
			return // written with a transition since, or stopped
		}
		x.stopDeferred = nil
		x.writeDeferred()
	})
}

// writeDeferred writes the events left to be written late now, if there
// are any. The caller holds x.mu.
func (x *execution) writeDeferred() {
	if x.deferred > 0 && !x.dead {
		x.flush(nil)
	}
}

// stopDeferredTimer stops the timer that would write the events left to
// be written late. The caller holds x.mu.
func (x *execution) stopDeferredTimer() {
	if x.stopDeferred != nil {
		x.stopDeferred()
		x.stopDeferred = nil
	}
}
