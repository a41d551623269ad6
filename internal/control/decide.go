package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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

// Decide approves or rejects a pending approval: the approval step's task
// succeeds with {"approved", "approver", "comment"}, and the decision is
// recorded. An unknown approval is a CodeNotFound; one decided already,
// or whose step stopped waiting (it timed out, or its execution ended), a
// CodeApprovalDecided.
func (s *Service) Decide(ctx context.Context, p DecideParams) (apistore.Approval, error) {
	status := apistore.ApprovalRejected
	if p.Approve {
		status = apistore.ApprovalApproved
	}
	a, err := s.opts.Store.Decide(ctx, apistore.Decision{ID: p.ID, Status: status, DecidedBy: p.Principal, Comment: p.Comment, At: s.opts.NowFunc().UTC()},
		func(a apistore.Approval) error {
			out, _ := json.Marshal(map[string]any{"output": map[string]any{"approved": p.Approve, "approver": p.Principal, "comment": p.Comment}})
			err := s.opts.Engine.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: a.TaskToken, Output: string(out)})
			if sfn.TaskGone(err) {
				return apistore.ErrExpired
			}
			return err
		})
	switch {
	case errors.Is(err, apistore.ErrExpired):
		return a, &Error{Code: CodeApprovalDecided, Detail: "the approval step is no longer waiting: it timed out or its execution ended"}
	case errors.Is(err, apistore.ErrConflict):
		return a, &Error{Code: CodeApprovalDecided, Detail: fmt.Sprintf("the approval was decided already: %s by %s", a.Status, orSomeone(a.DecidedBy))}
	case errors.Is(err, apistore.ErrNotFound):
		return a, &Error{Code: CodeNotFound, Detail: "no approval has the id " + p.ID}
	}
	return a, err
}

func orSomeone(s string) string {
	if s == "" {
		return "nobody (it expired)"
	}
	return s
}
