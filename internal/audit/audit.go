// Package audit owns aiflow's audit log: an append-only, hash-chained
// record of every mutating API request and every denial, kept in
// PostgreSQL (api.audit_log, migration 00004).
//
// Each record stores the hash of the record before it and its own hash,
// SHA-256 over a canonical encoding of its sequence number, that previous
// hash and its fields. Appends are serialized by the chain's head row:
// each moves it on from the record it follows, either under its lock or
// only if it has not moved since this process last moved it, so the
// chain never forks. Verify walks the chain and names the
// first record that was changed, removed or moved. Denials keeps the
// records of refused requests bounded: one per source as it happens, and
// one count of the rest per interval.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/batchcall"
	"github.com/aiflow/aiflow/internal/jsoncanon"
	"github.com/aiflow/aiflow/internal/outage"
	"github.com/aiflow/aiflow/internal/pgbinary"
)

// Outcome is what came of an audited request.
type Outcome string

// The outcomes a record may have.
const (
	// OutcomeAllowed is a request let through, whose result is not yet known.
	OutcomeAllowed Outcome = "allowed"
	// OutcomeDenied is a request refused for want of credentials or
	// permission.
	OutcomeDenied Outcome = "denied"
	// OutcomeFailed is a request that was allowed and then failed.
	OutcomeFailed Outcome = "failed"
	// OutcomeSucceeded is a request that was allowed and did what it asked.
	OutcomeSucceeded Outcome = "succeeded"
)

func (o Outcome) valid() bool {
	switch o {
	case OutcomeAllowed, OutcomeDenied, OutcomeFailed, OutcomeSucceeded:
		return true
	}
	return false
}

// Field limits. Longer values are cut (at a character boundary), so a
// caller's long path or user agent never costs the record.
const (
	maxActor     = 256
	maxAction    = 128
	maxResource  = 1024
	maxRequestID = 128
	maxSourceIP  = 64
	maxUserAgent = 512
	// MaxDetails is the largest details object accepted, in bytes.
	MaxDetails = 64 << 10
)

// Record is one audited event, as a caller appends it.
type Record struct {
	// Time is when it happened; zero means the log's clock at append.
	// It is kept to the microsecond, in UTC.
	Time time.Time
	// Actor is who acted: a principal's subject, or "anonymous"; required.
	Actor string
	// Action is what was attempted, such as "executions:start"; required.
	Action string
	// Resource is what it was attempted on, such as
	// "POST /v1/workflows/summarize/executions".
	Resource string
	// Outcome is what came of it; required.
	Outcome Outcome
	// RequestID, SourceIP and UserAgent describe the request.
	RequestID string
	SourceIP  string
	UserAgent string
	// Details is a JSON object with anything else worth keeping; nil means
	// {}. It is stored in a canonical form (keys sorted, no spaces).
	Details json.RawMessage
}

// Hash is a SHA-256 digest of a record.
type Hash [sha256.Size]byte

// String returns the hash in hexadecimal.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Entry is a record as stored: with its place in the chain.
type Entry struct {
	// Seq numbers records from 1, without gaps.
	Seq int64
	Record
	// PrevHash is the hash of record Seq-1 (all zeros for record 1).
	PrevHash Hash
	// Hash is this record's hash.
	Hash Hash
}

// Options configure New.
type Options struct {
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
}

// Log is the audit log in one database. It is safe for concurrent use, by
// any number of processes.
type Log struct {
	db  *pgxpool.Pool
	now func() time.Time

	// batches makes the appends in groups (see Append).
	batches batchcall.Group[Record, appendResult]

	mu   sync.Mutex
	head *knownHead // known.go
}

// New returns the log kept in db, which must have migration 00004 applied.
func New(db *pgxpool.Pool, opts Options) *Log {
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	l := &Log{db: db, now: opts.NowFunc}
	l.batches = batchcall.Group[Record, appendResult]{Run: l.appendRecords, Max: maxBatch, Timeout: batchTimeout}
	return l
}

// ErrNotMigrated is wrapped by the errors of a database without the audit
// log's tables: migration 00004 has not been applied.
var ErrNotMigrated = errors.New("the audit log's tables do not exist (has `aiflow migrate up` run?)")

// interpret translates PostgreSQL's errors into the package's, once.
func interpret(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return ErrNotMigrated
	}
	return outage.Classify(err)
}

// ErrInvalidRecord is wrapped by Append's errors for a record that cannot
// be stored: no actor or action, an unknown outcome, or details that are
// not a JSON object of at most MaxDetails bytes.
var ErrInvalidRecord = errors.New("invalid audit record")

// maxBatch bounds how many records one transaction appends.
const maxBatch = 500

// batchTimeout bounds one batch's transaction, which no caller's context
// governs alone.
const batchTimeout = 30 * time.Second

