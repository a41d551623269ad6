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
// same statement. The event store's append, which lays out its own
// parameters in one buffer of the exact size, encodes them with the
// Append functions and grows the write buffer with Reserve
// (internal/eventstore/params.go).
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

// ArrayHeaderLen is the size of a one-dimensional array's header.
const ArrayHeaderLen = 20

// AppendArrayHeader appends the header of a one-dimensional array of n
// elements of type elemOID without NULLs, as PostgreSQL's array_send writes
// it (and array_recv reads it): the number of dimensions, a has-NULLs flag,
// the element type, then the dimension's length and lower bound, 1. An
// empty array keeps its one dimension, of length 0, as pgx sends it.
func AppendArrayHeader(buf []byte, elemOID uint32, n int) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, elemOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(int32(n)))
	return binary.BigEndian.AppendUint32(buf, 1)
}

// AppendElement appends an array element of variable length: its length,
// then its bytes (text's, bytea's and uuid's binary form are the bytes
// themselves). An empty or nil b is an empty element, not NULL, as pgx
// sends a string.
func AppendElement[T string | []byte](buf []byte, b T) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(int32(len(b))))
	return append(buf, b...)
}

// AppendNull appends a NULL element and marks the array whose header
// starts at buf[array] as having NULLs.
func AppendNull(buf []byte, array int) []byte {
	binary.BigEndian.PutUint32(buf[array+4:], 1)
	return binary.BigEndian.AppendUint32(buf, math.MaxUint32) // -1
}

// AppendByteaElement appends a bytea element; a nil b is NULL, as pgx
// sends a nil []byte (see AppendNull).
func AppendByteaElement(buf []byte, array int, b []byte) []byte {
	if b == nil {
		return AppendNull(buf, array)
	}
	return AppendElement(buf, b)
}

// AppendInt8Element appends a bigint element.
func AppendInt8Element(buf []byte, v int64) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(v))
}

// AppendInt4Element appends an integer element.
func AppendInt4Element(buf []byte, v int32) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 4)
	return binary.BigEndian.AppendUint32(buf, uint32(v))
}

// AppendBoolElement appends a boolean element.
func AppendBoolElement(buf []byte, v bool) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 1)
	if v {
		return append(buf, 1)
	}
	return append(buf, 0)
}

// AppendTimestamptzElement appends a timestamptz element.
func AppendTimestamptzElement(buf []byte, t time.Time) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return AppendTimestamptz(buf, t)
}

// microsecondsFromUnixEpochToY2K is where timestamptz's binary form counts
// from: microseconds since 2000-01-01 00:00 UTC.
const microsecondsFromUnixEpochToY2K = 946_684_800 * 1_000_000

// AppendTimestamptz appends t as a binary timestamptz (a parameter's
// value, not an element), with pgx's arithmetic (microseconds, the
// nanoseconds below them dropped).
func AppendTimestamptz(buf []byte, t time.Time) []byte {
	us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000
	return binary.BigEndian.AppendUint64(buf, uint64(us-microsecondsFromUnixEpochToY2K))
}

// TextArray appends a text[] of n elements, elem(i) the i-th.
func (p *Params) TextArray(n int, elem func(i int) string) {
	array(p, pgtype.TextOID, n, elem, AppendElement[string])
}

// array appends an array without NULLs of n elements of type elemOID,
// elem(i) the i-th, each appended by add.
func array[T any](p *Params, elemOID uint32, n int, elem func(i int) T, add func(buf []byte, v T) []byte) {
	p.buf = AppendArrayHeader(p.buf, elemOID, n)
	for i := range n {
		p.buf = add(p.buf, elem(i))
	}
	p.end()
}

// TextArrayOfBytes appends a text[] of n elements, elem(i) the i-th's
// bytes (which must be valid UTF-8, as a string's for TextArray): text
// kept as bytes, such as JSON, without a string made of each.
func (p *Params) TextArrayOfBytes(n int, elem func(i int) []byte) {
	array(p, pgtype.TextOID, n, elem, AppendElement[[]byte])
}

// ByteaArray appends a bytea[] of n elements, elem(i) the i-th; a nil one
// is NULL, as pgx sends a nil []byte.
func (p *Params) ByteaArray(n int, elem func(i int) []byte) {
	start := len(p.buf)
	p.buf = AppendArrayHeader(p.buf, pgtype.ByteaOID, n)
	for i := range n {
		p.buf = AppendByteaElement(p.buf, start, elem(i))
	}
	p.end()
}

