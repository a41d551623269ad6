package audit

import (
	"context"
	"fmt"
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
	entries, cols := l.chain(batch, head.seq, head.hash[:])
	last := entries[len(entries)-1]
	args := append(cols.args(), head.seq, head.hash[:], last.Seq, last.Hash[:])
	tag, err := l.db.Exec(ctx, `WITH moved AS (
			UPDATE api.audit_head SET seq = $15, hash = $16 WHERE id AND seq = $13 AND hash = $14 RETURNING seq)
		`+insertRecords+`
		WHERE EXISTS (SELECT FROM moved)`, args...)
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
