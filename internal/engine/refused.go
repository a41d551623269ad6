package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// maxCause is Step Functions' limit on a failure's cause.
const maxCause = 32768

// failRefused ends an execution whose lone transition p the store refused
// for its data (an error wrapping ErrCommitRefused, or a
// ValidationException): writing it again cannot mend it, and dropping the
// execution would leave it RUNNING in the store until the next Start, where
// it would be refused again. Instead the engine writes, in place of the
// refused transition (the same Seq, so after the last one the store
// holds), the execution's failure: ExecutionFailed with States.Runtime and
// a cause naming the refusal, and a summary without the refused data. A
// refused start is written as its ExecutionStarted and that failure; when
// the store refuses that too (the input or the trace header is what it
// cannot hold), nothing of the execution is stored and its start fails.
//
// Every caller waiting on this transition or a later one of the execution
// gets a ValidationException naming the refusal, but the caller of a start
// whose failure was written, which succeeded: its execution exists, and
// failed. The execution's later transitions are never written, its timers
// stop, and it leaves the engine's memory.
func (e *Engine) failRefused(p *pendingCommit, err error) {
	x := p.x
	arn := p.commit.Execution.ARN
	reason := err.Error()
	var ae *sfn.Error
	if errors.As(err, &ae) && !errors.Is(err, ErrCommitRefused) {
		reason = ae.Code + ": " + ae.Message
	}
	e.log.Error("commit refused for its data; failing the execution", "execution", arn, "seq", p.commit.Seq, "type", p.commit.Type, "err", err)
	callerErr := errorf(sfn.CodeValidation, "the engine's store refused the data of a transition (%s) of execution %s, which failed with %s: %s",
		p.commit.Type, arn, asl.ErrorRuntime, reason)
	x.refusal.Store(callerErr)

	now := e.now()
	f := failure{Error: asl.ErrorRuntime, Cause: truncate(fmt.Sprintf(
		"The engine's store refused the data of the execution's transition %d (%s), which was not written: %s", p.commit.Seq, p.commit.Type, reason), maxCause)}
	x.mu.Lock()
	x.stopTimers()
	x.closed = true
	x.rec.Status, x.rec.StopDate, x.rec.Output, x.rec.Error, x.rec.Cause = sfn.StatusFailed, now, "", f.Error, f.Cause
	x.mu.Unlock()

	rec := p.commit.Execution
	rec.Status, rec.StopDate, rec.Output, rec.Error, rec.Cause = sfn.StatusFailed, now, "", f.Error, f.Cause
	b := batch{Threads: map[int]*thread{}}
	prev := p.prevEventID
	if p.commit.Seq == 1 {
		// Keep the start: its definition and ExecutionStarted.
		var start struct {
			Start  *batchStart        `json:"start"`
			Events []sfn.HistoryEvent `json:"events"`
		}
		data := p.commit.Data
		if data == nil && p.commit.Batch != nil {
			data = p.commit.Batch.JSON()
		}
		if err := json.Unmarshal(data, &start); err != nil || start.Start == nil || len(start.Events) == 0 {
			panic(fmt.Sprintf("engine: decoding the refused start of %s: %v", arn, err))
		}
		b.Start, b.Events = start.Start, start.Events[:1]
		prev = start.Events[0].ID
	}
	ev := sfn.HistoryEvent{ID: prev + 1, Type: "ExecutionFailed", Timestamp: now, ExecutionFailed: &sfn.FailureDetails{Error: f.Error, Cause: f.Cause}}
	if prev > 0 {
		ev.PreviousEventID = prev
	}
	b.Events = append(b.Events, ev)
	data, mErr := json.Marshal(&b)
	if mErr != nil {
		panic(fmt.Sprintf("engine: encoding the failure of %s: %v", arn, mErr))
	}
	written := make(chan error, 1)
	e.write([]*pendingCommit{{x: x, commit: Commit{Execution: rec, Seq: p.commit.Seq, Type: "ExecutionFailed", Data: data},
		done: written, prevEventID: prev, replacement: true}})
	wErr := <-written
	e.forget(x)
	if wErr != nil {
		e.log.Error("writing the failure of an execution whose transition the store refused failed; it resumes from its last written transition on the next start",
			"execution", arn, "err", wErr)
	}
	if p.done == nil {
		return
	}
	if p.commit.Seq == 1 && wErr == nil {
		p.done <- nil
		return
	}
	p.done <- callerErr
}

// skipRefused answers the transitions of executions the store refused a
// transition of, which are never written, and returns the others.
func (e *Engine) skipRefused(chunk []*pendingCommit) []*pendingCommit {
	kept := chunk[:0:0]
	for _, p := range chunk {
		refusal := p.x.refusal.Load()
		if refusal == nil || p.replacement {
			kept = append(kept, p)
			continue
		}
		if p.done != nil {
			p.done <- refusal
		}
	}
	return kept
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
