package eventstore

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// The append statement's parameters, encoded by the store.
//
// Sent through pgx's Batch, the parameters of a group commit (every event's
// data and metadata as text[], ids, hashes …) were encoded by pgx into a
// buffer that it grows by doubling from 128 bytes and drops after each
// query, then copied into the connection's write buffer, grown the same way
// and dropped after each flush: each byte of event data was allocated about
// four times per append. appendParams encodes them once, in PostgreSQL's
// binary format, into a buffer the store keeps in a pool and grows at most
// once, to the exact size; pgconn copies them once into the connection's
// write buffer, grown once for them (see runAppend). The bytes are those pgx
// sends for the same values (params_test.go holds the encoder to pgx's, byte
// for byte, and to the values the store gave pgx before), so the database
// stores the same rows.

// appendParamCount is how many parameters appendStatement takes.
const appendParamCount = 14

// appendParamOIDs are the types of appendStatement's parameters, in order.
var appendParamOIDs = [appendParamCount]uint32{
	pgtype.TextArrayOID,   // $1 stream ids, in stream order
	pgtype.Int8ArrayOID,   // $2 their expected versions
	pgtype.Int8ArrayOID,   // $3 how many events each gets
	pgtype.TextArrayOID,   // $4 each event's stream id
	pgtype.Int8ArrayOID,   // $5 how far each is from its stream's last new event
	pgtype.UUIDArrayOID,   // $6 event ids
	pgtype.TextArrayOID,   // $7 types
	pgtype.Int4ArrayOID,   // $8 schema versions
	pgtype.TextArrayOID,   // $9 data
	pgtype.TextArrayOID,   // $10 metadata
	pgtype.TimestamptzOID, // $11 the time recorded
	pgtype.ByteaArrayOID,  // $12 content hashes
	pgtype.Int4ArrayOID,   // $13 the 1-based index of each event's stream in $1
	pgtype.BoolArrayOID,   // $14 whether each stream's expected version is known stored
}

