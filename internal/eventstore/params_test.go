package eventstore

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// pgxEncode is what pgx sends for value as a parameter of type oid in
// binary, the format it chooses for every parameter of appendStatement but
// the strings (which it sends as text, in the same bytes).
func pgxEncode(t *testing.T, oid uint32, value any) []byte {
	t.Helper()
	buf, err := pgtype.NewMap().Encode(oid, pgtype.BinaryFormatCode, value, nil)
	require.NoError(t, err)
	return buf
}

// Whole arrays made of the store's pieces, to hold each to pgx.

func ourTextArray[T string | []byte](elems []T) []byte {
	buf := pgbinary.AppendArrayHeader(nil, pgtype.TextOID, len(elems))
	for _, e := range elems {
		buf = pgbinary.AppendElement(buf, e)
	}
	return buf
}

func ourUUIDArray(elems [][16]byte) []byte {
	buf := pgbinary.AppendArrayHeader(nil, pgtype.UUIDOID, len(elems))
	for _, e := range elems {
		buf = pgbinary.AppendElement(buf, e[:])
	}
	return buf
}

func ourByteaArray(elems [][]byte) []byte {
	buf := pgbinary.AppendArrayHeader(nil, pgtype.ByteaOID, len(elems))
	for _, e := range elems {
		buf = pgbinary.AppendByteaElement(buf, 0, e)
	}
	return buf
}

func ourInt8Array(elems []int64) []byte {
	buf := pgbinary.AppendArrayHeader(nil, pgtype.Int8OID, len(elems))
	for _, e := range elems {
		buf = pgbinary.AppendInt8Element(buf, e)
	}
	return buf
}

func ourInt4Array(elems []int32) []byte {
	buf := pgbinary.AppendArrayHeader(nil, pgtype.Int4OID, len(elems))
	for _, e := range elems {
		buf = pgbinary.AppendInt4Element(buf, e)
	}
	return buf
}

// large is over 64 KiB, so that no length fits in 16 bits.
var large = strings.Repeat("é{\"k\":\"v\\\"x\"}", 8000)

func TestTextArraysEncodeAsPgx(t *testing.T) {
	t.Parallel()
	for name, elems := range map[string][]string{
		"empty":        {},
		"empty string": {""},
		"several":      {"a", "", `{"a":1}`, "héllo wörld ✓ 日本語 🎉", "nul\x00 inside"},
		"over 64 KiB":  {large, "b", large},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := pgxEncode(t, pgtype.TextArrayOID, elems)
			require.Equal(t, want, ourTextArray(elems), "from strings")
			asBytes := make([][]byte, len(elems))
			for i, e := range elems {
				asBytes[i] = []byte(e)
			}
			require.Equal(t, want, ourTextArray(asBytes), "from bytes")
		})
	}
	// The store's data and metadata are []byte, sent as pgx sent their
	// conversion to string: a nil one is an empty string, not NULL.
	require.Equal(t, pgxEncode(t, pgtype.TextArrayOID, []string{"", "x"}), ourTextArray([][]byte{nil, []byte("x")}))
}

func TestUUIDArraysEncodeAsPgx(t *testing.T) {
	t.Parallel()
	for name, elems := range map[string][][16]byte{
		"empty":   {},
		"several": {uuid.New(), {}, uuid.Must(uuid.NewV7()), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, pgxEncode(t, pgtype.UUIDArrayOID, elems), ourUUIDArray(elems))
		})
	}
}

func TestByteaArraysEncodeAsPgx(t *testing.T) {
	t.Parallel()
	for name, elems := range map[string][][]byte{
		"empty":          {},
		"empty element":  {{}},
		"NULL":           {nil},
		"NULL and bytes": {{1, 2, 3}, nil, {}, []byte(large)},
		"hashes":         {make([]byte, 32), []byte("0123456789abcdef0123456789abcdef")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, pgxEncode(t, pgtype.ByteaArrayOID, elems), ourByteaArray(elems))
		})
	}
}

func TestIntegerArraysEncodeAsPgx(t *testing.T) {
	t.Parallel()
	for _, elems := range [][]int64{{}, {0}, {1, -1, 42, math.MaxInt64, math.MinInt64}} {
		require.Equal(t, pgxEncode(t, pgtype.Int8ArrayOID, elems), ourInt8Array(elems), "%v", elems)
	}
	for _, elems := range [][]int32{{}, {0}, {1, -1, 42, math.MaxInt32, math.MinInt32}} {
		require.Equal(t, pgxEncode(t, pgtype.Int4ArrayOID, elems), ourInt4Array(elems), "%v", elems)
	}
}

func TestTimestamptzEncodesAsPgx(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	for _, ts := range []time.Time{
		time.Date(2026, 12, 6, 15, 49, 1, 123456000, time.UTC),
		time.Date(2026, 12, 6, 15, 49, 1, 123456789, time.UTC), // nanoseconds below a microsecond
		time.Date(2026, 7, 1, 2, 3, 4, 5000, paris),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 40, 500000000, time.UTC),
		time.Now(),
	} {
		require.Equal(t, pgxEncode(t, pgtype.TimestamptzOID, ts), pgbinary.AppendTimestamptz(nil, ts), "%v", ts)
	}
}

