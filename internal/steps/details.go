package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/ai"
)

// How an ai step keeps its detail events (model calls, tool calls, its
// summary: the tokens and cost an execution is billed and budgeted by)
// when the detail store fails: a detail that could not be appended is
// kept, and appended again before the step reports its result, with a
// backoff from detailRetryFirst doubling up to detailRetryMax, for at most
// detailRetryFor. A step that succeeded but whose details still cannot be
// written fails with AI.Unavailable, which workflows retry, rather than
// report a result whose cost is lost.
const (
	detailRetryFirst = 100 * time.Millisecond
	detailRetryMax   = 2 * time.Second
	detailRetryFor   = 30 * time.Second
)

// flushDetails appends the details record could not, again, until they
// are all written or detailRetryFor has passed; it returns what is still
// unwritten as an error.
func (r *aiRun) flushDetails(ctx context.Context) error {
	if len(r.unrecorded) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detailRetryFor)
	defer cancel()
	delay := detailRetryFirst
	var last error
	for len(r.unrecorded) > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("recording %d detail events of step %q: %w", len(r.unrecorded), r.m.Step.ID, errors.Join(last, ctx.Err()))
		case <-t.C:
		}
		delay = min(2*delay, detailRetryMax)
		for len(r.unrecorded) > 0 {
			if last = r.h.cfg.Details.RecordDetail(ctx, r.unrecorded[0]); last != nil {
				break
			}
			r.unrecorded = r.unrecorded[1:]
		}
	}
	return nil
}

// withDetails is the step's outcome once its details are flushed: a
// success whose details could not be written becomes AI.Unavailable; a
// failure stays the step's own (its details are logged as lost).
func (r *aiRun) withDetails(ctx context.Context, res Result, err error) (Result, error) {
	ferr := r.flushDetails(ctx)
	if ferr == nil {
		return res, err
	}
	r.h.log.ErrorContext(ctx, "detail events of the step could not be written",
		"events", len(r.unrecorded), "error", ferr, "step_failed", err != nil)
	if err != nil {
		return res, err
	}
	return Result{}, ai.Errorf(ai.CodeUnavailable, "the step's usage and cost details could not be written: %v", ferr)
}
