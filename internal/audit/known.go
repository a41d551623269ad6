package audit

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// knownHead is the head of the chain as this log last moved it: the
// sequence number and hash of the last record it appended.
type knownHead struct {
	seq  int64
	hash Hash
}

// appendAfterKnownHead appends a batch in one statement, committed on its
// own, when the chain's head is still the one this log last moved: it
// moves the head on only from there, and inserts the records only if it
// did. That is one round trip to the database where appendBatch makes
// five, and what makes most batches of a busy API one commit each. When
// another process has appended since (or this log knows no head yet), it
// writes nothing and returns ok false, and the batch is appended as
// appendBatch does, under the head's lock.
func (l *Log) appendAfterKnownHead(ctx context.Context, batch []Record) (entries []Entry, ok bool, err error) {
	l.mu.Lock()
	head := l.head
	l.mu.Unlock()
	if head == nil {
		return nil, false, nil
	}
	entries = l.chain(batch, head.seq, head.hash[:])
	last := entries[len(entries)-1]
	p := recordParams(entries)
	defer p.Release()
	p.Int8(head.seq)
	p.Bytea(head.hash[:])
	p.Int8(last.Seq)
	p.Bytea(last.Hash[:])
	tag, err := l.exec(ctx, &insertAfterHeadStatement, p)
	if err != nil {
		return nil, false, fmt.Errorf("appending to the audit log: inserting records %d to %d after the head it knew: %w",
			entries[0].Seq, last.Seq, interpret(err))
	}
	switch n := tag.RowsAffected(); {
	case n == 0:
		return nil, false, nil
	case n != int64(len(entries)):
		return nil, false, fmt.Errorf("appending to the audit log: inserting records %d to %d after the head it knew inserted %d", entries[0].Seq, last.Seq, n)
	}
	return entries, true, nil
}

// setHead notes the head after a batch (nil after a failure: the head is
// then unknown until the next batch appended under the lock).
func (l *Log) setHead(entries []Entry) {
	var h *knownHead
	if len(entries) > 0 {
		last := entries[len(entries)-1]
		h = &knownHead{seq: last.Seq, hash: last.Hash}
	}
	l.mu.Lock()
	l.head = h
	l.mu.Unlock()
}

// insertAfterHeadStatement moves the head on from the one this log knows
// ($13, $14) to the batch's last record ($15, $16), and inserts the
// records ($1 to $12, insertRecords') only if it did.
var insertAfterHeadStatement = pgbinary.Statement{
	Name: "audit_insert_after_head",
	SQL: `WITH moved AS (
			UPDATE api.audit_head SET seq = $15, hash = $16 WHERE id AND seq = $13 AND hash = $14 RETURNING seq)
		` + insertRecords + `
		WHERE EXISTS (SELECT FROM moved)`,
	ParamOIDs: append(slices.Clip(recordParamOIDs), pgtype.Int8OID, pgtype.ByteaOID, pgtype.Int8OID, pgtype.ByteaOID),
}

// exec runs st with p's parameters on a connection of the log's pool.
func (l *Log) exec(ctx context.Context, st *pgbinary.Statement, p *pgbinary.Params) (pgconn.CommandTag, error) {
	c, err := l.db.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return st.Exec(ctx, c.Conn(), p)
}
