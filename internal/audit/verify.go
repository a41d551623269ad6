package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Report is the result of a verification.
type Report struct {
	// Records is how many records were found intact, from record 1 on.
	Records int64
	// Head is the hash of the last intact record; zero for an empty log.
	Head Hash
}

// BrokenError is the first broken link Verify found.
type BrokenError struct {
	// Seq is the record at which the chain breaks.
	Seq int64
	// Problem says what is wrong with it.
	Problem string
}

// Error returns "audit log broken at record N: problem".
func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit log broken at record %d: %s", e.Seq, e.Problem)
}

// Verify walks the chain from record 1, in one consistent snapshot, and
// checks that the records are numbered without gaps, that each one names
// the hash of the one before it, that each hash matches its record's
// fields, and that the head names the last record. It returns the intact
// part of the chain and, at the first broken link, a *BrokenError; other
// errors are failures to read.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	tx, err := l.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Report{}, fmt.Errorf("verifying the audit log: beginning: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only

	var headSeq int64
	var headHash []byte
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM api.audit_head WHERE id`).Scan(&headSeq, &headHash); err != nil {
		return Report{}, fmt.Errorf("verifying the audit log: reading its head: %w", interpret(err))
	}
	rows, err := tx.Query(ctx, selectEntries+` ORDER BY seq`)
	if err != nil {
		return Report{}, fmt.Errorf("verifying the audit log: reading records: %w", err)
	}
	defer rows.Close()

	var rep Report
	var atHead Hash // the hash of record headSeq, once walked past
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return rep, fmt.Errorf("verifying the audit log: reading record %d: %w", rep.Records+1, err)
		}
		if broken := check(&e, rep); broken != nil {
			return rep, broken
		}
		rep.Records, rep.Head = e.Seq, e.Hash
		if e.Seq == headSeq {
			atHead = e.Hash
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("verifying the audit log: reading records: %w", err)
	}
	switch {
	case headSeq > rep.Records:
		what := fmt.Sprintf("record %d is", headSeq)
		if headSeq > rep.Records+1 {
			what = fmt.Sprintf("records %d to %d are", rep.Records+1, headSeq)
		}
		return rep, &BrokenError{Seq: rep.Records + 1, Problem: fmt.Sprintf(
			"%s missing from the end of the log: its head names record %d, the last record is %d", what, headSeq, rep.Records)}
	case headSeq < rep.Records:
		// The records past the head chain on, but no append made them.
		return Report{Records: headSeq, Head: atHead}, &BrokenError{Seq: headSeq + 1, Problem: fmt.Sprintf(
			"record %d is past the log's head (record %d): it was not added by an append", headSeq+1, headSeq)}
	case headHashOf(headHash) != rep.Head:
		return rep, &BrokenError{Seq: rep.Records, Problem: fmt.Sprintf(
			"the log's head does not hold record %d's hash: the record or the head was replaced", rep.Records)}
	}
	return rep, nil
}

func headHashOf(b []byte) Hash {
	var h Hash
	copy(h[:], b)
	return h
}

// check compares e with the intact chain before it.
func check(e *Entry, before Report) *BrokenError {
	want := before.Records + 1
	switch {
	case e.Seq != want:
		what := fmt.Sprintf("record %d is", want)
		if e.Seq > want+1 {
			what = fmt.Sprintf("records %d to %d are", want, e.Seq-1)
		}
		return &BrokenError{Seq: want, Problem: fmt.Sprintf("%s missing: the record after %d is %d", what, before.Records, e.Seq)}
	case e.PrevHash != before.Head && want == 1:
		return &BrokenError{Seq: 1, Problem: "record 1 does not start the chain: its prev_hash is not zero (records before it were removed, or it was replaced)"}
	case e.PrevHash != before.Head:
		return &BrokenError{Seq: e.Seq, Problem: fmt.Sprintf(
			"record %d does not follow record %d: its prev_hash is not record %d's hash (a record was replaced, inserted or moved)",
			e.Seq, before.Records, before.Records)}
	case e.computeHash() != e.Hash:
		return &BrokenError{Seq: e.Seq, Problem: fmt.Sprintf("record %d was changed: its fields do not match its hash", e.Seq)}
	}
	return nil
}

// ListOptions select records for List.
type ListOptions struct {
	// Limit is the most records returned; zero means 100, and at most
	// 10000 are returned.
	Limit int
	// Before, if positive, returns only records numbered below it, for
	// paging back from the newest.
	Before int64
}

// List returns records newest first.
func (l *Log) List(ctx context.Context, opts ListOptions) ([]Entry, error) {
	if opts.Limit <= 0 {
		opts.Limit = 100
	}
	opts.Limit = min(opts.Limit, 10000)
	before := opts.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	tx, err := l.db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("listing the audit log: beginning: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only
	rows, err := tx.Query(ctx, selectEntries+` WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, opts.Limit)
	if err != nil {
		return nil, fmt.Errorf("listing the audit log: %w", interpret(err))
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("listing the audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the audit log: %w", interpret(err))
	}
	return out, nil
}

const selectEntries = `SELECT seq, recorded_at, actor, action, resource, outcome, request_id, source_ip, user_agent,
	details::text, prev_hash, hash FROM api.audit_log`

func scanEntry(rows pgx.Rows) (Entry, error) {
	var e Entry
	var outcome, details string
	var prev, hash []byte
	var at time.Time
	if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Resource, &outcome, &e.RequestID, &e.SourceIP,
		&e.UserAgent, &details, &prev, &hash); err != nil {
		return Entry{}, err
	}
	e.Time = at.UTC()
	e.Outcome = Outcome(outcome)
	e.Details = []byte(details)
	copy(e.PrevHash[:], prev)
	copy(e.Hash[:], hash)
	return e, nil
}