// legacyAppendArgs are the Go values the store gave pgx for appendStatement
// before it encoded them itself, built as it built them.
func legacyAppendArgs(reqs []preparedRequest, order []int, total int, recordedAt time.Time) []any {
	var (
		ids      = make([]string, len(reqs))
		expected = make([]int64, len(reqs))
		counts   = make([]int64, len(reqs))
		evStream = make([]string, 0, total)
		evSIdx   = make([]int32, 0, total)
		back     = make([]int64, 0, total)
		evIDs    = make([][16]byte, 0, total)
		types    = make([]string, 0, total)
		schemas  = make([]int32, 0, total)
		datas    = make([]string, 0, total)
		metas    = make([]string, 0, total)
		hashes   = make([][]byte, 0, total)
		stored   = make([]bool, len(reqs))
	)
	for k, ri := range order {
		r := reqs[ri]
		n := len(r.events)
		ids[k], expected[k], counts[k], stored[k] = r.streamID, int64(r.expected), int64(n), r.stored
		for j, p := range r.events {
			evStream = append(evStream, r.streamID)
			evSIdx = append(evSIdx, int32(k+1))
			back = append(back, int64(n-1-j))
			evIDs = append(evIDs, p.id)
			types = append(types, p.typ)
			schemas = append(schemas, int32(p.schemaVersion))
			datas = append(datas, string(p.data))
			metas = append(metas, string(p.metadata))
			hashes = append(hashes, p.hash)
		}
	}
	return []any{ids, expected, counts, evStream, back, evIDs, types, schemas, datas, metas, recordedAt, hashes, evSIdx, stored}
}

func jsonObject(t *testing.T, v map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// paramsBatch is a group commit of every kind of request: out of stream
// order, each kind of expectation, non-ASCII and large data, metadata.
func paramsBatch(t *testing.T) ([]preparedRequest, []int, int) {
	t.Helper()
	raw := []AppendRequest{
		{StreamID: "stream-c", Expected: Any, Events: []NewEvent{
			{Type: "C", Data: jsonObject(t, map[string]any{"text": large, "n": 1})},
		}},
		{StreamID: "stream-ä-日本", Expected: NoStream, Events: []NewEvent{
			{Type: "Ünïcode", SchemaVersion: 3, Data: json.RawMessage(`{"greeting":"héllo ✓ 🎉"}`),
				Metadata: Metadata{CorrelationID: "corr-1", CausationID: "cmd-é", TraceID: "1-5759e988-bd862e3fe1be46a994272793", Actor: "user:åsa"}},
			{Type: "Empty", Data: json.RawMessage(`{}`)},
		}},
		{StreamID: "stream-a", Expected: Exact(41), Events: []NewEvent{
			{ID: uuid.New(), Type: "A", Data: json.RawMessage(`{"b":[1,2,{"c":null}],"a":true}`)},
			{Type: "A", Data: json.RawMessage(`{"n":-1.5e300}`)},
			{Type: "A", Data: json.RawMessage(`{"s":""}`)},
		}},
	}
	s := &Store{newID: uuid.NewV7}
	reqs, _, err := s.prepareBatch(raw, true)
	require.NoError(t, err)
	reqs[2].stored = true // Exact(41), known stored: $14 holds both values
	order := make([]int, len(reqs))
	total := 0
	for i := range reqs {
		order[i] = i
		total += len(reqs[i].events)
	}
	sort.Slice(order, func(a, b int) bool { return reqs[order[a]].streamID < reqs[order[b]].streamID })
	return reqs, order, total
}

// TestAppendParamsAreWhatPgxSent: every parameter of the append is, byte
// for byte, what pgx sent for the values the store gave it before, so
// PostgreSQL stores the same rows.
func TestAppendParamsAreWhatPgxSent(t *testing.T) {
	t.Parallel()
	reqs, order, total := paramsBatch(t)
	recordedAt := time.Date(2026, 12, 6, 15, 49, 1, 123456000, time.UTC)
	p := &appendParams{}
	require.NoError(t, p.encode(reqs, order, total, recordedAt))
	legacy := legacyAppendArgs(reqs, order, total, recordedAt)
	require.Len(t, legacy, appendParamCount)
	for i, v := range legacy {
		require.Equal(t, pgxEncode(t, appendParamOIDs[i], v), p.values[i], "$%d", i+1)
	}
	require.Equal(t, len(p.buf), cap(p.buf), "grown once, to the exact size")
	require.Greater(t, len(p.values[8]), 64<<10, "$9, the data")
}

// TestAppendParamsReused: parameters encoded into a buffer that held a
// larger append are those of a fresh one.
func TestAppendParamsReused(t *testing.T) {
	t.Parallel()
	reqs, order, total := paramsBatch(t)
	recordedAt := time.Now()
	p := &appendParams{}
	require.NoError(t, p.encode(reqs, order, total, recordedAt))
	bigCap := cap(p.buf)

	small := reqs[order[0] : order[0]+1]
	fresh := &appendParams{}
	require.NoError(t, fresh.encode(small, []int{0}, len(small[0].events), recordedAt))
	p.buf = p.buf[:0]
	require.NoError(t, p.encode(small, []int{0}, len(small[0].events), recordedAt))
	require.Equal(t, fresh.values, p.values)
	require.Equal(t, bigCap, cap(p.buf), "the larger buffer was reused")
}

func TestBindMessageLenIsPgprotos(t *testing.T) {
	t.Parallel()
	reqs, order, total := paramsBatch(t)
	p := &appendParams{}
	require.NoError(t, p.encode(reqs, order, total, time.Now()))
	msg, err := (&pgproto3.Bind{PreparedStatement: appendStatementName, ParameterFormatCodes: binaryFormats[:], Parameters: p.values[:], ResultFormatCodes: appendResultFormats}).Encode(nil)
	require.NoError(t, err)
	require.Len(t, msg, pgbinary.BindMessageLen(appendStatementName, p.values[:], len(appendResultFormats)))
}
