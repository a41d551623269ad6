// Package pgbinary runs a statement with parameters the caller encodes in
// PostgreSQL's binary format into a buffer kept from one statement to the
// next.
//
// pgx encodes a statement's arguments into a buffer that starts at 128
// bytes, grows by doubling and is dropped after each statement; pgconn then
// copies them into the connection's write buffer, grown the same way from
// 1 KiB and dropped after each flush of more. For the batch inserts of a
// start (the audit log's records, the approvals), a few kilobytes of
// arrays, that was a tenth of what a start allocated (docs/performance.md).
// Params keeps its buffer in a pool, and Exec grows the write buffer once,
// to the size of what it sends. The bytes are those pgx sends for the same
// values (pgbinary_test.go holds them to pgx's), so the database sees the
// same statement. The event store's append encodes its parameters the
// same way (internal/eventstore/params.go).
package pgbinary

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// Params are one statement's parameters, each appended in turn.
type Params struct {
	buf    []byte
	ends   []int // where each parameter ends in buf
	values [][]byte
	err    error
}

// maxPooledBytes bounds the buffer pooled Params keep; a larger one is left
// to the garbage collector.
const maxPooledBytes = 1 << 20

var paramsPool = sync.Pool{New: func() any { return new(Params) }}

// Get returns empty Params from the pool. Release gives them back.
func Get() *Params { return paramsPool.Get().(*Params) }

// Release gives p back to the pool. Nothing may read p's values after.
func (p *Params) Release() {
	if cap(p.buf) > maxPooledBytes {
		p.buf = nil
	}
	p.buf, p.ends, p.err = p.buf[:0], p.ends[:0], nil
	clear(p.values)
	p.values = p.values[:0]
	paramsPool.Put(p)
}

// end marks the end of a parameter, and the first error: a parameter of
// more bytes than PostgreSQL's protocol can say.
func (p *Params) end() {
	from := 0
	if len(p.ends) > 0 {
		from = p.ends[len(p.ends)-1]
	}
	if len(p.buf)-from > math.MaxInt32 && p.err == nil {
		p.err = fmt.Errorf("encoding parameter $%d: %d bytes, more than a parameter may have", len(p.ends)+1, len(p.buf)-from)
	}
	p.ends = append(p.ends, len(p.buf))
}

// arrayHeader appends the header of a one-dimensional array of n elements
// of type elemOID without NULLs, as PostgreSQL's array_send writes it: the
// number of dimensions, a has-NULLs flag, the element type, then the
// dimension's length and lower bound, 1. An empty array keeps its one
// dimension, of length 0, as pgx sends it.
func (p *Params) arrayHeader(elemOID uint32, n int) {
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1)
	p.buf = binary.BigEndian.AppendUint32(p.buf, 0)
	p.buf = binary.BigEndian.AppendUint32(p.buf, elemOID)
	p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(int32(n)))
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1)
}

// element appends an element of variable length: its length, then its
// bytes. An empty one is empty, not NULL, as pgx sends a string.
func element[T string | []byte](buf []byte, b T) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(int32(len(b))))
	return append(buf, b...)
}

// TextArray appends a text[] of n elements, elem(i) the i-th.
func (p *Params) TextArray(n int, elem func(i int) string) {
	p.arrayHeader(pgtype.TextOID, n)
	for i := range n {
		p.buf = element(p.buf, elem(i))
	}
	p.end()
}

// TextArrayOfBytes appends a text[] of n elements, elem(i) the i-th's
// bytes (which must be valid UTF-8, as a string's for TextArray): text
// kept as bytes, such as JSON, without a string made of each.
func (p *Params) TextArrayOfBytes(n int, elem func(i int) []byte) {
	p.arrayHeader(pgtype.TextOID, n)
	for i := range n {
		p.buf = element(p.buf, elem(i))
	}
	p.end()
}

// ByteaArray appends a bytea[] of n elements, elem(i) the i-th; a nil one
// is NULL, as pgx sends a nil []byte.
func (p *Params) ByteaArray(n int, elem func(i int) []byte) {
	start := len(p.buf)
	p.arrayHeader(pgtype.ByteaOID, n)
	for i := range n {
		b := elem(i)
		if b == nil {
			binary.BigEndian.PutUint32(p.buf[start+4:], 1) // has NULLs
			p.buf = binary.BigEndian.AppendUint32(p.buf, math.MaxUint32)
			continue
		}
		p.buf = element(p.buf, b)
	}
	p.end()
}

// Int8Array appends a bigint[] of n elements, elem(i) the i-th.
func (p *Params) Int8Array(n int, elem func(i int) int64) {
	p.arrayHeader(pgtype.Int8OID, n)
	for i := range n {
		p.buf = binary.BigEndian.AppendUint32(p.buf, 8)
		p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(elem(i)))
	}
	p.end()
}

// TimestamptzArray appends a timestamptz[] of n elements, elem(i) the
// i-th.
func (p *Params) TimestamptzArray(n int, elem func(i int) time.Time) {
	p.arrayHeader(pgtype.TimestamptzOID, n)
	for i := range n {
		p.buf = binary.BigEndian.AppendUint32(p.buf, 8)
		p.buf = appendTimestamptz(p.buf, elem(i))
	}
	p.end()
}

