package apistore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AddApprovals records pending approvals, as AddApproval does each, in
// one statement and one commit: the approvals of one batch of task
// messages. An approval whose id or task token is stored already changes
// nothing.
func (s *Store) AddApprovals(ctx context.Context, as []Approval) error {
	if len(as) == 0 {
		return nil
	}
	ids, arns, steps, tokens, messages, approvers := make([]string, len(as)), make([]string, len(as)), make([]string, len(as)),
		make([]string, len(as)), make([]string, len(as)), make([]string, len(as))
	times := make([]time.Time, len(as))
	for i, a := range as {
		if a.Approvers == nil {
			a.Approvers = []string{}
		}
		list, err := json.Marshal(a.Approvers)
		if err != nil {
			return fmt.Errorf("recording approval %s: encoding its approvers: %w", a.ID, err)
		}
		ids[i], arns[i], steps[i], tokens[i], messages[i], approvers[i], times[i] = a.ID, a.ExecutionARN, a.StepID, a.TaskToken, a.Message, string(list), a.CreatedAt
	}
	// A text[][] cannot hold rows of unequal lengths, so each row's
	// approvers travel as a JSON array.
	_, err := s.pool.Exec(ctx, `INSERT INTO api.approvals (id, execution_arn, step_id, task_token, message, approvers, status, created_at)
		SELECT id, execution_arn, step_id, task_token, message, ARRAY(SELECT json_array_elements_text(approvers::json)), 'pending', created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
			AS r(id, execution_arn, step_id, task_token, message, approvers, created_at)
		ON CONFLICT DO NOTHING`, ids, arns, steps, tokens, messages, approvers, times)
	if err != nil {
		return fmt.Errorf("recording approvals %s to %s: %w", as[0].ID, as[len(as)-1].ID, interpret(err))
	}
	return nil
}
