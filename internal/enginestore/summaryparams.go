package enginestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The summaries' upsert with its parameters encoded by the store.
//
// Given to pgx as Go slices, the upsert's sixteen arrays went through its
// generic array encoder, which boxes every element in an interface: about
// twenty allocations an execution, for a statement of sixty rows. Where the
// pool's connections cache prepared statements, the store prepares the
// upsert once a connection and sends its parameters encoded in
// PostgreSQL's binary format into a buffer it keeps in a pool; the bytes are
// those pgx sends for the same values (summaryparams_test.go holds them to
// pgx's), so the database writes the same rows.

// upsertStatementName names the prepared upsert on a connection.
const upsertStatementName = "enginestore_upsert_summaries"

// upsertParamCount is how many parameters upsertStatement takes.
const upsertParamCount = 16

// upsertParamOIDs are the types of upsertStatement's parameters, in order.
var upsertParamOIDs = [upsertParamCount]uint32{
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, // arn, machine, name, status
	pgtype.TimestamptzArrayOID, pgtype.TimestamptzArrayOID, // start, stop
	pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, // input, output, error, cause, trace
	pgtype.Int8ArrayOID, pgtype.Int4ArrayOID, pgtype.TimestamptzArrayOID, // seq, redrive count, redrive date
	pgtype.TextArrayOID, pgtype.TextArrayOID, // version, alias
}

// upsertFormats are the format codes of the parameters: all binary.
var upsertFormats = [upsertParamCount]int16{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// upsertParams is one upsert's parameters: values[i] is $(i+1), a slice of
// buf.
type upsertParams struct {
	buf    []byte
	values [upsertParamCount][]byte
}

// maxPooledUpsertBytes bounds the buffer a pooled upsertParams keeps.
const maxPooledUpsertBytes = 4 << 20

var upsertParamsPool = sync.Pool{New: func() any { return new(upsertParams) }}

// encode sets p to the parameters of upsertStatement for s.
func (p *upsertParams) encode(s *summaries) {
	b := p.buf[:0]
	var ends [upsertParamCount]int
	for i, texts := range [...][]string{s.arns, s.machines, s.names, s.statuses} {
		b = appendTextArray(b, texts)
		ends[i] = len(b)
	}
	b = appendTimeArray(b, s.starts)
	ends[4] = len(b)
	b = appendTimePtrArray(b, s.stops)
	ends[5] = len(b)
	for i, texts := range [...][]string{s.inputs, s.outputs, s.errs, s.causes, s.trace} {
		b = appendTextArray(b, texts)
		ends[6+i] = len(b)
	}
	b = appendArrayHeader(b, pgtype.Int8OID, len(s.seqs), false)
	for _, v := range s.seqs {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	ends[11] = len(b)
	b = appendArrayHeader(b, pgtype.Int4OID, len(s.redriveCounts), false)
	for _, v := range s.redriveCounts {
		b = binary.BigEndian.AppendUint32(b, 4)
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	ends[12] = len(b)
	b = appendTimePtrArray(b, s.redriveDates)
	ends[13] = len(b)
	for i, texts := range [...][]string{s.versions, s.aliases} {
		b = appendTextArray(b, texts)
		ends[14+i] = len(b)
	}
	p.buf = b
	start := 0
	for i, end := range ends {
		p.values[i] = b[start:end:end]
		start = end
	}
}

// release gives p back to the pool. Nothing may read p's values after.
func (p *upsertParams) release() {
	p.values = [upsertParamCount][]byte{}
	if cap(p.buf) > maxPooledUpsertBytes {
		p.buf = nil
	}
	p.buf = p.buf[:0]
	upsertParamsPool.Put(p)
}

// appendArrayHeader appends the header of a one-dimensional array of n
// elements of type elemOID, counted from 1.
func appendArrayHeader(b []byte, elemOID uint32, n int, hasNull bool) []byte {
	b = binary.BigEndian.AppendUint32(b, 1)
	null := uint32(0)
	if hasNull {
		null = 1
	}
	b = binary.BigEndian.AppendUint32(b, null)
	b = binary.BigEndian.AppendUint32(b, elemOID)
	b = binary.BigEndian.AppendUint32(b, uint32(int32(n)))
	return binary.BigEndian.AppendUint32(b, 1)
}

// appendTextArray appends a text[] of texts: text's binary form is its
// bytes.
func appendTextArray(b []byte, texts []string) []byte {
	size := 20
	for _, t := range texts {
		size += 4 + len(t)
	}
	b = slices.Grow(b, size)
	b = appendArrayHeader(b, pgtype.TextOID, len(texts), false)
	for _, t := range texts {
		b = binary.BigEndian.AppendUint32(b, uint32(int32(len(t))))
		b = append(b, t...)
	}
	return b
}

// microsecondsFromUnixEpochToY2K is where timestamptz's binary form counts
// from: microseconds since 2000-01-01 00:00 UTC.
const microsecondsFromUnixEpochToY2K = 946_684_800 * 1_000_000

// appendTimestamptz appends t as a binary timestamptz element, with pgx's
// arithmetic (microseconds, the nanoseconds below them dropped).
func appendTimestamptz(b []byte, t time.Time) []byte {
	us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(us-microsecondsFromUnixEpochToY2K))
}

// appendTimeArray appends a timestamptz[] of times.
func appendTimeArray(b []byte, times []time.Time) []byte {
	b = appendArrayHeader(b, pgtype.TimestamptzOID, len(times), false)
	for _, t := range times {
		b = appendTimestamptz(b, t)
	}
	return b
}

// appendTimePtrArray appends a timestamptz[] of times, a nil one NULL.
func appendTimePtrArray(b []byte, times []*time.Time) []byte {
	b = appendArrayHeader(b, pgtype.TimestamptzOID, len(times), slices.Contains(times, nil))
	for _, t := range times {
		if t == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff) // -1: NULL
			continue
		}
		b = appendTimestamptz(b, *t)
	}
	return b
}

// upsertEncoded runs upsertStatement prepared on tx's connection, with its
// parameters encoded by the store.
func (s *summaries) upsertEncoded(ctx context.Context, tx pgx.Tx) error {
	conn := tx.Conn()
	sd, err := conn.Prepare(ctx, upsertStatementName, upsertStatement)
	if err != nil {
		return fmt.Errorf("preparing %s: %w", upsertStatementName, err)
	}
	if !slices.Equal(sd.ParamOIDs, upsertParamOIDs[:]) {
		return fmt.Errorf("preparing %s: its parameters are of the types %v, where the store encodes %v", upsertStatementName, sd.ParamOIDs, upsertParamOIDs)
	}
	p := upsertParamsPool.Get().(*upsertParams)
	defer p.release()
	p.encode(s)
	_, err = conn.PgConn().ExecPrepared(ctx, sd.Name, p.values[:], upsertFormats[:], nil).Close()
	return err
}