// appendResult is a record's entry as stored, or the error.
type appendResult struct {
	entry Entry
	err   error
}

// Append adds rec at the end of the chain and returns it as stored. It
// returns an error wrapping ErrInvalidRecord when rec cannot be stored,
// and ErrNotMigrated when the database lacks the log's tables.
//
// Appends in one process are committed in groups: while one batch is
// being written, the records that arrive queue up, and the next batch
// appends them all, so the log takes many more records per second than
// there are round trips to the database. A batch is one statement when
// the head is where this log last left it (known.go), and a transaction
// that locks the head otherwise. Append returns once
// its record is committed. When ctx ends first, Append returns its error,
// and the record may still be committed.
func (l *Log) Append(ctx context.Context, rec Record) (Entry, error) {
	rec, err := normalize(rec)
	if err != nil {
		return Entry{}, err
	}
	r, err := l.batches.Do(ctx, rec)
	if err != nil {
		return Entry{}, fmt.Errorf("appending to the audit log: %w", err)
	}
	return r.entry, r.err
}

// appendRecords appends a batch: in one statement after the head this
// log knows, else in a transaction that locks the head.
func (l *Log) appendRecords(ctx context.Context, batch []Record) []appendResult {
	entries, ok, err := l.appendAfterKnownHead(ctx, batch)
	if err == nil && !ok {
		entries, err = l.appendBatch(ctx, batch)
	}
	l.setHead(entries)
	results := make([]appendResult, len(batch))
	for i := range results {
		if err != nil {
			results[i] = appendResult{err: err}
		} else {
			results[i] = appendResult{entry: entries[i]}
		}
	}
	return results
}