// NullableTimestamptzArray appends a timestamptz[] of n elements, elem(i)
// the i-th, NULL where elem's ok is false.
func (p *Params) NullableTimestamptzArray(n int, elem func(i int) (t time.Time, ok bool)) {
	start := len(p.buf)
	p.arrayHeader(pgtype.TimestamptzOID, n)
	for i := range n {
		t, ok := elem(i)
		if !ok {
			binary.BigEndian.PutUint32(p.buf[start+4:], 1) // has NULLs
			p.buf = binary.BigEndian.AppendUint32(p.buf, math.MaxUint32)
			continue
		}
		p.buf = binary.BigEndian.AppendUint32(p.buf, 8)
		p.buf = appendTimestamptz(p.buf, t)
	}
	p.end()
}

// Int4Array appends an integer[] of n elements, elem(i) the i-th.
func (p *Params) Int4Array(n int, elem func(i int) int32) {
	p.arrayHeader(pgtype.Int4OID, n)
	for i := range n {
		p.buf = binary.BigEndian.AppendUint32(p.buf, 4)
		p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(elem(i)))
	}
	p.end()
}

// Int8 appends a bigint.
func (p *Params) Int8(v int64) {
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(v))
	p.end()
}

// Bytea appends a bytea (not NULL: an empty one for nil).
func (p *Params) Bytea(b []byte) {
	p.buf = append(p.buf, b...)
	p.end()
}

// microsecondsFromUnixEpochToY2K is where timestamptz's binary form counts
// from: microseconds since 2000-01-01 00:00 UTC.
const microsecondsFromUnixEpochToY2K = 946_684_800 * 1_000_000

// appendTimestamptz appends t as a binary timestamptz, with pgx's
// arithmetic (microseconds, the nanoseconds below them dropped).
func appendTimestamptz(buf []byte, t time.Time) []byte {
	us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000
	return binary.BigEndian.AppendUint64(buf, uint64(us-microsecondsFromUnixEpochToY2K))
}

// Values returns the parameters appended so far, each a slice of p's
// buffer, valid until Release.
func (p *Params) Values() ([][]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.values = p.values[:0]
	from := 0
	for _, end := range p.ends {
		p.values = append(p.values, p.buf[from:end:end])
		from = end
	}
	return p.values, nil
}

// Statement is a statement whose parameters are all sent in binary.
type Statement struct {
	// Name is the name it is prepared under on each connection: one of
	// its own.
	Name string
	// SQL is its text.
	SQL string
	// ParamOIDs are the types of its parameters, in order, as Params
	// encodes them.
	ParamOIDs []uint32
}

// binaryFormats are format codes of parameters all in binary; nothing
// writes them.
var binaryFormats = slices.Repeat([]int16{1}, 64)

// Exec runs st on conn with p's parameters and returns its command tag. On
// a connection that caches statements (pgx's default mode) st is prepared
// there once, under its name; otherwise it is sent with its text each time,
// as pgx does in the other modes.
func (st *Statement) Exec(ctx context.Context, conn *pgx.Conn, p *Params) (pgconn.CommandTag, error) {
	values, err := p.Values()
	if err != nil {
		return pgconn.CommandTag{}, fmt.Errorf("running %s: %w", st.Name, err)
	}
	if len(values) != len(st.ParamOIDs) || len(values) > len(binaryFormats) {
		return pgconn.CommandTag{}, fmt.Errorf("running %s: %d parameters given, it takes %d", st.Name, len(values), len(st.ParamOIDs))
	}
	formats := binaryFormats[:len(values)]
	pgc := conn.PgConn()
	if conn.Config().DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		reserve(pgc, bindMessageLen("", values)+len(st.SQL)+4*len(values)+64)
		return pgc.ExecParams(ctx, st.SQL, values, st.ParamOIDs, formats, nil).Close()
	}
	sd, err := conn.Prepare(ctx, st.Name, st.SQL)
	if err != nil {
		return pgconn.CommandTag{}, fmt.Errorf("preparing %s: %w", st.Name, err)
	}
	if !slices.Equal(sd.ParamOIDs, st.ParamOIDs) {
		return pgconn.CommandTag{}, fmt.Errorf("preparing %s: its parameters are of the types %v, where %v are encoded", st.Name, sd.ParamOIDs, st.ParamOIDs)
	}
	reserve(pgc, bindMessageLen(sd.Name, values)+32)
	return pgc.ExecPrepared(ctx, sd.Name, values, formats, nil).Close()
}

// reserve grows pgc's write buffer to hold n more bytes, so that the Bind
// to come is copied into it once.
func reserve(pgc *pgconn.PgConn, n int) {
	if n > 1024 { // what the buffer keeps anyway
		pgc.Frontend().Send(writeBufferReserve(n))
	}
}

// bindMessageLen is the size of the Bind message pgproto3 encodes for the
// prepared statement name with values, all in binary, and no result
// formats.
func bindMessageLen(name string, values [][]byte) int {
	n := 1 + 4 + 1 + len(name) + 1 // type, length, unnamed portal, statement
	n += 2 + 2*len(values)         // parameter formats
	n += 2                         // parameter count
	for _, v := range values {
		n += 4 + len(v)
	}
	return n + 2 // result formats
}

// writeBufferReserve is a message of no bytes: sent through a
// pgproto3.Frontend, it grows the frontend's write buffer to hold at least
// as many more bytes as its value, and writes nothing to the server.
type writeBufferReserve int

var _ pgproto3.FrontendMessage = writeBufferReserve(0)

// Frontend marks writeBufferReserve a frontend message.
func (writeBufferReserve) Frontend() {}

// Encode appends nothing to dst, which it grows.
func (r writeBufferReserve) Encode(dst []byte) ([]byte, error) {
	return slices.Grow(dst, int(r)), nil
}

// Decode fails: nothing sends the message.
func (writeBufferReserve) Decode([]byte) error {
	return errors.New("decoding a write buffer reservation: it is never sent")
}
