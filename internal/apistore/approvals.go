package apistore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ApprovalID is the id of the approval of a task token: "apr_" and the
// first 12 bytes of the token's SHA-256 in hex. The store refuses an
// approval with any other id (checkApprovalIDs), so its primary key makes
// a task token one approval: the same message delivered twice is stored
// once. A unique index on task_token held that too, with a key of some 150
// bytes a row; migration 00021 dropped it. Two tokens whose hashes share
// their first 96 bits would be taken for one; with the engine's random
// tokens that needs some 2^48 approvals.
func ApprovalID(taskToken string) string {
	sum := sha256.Sum256([]byte(taskToken))
	var id [len("apr_") + 24]byte // one allocation, the string's
	copy(id[:], "apr_")
	hex.Encode(id[len("apr_"):], sum[:12])
	return string(id[:])
}

// checkApprovalIDs refuses approvals whose id is not their task token's
// (ApprovalID): stored, such an approval would make its token a second
// approval.
func checkApprovalIDs(as []Approval) error {
	for _, a := range as {
		if want := ApprovalID(a.TaskToken); a.ID != want {
			return fmt.Errorf("recording approval %s of %s: its id must be its task token's, %s (apistore.ApprovalID)", a.ID, a.ExecutionARN, want)
		}
	}
	return nil
}

// AddApprovals records pending approvals, as AddApproval does each, in
// one statement and one commit: the approvals of one batch of task
// messages. Each approval's id must be ApprovalID of its task token; one
// stored already changes nothing.
//
// The batch is first inserted as it is: ON CONFLICT DO NOTHING inserts
// each row speculatively, probing both unique indexes before and writing
// a confirmation after, which made it the costliest statement of a start
// on the server. Only a batch that meets a stored id (a message delivered
// again) is inserted again with it.
func (s *Store) AddApprovals(ctx context.Context, as []Approval) error {
	if len(as) == 0 {
		return nil
	}
	if err := checkApprovalIDs(as); err != nil {
		return err
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
