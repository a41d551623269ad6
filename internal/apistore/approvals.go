package apistore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AddApprovals records pending approvals, as AddApproval does each, in
// one statement and one commit: the approvals of one batch of task
// messages. An approval whose id or task token is stored already changes
// nothing.
//
// The batch is first inserted as it is: ON CONFLICT DO NOTHING inserts
// each row speculatively, probing both unique indexes before and writing
// a confirmation after, which made it the costliest statement of a start
// on the server. Only a batch that meets a stored id or token (a message
// delivered again) is inserted again with it.
func (s *Store) AddApprovals(ctx context.Context, as []Approval) error {
	if len(as) == 0 {
		return nil
	}
	ids, arns, steps, tokens, messages, approvers := make([]string, len(as)), make([]string, len(as)), make([]string, len(as)),
		make([]string, len(as)), make([]string, len(as)), make([]string, len(as))
	times := make([]time.Time, len(as))
	var list []byte
	for i, a := range as {
		list = appendTextArray(list[:0], a.Approvers)
		ids[i], arns[i], steps[i], tokens[i], messages[i], approvers[i], times[i] = a.ID, a.ExecutionARN, a.StepID, a.TaskToken, a.Message, string(list), a.CreatedAt
	}
	// A text[][] cannot hold rows of unequal lengths, so each row's
	// approvers travel as the text of an array.
	const insert = `INSERT INTO api.approvals (id, execution_arn, step_id, task_token, message, approvers, status, created_at)
		SELECT id, execution_arn, step_id, task_token, message, approvers::text[], 'pending', created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
			AS r(id, execution_arn, step_id, task_token, message, approvers, created_at)`
	_, err := s.pool.Exec(ctx, insert, ids, arns, steps, tokens, messages, approvers, times)
	if errors.Is(interpret(err), ErrConflict) {
		_, err = s.pool.Exec(ctx, insert+` ON CONFLICT DO NOTHING`, ids, arns, steps, tokens, messages, approvers, times)
	}
	if err != nil {
		return fmt.Errorf("recording approvals %s to %s: %w", as[0].ID, as[len(as)-1].ID, interpret(err))
	}
	return nil
}

// appendTextArray appends the text form of a PostgreSQL text[] holding
// items to b: each item quoted, its quotes and backslashes escaped, so
// that any text (commas, braces, spaces, the word NULL) is read back as
// it was.
func appendTextArray(b []byte, items []string) []byte {
	b = append(b, '{')
	for i, item := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for j := 0; j < len(item); j++ {
			if c := item[j]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, item[j])
		}
		b = append(b, '"')
	}
	return append(b, '}')
}
