package pgbinary_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgbinary"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// TestParamsAreThoseOfPgx: every parameter is the bytes pgx sends for the
// same value in binary, empty and NULL elements included.
func TestParamsAreThoseOfPgx(t *testing.T) {
	t.Parallel()
	m := pgtype.NewMap()
	texts := []string{"", "plain", "é ✓", strings.Repeat("long ", 100), "NULL", `{"a":1}`}
	bytea := [][]byte{{1, 2, 3}, {}, nil, []byte("x")}
	ints := []int64{0, -1, 1 << 40, -(1 << 62)}
	times := []time.Time{time.Date(2026, 12, 6, 23, 45, 1, 123456789, time.UTC), time.Date(1999, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)), {}}
	for _, c := range []struct {
		name string
		oid  uint32
		want any
		add  func(p *pgbinary.Params)
	}{
		{"text[]", pgtype.TextArrayOID, texts, func(p *pgbinary.Params) { p.TextArray(len(texts), func(i int) string { return texts[i] }) }},
		{"text[] of bytes", pgtype.TextArrayOID, texts, func(p *pgbinary.Params) {
			p.TextArrayOfBytes(len(texts), func(i int) []byte { return []byte(texts[i]) })
		}},
		{"empty text[]", pgtype.TextArrayOID, []string{}, func(p *pgbinary.Params) { p.TextArray(0, nil) }},
		{"bytea[] with a NULL", pgtype.ByteaArrayOID, bytea, func(p *pgbinary.Params) { p.ByteaArray(len(bytea), func(i int) []byte { return bytea[i] }) }},
		{"bigint[]", pgtype.Int8ArrayOID, ints, func(p *pgbinary.Params) { p.Int8Array(len(ints), func(i int) int64 { return ints[i] }) }},
		{"timestamptz[]", pgtype.TimestamptzArrayOID, times, func(p *pgbinary.Params) {
			p.TimestamptzArray(len(times), func(i int) time.Time { return times[i] })
		}},
		{"timestamptz[] with NULLs", pgtype.TimestamptzArrayOID, []*time.Time{nil, &times[0], nil}, func(p *pgbinary.Params) {
			p.NullableTimestamptzArray(3, func(i int) (time.Time, bool) { return times[0], i == 1 })
		}},
		{"timestamptz[] without NULLs", pgtype.TimestamptzArrayOID, []*time.Time{&times[1]}, func(p *pgbinary.Params) {
			p.NullableTimestamptzArray(1, func(int) (time.Time, bool) { return times[1], true })
		}},
		{"integer[]", pgtype.Int4ArrayOID, []int32{0, -1, 1 << 30, -(1 << 31)}, func(p *pgbinary.Params) {
			p.Int4Array(4, func(i int) int32 { return []int32{0, -1, 1 << 30, -(1 << 31)}[i] })
		}},
		{"bigint", pgtype.Int8OID, int64(-42), func(p *pgbinary.Params) { p.Int8(-42) }},
		{"bytea", pgtype.ByteaOID, []byte{0, 255}, func(p *pgbinary.Params) { p.Bytea([]byte{0, 255}) }},
	} {
		want, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.want, nil)
		require.NoError(t, err, c.name)
		p := pgbinary.Get()
		p.Int8(7) // a parameter before, so that each is cut from the buffer where it starts
		c.add(p)
		values, err := p.Values()
		require.NoError(t, err, c.name)
		require.Len(t, values, 2, c.name)
		require.Equal(t, want, values[1], c.name)
		p.Release()
	}
}

// TestExecRunsTheStatement: Exec inserts what Params hold, the statement
// prepared once on a connection that caches statements and sent with its
// text on one that does not, and reports the rows it touched; a statement
// whose parameters differ from what is encoded is refused by name.
func TestExecRunsTheStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgclustertest.Database(t)
	for k, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		cfg, err := pgxpool.ParseConfig(url)
		require.NoError(t, err)
		cfg.ConnConfig.DefaultQueryExecMode = mode
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		table := fmt.Sprintf("pgbinary_%d", k)
		_, err = pool.Exec(ctx, `CREATE TABLE `+table+` (n bigint, t text, b bytea, at timestamptz)`)
		require.NoError(t, err, mode)
		st := &pgbinary.Statement{
			Name:      "pgbinary_test_insert_" + table,
			SQL:       `INSERT INTO ` + table + ` SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::timestamptz[])`,
			ParamOIDs: []uint32{pgtype.Int8ArrayOID, pgtype.TextArrayOID, pgtype.ByteaArrayOID, pgtype.TimestamptzArrayOID},
		}
		at := time.Date(2026, 12, 6, 23, 45, 1, 123456000, time.UTC)
		long := strings.Repeat("x", 5000) // past the write buffer's kilobyte
		c, err := pool.Acquire(ctx)
		require.NoError(t, err)
		for round := range 2 {
			p := pgbinary.Get()
			p.Int8Array(3, func(i int) int64 { return int64(10*round + i) })
			p.TextArray(3, func(i int) string { return []string{"a", "", long}[i] })
			p.ByteaArray(3, func(i int) []byte { return [][]byte{{1}, nil, {}}[i] })
			p.TimestamptzArray(3, func(int) time.Time { return at })
			tag, err := st.Exec(ctx, c.Conn(), p)
			p.Release()
			require.NoError(t, err, mode)
			require.Equal(t, int64(3), tag.RowsAffected(), mode)
		}
		p := pgbinary.Get()
		p.Int8(1)
		_, err = st.Exec(ctx, c.Conn(), p)
		p.Release()
		require.ErrorContains(t, err, "running "+st.Name+": 1 parameters given, it takes 4")
		c.Release()

		var n int
		var texts int
		var nulls int
		var got time.Time
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), sum(length(t)), count(*) FILTER (WHERE b IS NULL), max(at) FROM `+table).Scan(&n, &texts, &nulls, &got), mode)
		require.Equal(t, 6, n, mode)
		require.Equal(t, 2*(1+len(long)), texts, mode)
		require.Equal(t, 2, nulls, mode)
		require.True(t, at.Equal(got), mode)
	}

	pool := pgclustertest.Pool(t)
	c, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer c.Release()
	wrong := &pgbinary.Statement{Name: "pgbinary_test_wrong", SQL: `SELECT $1::text`, ParamOIDs: []uint32{pgtype.Int8OID}}
	p := pgbinary.Get()
	defer p.Release()
	p.Int8(1)
	_, err = wrong.Exec(ctx, c.Conn(), p)
	require.ErrorContains(t, err, "preparing pgbinary_test_wrong: its parameters are of the types [25], where [20] are encoded")
}
