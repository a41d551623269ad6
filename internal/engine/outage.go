package engine

import (
	"context"
	"errors"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
)

// What the engine does while its store cannot write (the database is
// down or restarting). Transitions are kept and written again with
// backoff (see write); the callers waiting for one are answered
// ServiceUnavailable once the store has failed for answerWaitersAfter
// (the transition is still written when the store is back). The timers
// of waiting tasks (TimeoutSeconds, HeartbeatSeconds) do not expire a
// task while the store is failing, since the worker's result or heartbeat
// may be what could not get through: a timer that fires then checks the
// store every storeProbeInterval, and once it answers the task gets
// outageGrace more (a whole HeartbeatSeconds for a heartbeat) before the
// timer fires again.
const (
	answerWaitersAfter = time.Second
	storeProbeInterval = time.Second
	storeProbeTimeout  = 5 * time.Second
	outageGrace        = 10 * time.Second
)

// storeAvailable reports whether the store writes: false while the
// engine's writers are retrying a failed commit, or when reading x's own
// record fails in a way that may pass.
func (e *Engine) storeAvailable(x *execution) bool {
	if e.storeFailing.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(e.drainCtx, storeProbeTimeout)
	defer cancel()
	_, _, err := e.store.Execution(ctx, x.rec.ARN)
	return err == nil || isRefusal(err) || errors.Is(e.drainCtx.Err(), context.Canceled)
}

// taskTimerFired ends thread id's task with a timer's error
// (States.Timeout or States.HeartbeatTimeout), unless the store is
// unavailable: then the timer waits for it (see waitForStore).
func (x *execution) taskTimerFired(id int, gen int64, name string) {
	if x.e.storeAvailable(x) {
		x.taskResult(id, gen, "", nil, &failure{Error: name}, true)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if t := x.live(id, gen, phaseTask); t != nil {
		x.e.log.Warn("a task's timer fired while the store is unavailable; it waits for the store",
			"execution", x.rec.ARN, "state", t.State, "error", name)
		x.parkTaskTimer(t, name)
	}
}

// parkTaskTimer arms the timer that checks the store again; it replaces
// the task's heartbeat timer, so that a heartbeat stops it as it would
// the original. x.mu is held.
func (x *execution) parkTaskTimer(t *thread, name string) {
	id, gen := t.ID, t.Gen
	stop := x.e.afterFunc(storeProbeInterval, "a task's timer waiting for the store", func() {
		x.waitForStore(id, gen, name)
	})
	if name == asl.ErrorHeartbeatTimeout {
		t.hbStop = stop
		return
	}
	t.stops = append(t.stops, stop)
}

// waitForStore checks the store for a parked timer: while it is
// unavailable the timer stays parked; once it answers, the task has
// outageGrace (its whole heartbeat) before the timer fires again.
func (x *execution) waitForStore(id int, gen int64, name string) {
	available := x.e.storeAvailable(x)
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.live(id, gen, phaseTask)
	switch {
	case t == nil:
	case !available:
		x.parkTaskTimer(t, name)
	case name == asl.ErrorHeartbeatTimeout:
		x.armHeartbeat(t)
	default:
		t.stops = append(t.stops, x.e.afterFunc(outageGrace, "a task's TimeoutSeconds timer after an outage", func() {
			x.taskTimerFired(id, gen, name)
		}))
	}
}

// answerWaiters answers the callers waiting for chunk's transitions
// ServiceUnavailable, once, while the store fails: the transitions stay
// queued and are written when it is back. Only the writer calls it.
func (e *Engine) answerWaiters(chunk []*pendingCommit, err error) {
	for _, p := range chunk {
		if p.done != nil {
			p.done <- stillWriting{e.storeError("commit", err)}
			p.done = nil
		}
	}
	// The transitions queued behind the chunk for the same writer (a stop
	// made while an earlier transition of its execution is retried) wait
	// as long: answer them too.
	q := e.commits[chunk[0].x.writer]
	q.mu.Lock()
	for _, p := range q.items {
		if p.done != nil {
			p.done <- stillWriting{e.storeError("commit", err)}
			p.done = nil
		}
	}
	q.mu.Unlock()
}

// stillWriting is the answer to a caller whose transition the engine goes
// on writing while the store fails (see answerWaiters): the transition may
// yet be written, so the caller must not drop its execution. It unwraps
// to the store's error, which callers see.
type stillWriting struct{ error }

func (s stillWriting) Unwrap() error { return s.error }

// forgetUnwritten drops an execution whose start or redrive was answered
// with err before its transition was written, unless the engine may still
// write it: the caller gave up (ctx ended) or the store has failed for a
// while (stillWriting). Such an execution stays: once written, it runs,
// and a retry of the same call finds it. Dropped, it would stand in the
// store RUNNING with nothing to drive it until the next restart.
func (e *Engine) forgetUnwritten(ctx context.Context, x *execution, err error) {
	if ctx.Err() == nil && !errors.As(err, new(stillWriting)) {
		e.forget(x)
	}
}
