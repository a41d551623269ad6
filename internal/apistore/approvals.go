package apistore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// ApprovalID is the id of the approval of a task token: "apr_" and the
// first 12 bytes of the token's SHA-256 in hex. The store refuses an
// approval with any other id (checkApprovalIDs), so its primary key makes
// a task token one approval: the same message delivered twice is stored
// once. A unique index on task_token held that too, with a key of some 150
// bytes a row; migration 00019 dropped it. Two tokens whose hashes share
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
// The calls made at once go in one statement (batchcall): while one is
// under way, the calls that arrive queue up, and the next statement
// inserts all of their approvals, which halved the statements, and so the
// commits, of the approvals worker's concurrent invocations. When that
// statement fails, each call's approvals are inserted again alone, so
// that each call has the answer it would have had alone.
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
	err, callErr := s.approvals.Do(ctx, as)
	if callErr != nil {
		return approvalsError(as, callErr)
	}
	return err
}

// Bounds of a statement of approvals.
const (
	// maxApprovalCalls bounds the calls of AddApprovals one statement
	// makes.
	maxApprovalCalls = 100
	// approvalBatchTimeout bounds a statement, which no one caller's
	// context governs alone.
	approvalBatchTimeout = 30 * time.Second
)

// addApprovalCalls makes calls of AddApprovals, whose approvals have
// their ids checked, in one statement, and each alone again if that one
// fails.
func (s *Store) addApprovalCalls(ctx context.Context, calls [][]Approval) []error {
	errs := make([]error, len(calls))
	if len(calls) == 1 {
		errs[0] = s.insertApprovals(ctx, calls[0])
		return errs
	}
	n := 0
	for _, as := range calls {
		n += len(as)
	}
	all := make([]Approval, 0, n)
	for _, as := range calls {
		all = append(all, as...)
	}
	if s.insertApprovals(ctx, all) == nil {
		return errs
	}
	for i, as := range calls {
		errs[i] = s.insertApprovals(ctx, as)
	}
	return errs
}

// insertApprovals inserts approvals whose ids are checked in one
// statement, again without those stored already if it meets one.
func (s *Store) insertApprovals(ctx context.Context, as []Approval) error {
	// A text[][] cannot hold rows of unequal lengths, so each row's
	// approvers travel as the text of an array.
	approvers := make([]string, len(as))
	var list []byte
	for i, a := range as {
		list = appendTextArray(list[:0], a.Approvers)
		approvers[i] = string(list)
	}
	p := pgbinary.Get()
	defer p.Release()
	n := len(as)
	p.TextArray(n, func(i int) string { return as[i].ID })
	p.TextArray(n, func(i int) string { return as[i].ExecutionARN })
	p.TextArray(n, func(i int) string { return as[i].StepID })
	p.TextArray(n, func(i int) string { return as[i].TaskToken })
	p.TextArray(n, func(i int) string { return as[i].Message })
	p.TextArray(n, func(i int) string { return approvers[i] })
	p.TimestamptzArray(n, func(i int) time.Time { return as[i].CreatedAt })
	err := s.exec(ctx, &insertApprovals, p)
	if errors.Is(interpret(err), ErrConflict) {
		err = s.exec(ctx, &insertApprovalsAgain, p)
	}
	if err != nil {
		return approvalsError(as, interpret(err))
	}
	return nil
}

// approvalsError is err, naming the approvals it kept from being
// recorded.
func approvalsError(as []Approval, err error) error {
	return fmt.Errorf("recording approvals %s to %s: %w", as[0].ID, as[len(as)-1].ID, err)
}

// insertApprovalsSQL inserts a batch of approvals, given as columns.
const insertApprovalsSQL = `INSERT INTO api.approvals (id, execution_arn, step_id, task_token, message, approvers, status, created_at)
	SELECT id, execution_arn, step_id, task_token, message, approvers::text[], 'pending', created_at
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
		AS r(id, execution_arn, step_id, task_token, message, approvers, created_at)`

// The batch insert of approvals, and the same again for a batch that met
// a stored id; their parameters encoded by pgbinary.
var (
	approvalParamOIDs = []uint32{pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID,
		pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TimestamptzArrayOID}
	insertApprovals      = pgbinary.Statement{Name: "apistore_insert_approvals", SQL: insertApprovalsSQL, ParamOIDs: approvalParamOIDs}
	insertApprovalsAgain = pgbinary.Statement{Name: "apistore_insert_approvals_again", SQL: insertApprovalsSQL + ` ON CONFLICT DO NOTHING`, ParamOIDs: approvalParamOIDs}
)

// exec runs st with p's parameters on a connection of the pool.
func (s *Store) exec(ctx context.Context, st *pgbinary.Statement, p *pgbinary.Params) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	_, err = st.Exec(ctx, c.Conn(), p)
	return err
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