// Int8Array appends a bigint[] of n elements, elem(i) the i-th.
func (p *Params) Int8Array(n int, elem func(i int) int64) {
	array(p, pgtype.Int8OID, n, elem, AppendInt8Element)
}

// TimestamptzArray appends a timestamptz[] of n elements, elem(i) the
// i-th.
func (p *Params) TimestamptzArray(n int, elem func(i int) time.Time) {
	array(p, pgtype.TimestamptzOID, n, elem, AppendTimestamptzElement)
}

// NullableTimestamptzArray appends a timestamptz[] of n elements, elem(i)
// the i-th, NULL where elem's ok is false.
func (p *Params) NullableTimestamptzArray(n int, elem func(i int) (t time.Time, ok bool)) {
	start := len(p.buf)
	p.buf = AppendArrayHeader(p.buf, pgtype.TimestamptzOID, n)
	for i := range n {
		if t, ok := elem(i); ok {
			p.buf = AppendTimestamptzElement(p.buf, t)
		} else {
			p.buf = AppendNull(p.buf, start)
		}
	}
	p.end()
}

// Int4Array appends an integer[] of n elements, elem(i) the i-th.
func (p *Params) Int4Array(n int, elem func(i int) int32) {
	array(p, pgtype.Int4OID, n, elem, AppendInt4Element)
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

// Bind returns p's parameters for st and their format codes, all binary
// (a slice nothing writes), checking that they are as many as st takes.
func (st *Statement) Bind(p *Params) (values [][]byte, formats []int16, err error) {
	if values, err = p.Values(); err != nil {
		return nil, nil, fmt.Errorf("running %s: %w", st.Name, err)
	}
	if len(values) != len(st.ParamOIDs) || len(values) > len(binaryFormats) {
		return nil, nil, fmt.Errorf("running %s: %d parameters given, it takes %d", st.Name, len(values), len(st.ParamOIDs))
	}
	return values, binaryFormats[:len(values)], nil
}

// Exec runs st on conn with p's parameters and returns its command tag. On
// a connection that caches statements (pgx's default mode) st is prepared
// there once, under its name; otherwise it is sent with its text each time,
// as pgx does in the other modes.
func (st *Statement) Exec(ctx context.Context, conn *pgx.Conn, p *Params) (pgconn.CommandTag, error) {
	values, formats, err := st.Bind(p)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	pgc := conn.PgConn()
	if conn.Config().DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		Reserve(pgc, BindMessageLen("", values, 0)+len(st.SQL)+4*len(values)+64)
		return pgc.ExecParams(ctx, st.SQL, values, st.ParamOIDs, formats, nil).Close()
	}
	sd, err := conn.Prepare(ctx, st.Name, st.SQL)
	if err != nil {
		return pgconn.CommandTag{}, fmt.Errorf("preparing %s: %w", st.Name, err)
	}
	if !slices.Equal(sd.ParamOIDs, st.ParamOIDs) {
		return pgconn.CommandTag{}, fmt.Errorf("preparing %s: its parameters are of the types %v, where %v are encoded", st.Name, sd.ParamOIDs, st.ParamOIDs)
	}
	Reserve(pgc, BindMessageLen(sd.Name, values, 0)+32)
	return pgc.ExecPrepared(ctx, sd.Name, values, formats, nil).Close()
}

// Reserve grows pgc's write buffer to hold n more bytes, so that a Bind
// message queued next is copied into it once: pgproto3 drops the buffer
// after each flush of more than 1 KiB, and grows it by doubling as a
// message is appended.
func Reserve(pgc *pgconn.PgConn, n int) {
	if n > 1024 { // what the buffer keeps anyway
		pgc.Frontend().Send(writeBufferReserve(n))
	}
}

// BindMessageLen is the size of the Bind message pgproto3 encodes for the
// prepared statement name (or "", unnamed) with values, all in one format
// each, and results result formats.
func BindMessageLen(name string, values [][]byte, results int) int {
	n := 1 + 4 + 1 + len(name) + 1 // type, length, unnamed portal, statement
	n += 2 + 2*len(values)         // parameter formats
	n += 2                         // parameter count
	for _, v := range values {
		n += 4 + len(v)
	}
	return n + 2 + 2*results // result formats
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