// appendBatch appends the records in one transaction that holds the
// chain's head.
func (l *Log) appendBatch(ctx context.Context, batch []Record) ([]Entry, error) {
	tx, err := l.db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("appending to the audit log: beginning: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	var head int64
	var prev []byte
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM api.audit_head WHERE id FOR UPDATE`).Scan(&head, &prev); err != nil {
		return nil, fmt.Errorf("appending to the audit log: locking its head: %w", interpret(err))
	}
	// The times are read under the lock, so they never run backwards
	// along the chain.
	entries := l.chain(batch, head, prev)
	p := recordParams(entries)
	defer p.Release()
	if _, err := insertRecordsStatement.Exec(ctx, tx.Conn(), p); err != nil {
		return nil, fmt.Errorf("appending to the audit log: inserting records %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
	}
	last := entries[len(entries)-1]
	if _, err := tx.Exec(ctx, `UPDATE api.audit_head SET seq = $1, hash = $2 WHERE id`, last.Seq, last.Hash[:]); err != nil {
		return nil, fmt.Errorf("appending to the audit log: moving its head: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("appending to the audit log: committing records %d to %d: %w", entries[0].Seq, last.Seq, err)
	}
	return entries, nil
}

// insertRecords inserts a batch's records, given as columns.
const insertRecords = `INSERT INTO api.audit_log
		(seq, recorded_at, actor, action, resource, outcome, request_id, source_ip, user_agent, details, prev_hash, hash)
		SELECT seq, recorded_at, actor, action, resource, outcome, request_id, source_ip, user_agent, details::json, prev_hash, hash
		FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::bytea[], $12::bytea[])
			AS r(seq, recorded_at, actor, action, resource, outcome, request_id, source_ip, user_agent, details, prev_hash, hash)`

// chain places the batch's records after the record head whose hash is
// prev, giving those without a time the clock's.
func (l *Log) chain(batch []Record, head int64, prev []byte) []Entry {
	entries := make([]Entry, len(batch))
	for i, rec := range batch {
		e := &entries[i]
		e.Seq, e.Record = head+int64(i)+1, rec
		if e.Time.IsZero() {
			e.Time = l.now().UTC().Truncate(time.Microsecond)
		}
		if i == 0 {
			copy(e.PrevHash[:], prev)
		} else {
			e.PrevHash = entries[i-1].Hash
		}
		e.Hash = e.computeHash()
	}
	return entries
}

// recordParamOIDs are the types of insertRecords' parameters.
var recordParamOIDs = []uint32{pgtype.Int8ArrayOID, pgtype.TimestamptzArrayOID,
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID,
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID,
	pgtype.ByteaArrayOID, pgtype.ByteaArrayOID}

// insertRecordsStatement is insertRecords, its parameters encoded by
// recordParams.
var insertRecordsStatement = pgbinary.Statement{Name: "audit_insert_records", SQL: insertRecords, ParamOIDs: recordParamOIDs}

// recordParams are insertRecords' parameters for entries, one array per
// column. The caller releases them.
func recordParams(entries []Entry) *pgbinary.Params {
	p := pgbinary.Get()
	n := len(entries)
	p.Int8Array(n, func(i int) int64 { return entries[i].Seq })
	p.TimestamptzArray(n, func(i int) time.Time { return entries[i].Time })
	p.TextArray(n, func(i int) string { return entries[i].Actor })
	p.TextArray(n, func(i int) string { return entries[i].Action })
	p.TextArray(n, func(i int) string { return entries[i].Resource })
	p.TextArray(n, func(i int) string { return string(entries[i].Outcome) })
	p.TextArray(n, func(i int) string { return entries[i].RequestID })
	p.TextArray(n, func(i int) string { return entries[i].SourceIP })
	p.TextArray(n, func(i int) string { return entries[i].UserAgent })
	p.TextArrayOfBytes(n, func(i int) []byte { return entries[i].Details })
	p.ByteaArray(n, func(i int) []byte { return entries[i].PrevHash[:] })
	p.ByteaArray(n, func(i int) []byte { return entries[i].Hash[:] })
	return p
}

// normalize checks rec and puts it in the form that is hashed and stored.
func normalize(rec Record) (Record, error) {
	rec.Actor = clean(rec.Actor, maxActor)
	rec.Action = clean(rec.Action, maxAction)
	rec.Resource = clean(rec.Resource, maxResource)
	rec.RequestID = clean(rec.RequestID, maxRequestID)
	rec.SourceIP = clean(rec.SourceIP, maxSourceIP)
	rec.UserAgent = clean(rec.UserAgent, maxUserAgent)
	switch {
	case rec.Actor == "":
		return Record{}, fmt.Errorf("%w: the actor is empty", ErrInvalidRecord)
	case rec.Action == "":
		return Record{}, fmt.Errorf("%w: the action is empty", ErrInvalidRecord)
	case !rec.Outcome.valid():
		return Record{}, fmt.Errorf("%w: outcome %q is not one of allowed, denied, failed, succeeded", ErrInvalidRecord, rec.Outcome)
	}
	if !rec.Time.IsZero() {
		rec.Time = rec.Time.UTC().Truncate(time.Microsecond)
	}
	details, err := canonicalDetails(rec.Details)
	if err != nil {
		return Record{}, err
	}
	rec.Details = details
	return rec, nil
}

// clean makes s storable as PostgreSQL text (valid UTF-8, no NUL) and cuts
// it to max bytes at a character boundary.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// canonicalDetails re-encodes a JSON object with sorted keys, no
// insignificant space, and numbers as written.
func canonicalDetails(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if len(raw) > MaxDetails {
		return nil, fmt.Errorf("%w: the details are %d bytes; at most %d are allowed", ErrInvalidRecord, len(raw), MaxDetails)
	}
	if detailsForm.IsObject(raw) {
		return raw, nil // what reencodeDetails would return
	}
	return reencodeDetails(raw)
}

// detailsForm is json.Marshal's canonical form, which reencodeDetails
// writes: details marshalled from a Go map (every request's audit record)
// are in it already.
var detailsForm = jsoncanon.Form{EscapeHTML: true}

// reencodeDetails decodes a JSON object and encodes it again with
// json.Marshal.
func reencodeDetails(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: the details are not a JSON object", ErrInvalidRecord)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: the details have data after the object", ErrInvalidRecord)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding the details: %v", ErrInvalidRecord, err)
	}
	return out, nil
}

// hashDomain starts every hashed encoding, so a record's hash cannot be
// mistaken for a hash of anything else, and names the encoding's version.
const hashDomain = "aiflow audit record v1\n"

// timeLayout is how a record's time is hashed: UTC, to the microsecond,
// as PostgreSQL keeps it.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// computeHash is SHA-256 over the domain, seq (8 bytes, big-endian), the
// previous hash (32 bytes) and each field as a 4-byte big-endian length
// followed by its bytes: time, actor, action, resource, outcome, request
// id, source ip, user agent, details. The lengths keep field boundaries
// unambiguous.
func (e *Entry) computeHash() Hash {
	// The encoding is built in one buffer, on the stack when it fits, and
	// hashed at once: writing each field to the hash apart cost a copy of
	// each to the heap.
	var stack [512]byte
	b := append(stack[:0], hashDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = append(b, e.PrevHash[:]...)
	var t [len(timeLayout)]byte
	b = appendHashField(b, e.Time.UTC().AppendFormat(t[:0], timeLayout))
	for _, f := range [...]string{
		e.Actor, e.Action, e.Resource, string(e.Outcome), e.RequestID, e.SourceIP, e.UserAgent,
	} {
		b = appendHashField(b, f)
	}
	b = appendHashField(b, e.Details)
	return sha256.Sum256(b)
}

// appendHashField appends a field of computeHash's encoding: its length
// (4 bytes, big-endian), then its bytes.
func appendHashField[T ~string | ~[]byte](b []byte, f T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}
