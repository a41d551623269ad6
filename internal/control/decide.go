package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/sfn"
)

// DecideParams is a decision on an approval.
type DecideParams struct {
	// ID is the approval's.
	ID string
	// Approve approves it; false rejects it.
	Approve bool
	Comment string
	// Principal decides it: the approver.
	Principal string
}

// Decide approves or rejects a pending approval in three steps, so that no
// failure leaves the approval and its execution disagreeing and no retry
// can flip a decision:
//
//  1. the decision is recorded and fixed: the approval becomes deciding;
//  2. the approval step's task succeeds with {"approved", "approver",
//     "comment"}, as recorded;
//  3. the approval becomes approved or rejected; or expired when the step
//     had stopped waiting (it timed out, or its execution ended) before the
//     decision was first delivered.
//
// A failure after step 1 leaves the approval deciding and returns the
// error: the same decision again (same approver and comment) delivers it
// again and finishes it, and so does ResumeDecisions; any other decision
// is refused. The same decision on an approval decided with it returns
// the approval. An unknown approval is a CodeNotFound; one decided (or
// being decided) otherwise, or expired, a CodeApprovalDecided.
func (s *Service) Decide(ctx context.Context, p DecideParams) (apistore.Approval, error) {
	status := apistore.ApprovalRejected
	if p.Approve {
		status = apistore.ApprovalApproved
	}
	a, began, err := s.opts.Store.BeginDecision(ctx, apistore.Decision{ID: p.ID, Status: status, DecidedBy: p.Principal, Comment: p.Comment, At: s.opts.NowFunc().UTC()})
	switch {
	case errors.Is(err, apistore.ErrNotFound):
		return a, &Error{Code: CodeNotFound, Detail: "no approval has the id " + p.ID}
	case errors.Is(err, apistore.ErrConflict) && a.Status == apistore.ApprovalExpired:
		return a, errExpired()
	case errors.Is(err, apistore.ErrConflict):
		verb, what := "was decided already", a.Status
		if a.Status == apistore.ApprovalDeciding {
			verb, what = "is being decided already", a.Decision
		}
		return a, &Error{Code: CodeApprovalDecided, Detail: fmt.Sprintf("the approval %s: %s by %s", verb, what, orSomeone(a.DecidedBy))}
	case err != nil:
		return a, err
	case a.Status != apistore.ApprovalDeciding:
		return a, nil // decided with this decision already
	}
	return s.deliver(ctx, a, began)
}

// deliver answers a deciding approval's task token with its recorded
// decision and records the outcome. first says that no delivery of the
// decision was tried before: a step that is no longer waiting then stopped
// waiting on its own, and the approval expires. Otherwise an earlier
// delivery, whose answer was lost, may be what closed the step (Step
// Functions answers TaskTimedOut for a task that succeeded), and the
// decision stands.
func (s *Service) deliver(ctx context.Context, a apistore.Approval, first bool) (apistore.Approval, error) {
	out, err := json.Marshal(map[string]any{"output": map[string]any{
		"approved": a.Decision == apistore.ApprovalApproved, "approver": a.DecidedBy, "comment": a.Comment}})
	if err != nil {
		return a, fmt.Errorf("encoding the decision on approval %s: %w", a.ID, err)
	}
	err = s.opts.Engine.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: a.TaskToken, Output: string(out)})
	expired := first && sfn.TaskGone(err)
	if err != nil && !sfn.TaskGone(err) {
		return a, fmt.Errorf("delivering the decision on approval %s (it stays deciding; the same decision again delivers it again): %w", a.ID, err)
	}
	a, err = s.opts.Store.FinishDecision(ctx, a.ID, expired)
	if err != nil {
		return a, err
	}
	if a.Status == apistore.ApprovalExpired {
		return a, errExpired()
	}
	return a, nil
}

func errExpired() *Error {
	return &Error{Code: CodeApprovalDecided, Detail: "the approval step is no longer waiting: it timed out or its execution ended"}
}

func orSomeone(s string) string {
	if s == "" {
		return "nobody (it expired)"
	}
	return s
}

// ResumeDecisionsParams selects the decisions ResumeDecisions finishes.
type ResumeDecisionsParams struct {
	// OlderThan keeps decisions recorded at least this long ago, so that
	// the ones a caller is delivering are left to it; 0 means a minute.
	OlderThan time.Duration
	// Limit caps the decisions finished in one call; 0 means 100.
	Limit int
}

// ResumeDecisions finishes the decisions left deciding by a failure or a
// crash between recording and delivering them (see Decide): each is
// delivered again and recorded. It returns how many it finished (decided
// or expired) and the first error of those it could not; the others stay
// deciding for the next call. Run it now and then, such as every minute.
func (s *Service) ResumeDecisions(ctx context.Context, p ResumeDecisionsParams) (int, error) {
	if p.OlderThan <= 0 {
		p.OlderThan = time.Minute
	}
	if p.Limit <= 0 {
		p.Limit = 100
	}
	list, err := s.opts.Store.Deciding(ctx, s.opts.NowFunc().UTC().Add(-p.OlderThan), p.Limit)
	if err != nil {
		return 0, err
	}
	var (
		n     int
		first error
	)
	for _, a := range list {
		_, err := s.deliver(ctx, a, false)
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			if first == nil {
				first = fmt.Errorf("resuming decisions: %w", err)
			}
			continue
		}
		n++
	}
	return n, first
}