// binaryFormats are the format codes of parameters all in binary; nothing
// writes them.
var binaryFormats = [appendParamCount]int16{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// appendParams is one append's parameters: values[i] is $(i+1), a slice of
// buf.
type appendParams struct {
	buf    []byte
	values [appendParamCount][]byte
}

// maxPooledParamsBytes bounds the buffer a pooled appendParams keeps; a
// larger one (a rare huge group commit) is left to the garbage collector.
const maxPooledParamsBytes = 16 << 20

var appendParamsPool = sync.Pool{New: func() any { return new(appendParams) }}

// getAppendParams returns parameters to encode into, from the pool.
func getAppendParams() *appendParams { return appendParamsPool.Get().(*appendParams) }

// release gives p back to the pool. Nothing may read p's values after.
func (p *appendParams) release() {
	p.values = [appendParamCount][]byte{}
	if cap(p.buf) > maxPooledParamsBytes {
		p.buf = nil
	}
	p.buf = p.buf[:0]
	appendParamsPool.Put(p)
}

// encode sets p to the parameters of appendStatement for reqs, taken in
// order (indexes into reqs, in stream order), which have total events.
func (p *appendParams) encode(reqs []preparedRequest, order []int, total int, recordedAt time.Time) error {
	streams := len(order)
	// The exact size first, so that buf grows at most once.
	var idBytes, evStreamBytes, typeBytes, metaBytes, hashBytes, dataBytes int
	for _, ri := range order {
		r := reqs[ri]
		idBytes += 4 + len(r.streamID)
		evStreamBytes += len(r.events) * (4 + len(r.streamID))
		for j := range r.events {
			e := &r.events[j]
			typeBytes += 4 + len(e.typ)
			metaBytes += 4 + len(e.metadata)
			hashBytes += 4 + len(e.hash)
			dataBytes += 4 + len(e.data)
		}
	}
	sizes := [appendParamCount]int{
		pgbinary.ArrayHeaderLen + idBytes,
		pgbinary.ArrayHeaderLen + streams*12,
		pgbinary.ArrayHeaderLen + streams*12,
		pgbinary.ArrayHeaderLen + evStreamBytes,
		pgbinary.ArrayHeaderLen + total*12,
		pgbinary.ArrayHeaderLen + total*20,
		pgbinary.ArrayHeaderLen + typeBytes,
		pgbinary.ArrayHeaderLen + total*8,
		pgbinary.ArrayHeaderLen + dataBytes,
		pgbinary.ArrayHeaderLen + metaBytes,
		8,
		pgbinary.ArrayHeaderLen + hashBytes,
		pgbinary.ArrayHeaderLen + total*8,
		pgbinary.ArrayHeaderLen + streams*5,
	}
	size := 0
	for i, n := range sizes {
		if n > math.MaxInt32 {
			return fmt.Errorf("encoding parameter $%d of the append of %d events: %d bytes, more than a parameter may have", i+1, total, n)
		}
		size += n
	}
	buf := p.buf[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	var ends [appendParamCount]int
	next := 0
	done := func() {
		ends[next] = len(buf)
		next++
	}

	// $1 stream ids, $2 expected versions, $3 counts.
	buf = pgbinary.AppendArrayHeader(buf, pgtype.TextOID, streams)
	for _, ri := range order {
		buf = pgbinary.AppendElement(buf, reqs[ri].streamID)
	}
	done()
	buf = pgbinary.AppendArrayHeader(buf, pgtype.Int8OID, streams)
	for _, ri := range order {
		buf = pgbinary.AppendInt8Element(buf, int64(reqs[ri].expected))
	}
	done()
	buf = pgbinary.AppendArrayHeader(buf, pgtype.Int8OID, streams)
	for _, ri := range order {
		buf = pgbinary.AppendInt8Element(buf, int64(len(reqs[ri].events)))
	}
	done()
	// $4 each event's stream, $5 its distance from its stream's last event.
	buf = pgbinary.AppendArrayHeader(buf, pgtype.TextOID, total)
	for _, ri := range order {
		r := reqs[ri]
		for range r.events {
			buf = pgbinary.AppendElement(buf, r.streamID)
		}
	}
	done()
	buf = pgbinary.AppendArrayHeader(buf, pgtype.Int8OID, total)
	for _, ri := range order {
		n := len(reqs[ri].events)
		for j := range n {
			buf = pgbinary.AppendInt8Element(buf, int64(n-1-j))
		}
	}
	done()
	// perEvent appends an array of one element per event, in order.
	perEvent := func(elemOID uint32, elem func(buf []byte, arrayStart int, e *prepared) []byte) {
		start := len(buf)
		buf = pgbinary.AppendArrayHeader(buf, elemOID, total)
		for _, ri := range order {
			evs := reqs[ri].events
			for j := range evs {
				buf = elem(buf, start, &evs[j])
			}
		}
		done()
	}
	// $6 event ids, $7 types, $8 schema versions.
	perEvent(pgtype.UUIDOID, func(buf []byte, _ int, e *prepared) []byte { return pgbinary.AppendElement(buf, e.id[:]) })
	perEvent(pgtype.TextOID, func(buf []byte, _ int, e *prepared) []byte { return pgbinary.AppendElement(buf, e.typ) })
	perEvent(pgtype.Int4OID, func(buf []byte, _ int, e *prepared) []byte {
		return pgbinary.AppendInt4Element(buf, int32(e.schemaVersion))
	})
	// $9 data, $10 metadata.
	perEvent(pgtype.TextOID, func(buf []byte, _ int, e *prepared) []byte { return pgbinary.AppendElement(buf, e.data) })
	perEvent(pgtype.TextOID, func(buf []byte, _ int, e *prepared) []byte { return pgbinary.AppendElement(buf, e.metadata) })
	// $11 the time recorded.
	buf = pgbinary.AppendTimestamptz(buf, recordedAt)
	done()
	// $12 content hashes.
	perEvent(pgtype.ByteaOID, func(buf []byte, arrayStart int, e *prepared) []byte {
		return pgbinary.AppendByteaElement(buf, arrayStart, e.hash)
	})
	// $13 each event's stream, as its index in $1.
	buf = pgbinary.AppendArrayHeader(buf, pgtype.Int4OID, total)
	for k, ri := range order {
		for range reqs[ri].events {
			buf = pgbinary.AppendInt4Element(buf, int32(k+1))
		}
	}
	done()
	// $14 whether each stream's expected version is known stored.
	buf = pgbinary.AppendArrayHeader(buf, pgtype.BoolOID, streams)
	for _, ri := range order {
		buf = pgbinary.AppendBoolElement(buf, reqs[ri].stored)
	}
	done()

	p.buf = buf
	from := 0
	for i, end := range ends {
		p.values[i] = buf[from:end:end]
		from = end
	}
	return nil
}
