package migrate_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Migration 00018 keeps events' data as json instead of jsonb: the rows
// stored before it keep their content (as jsonb printed it), rows stored
// after keep their bytes, a non-object is still refused, LZ4 stays on the
// table and its partitions, and the down migration brings jsonb back with
// every row.
func TestEventDataKeptAsJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, m := migratedDownTo(t, 17)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	insert := func(position int64, data string) error {
		// The simple protocol, so that no statement prepared before the
		// migration fixes the parameter's type.
		_, err := conn.Exec(ctx, `INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
			VALUES ($1, gen_random_uuid(), 's', $1, 'T', 1, $2, '{}', '2026-01-15T00:00:00Z')`, pgx.QueryExecModeSimpleProtocol, position, data)
		return err
	}
	_, err = conn.Exec(ctx, `SELECT eventstore.ensure_partition('2026-01-15T00:00:00Z')`)
	require.NoError(t, err)
	require.NoError(t, insert(1, `{"b":1,"a":[true,null]}`))
	typeOf := func() string {
		var typ string
		require.NoError(t, conn.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'eventstore.events_2026_01'::regclass AND attname = 'data'`).Scan(&typ))
		return typ
	}
	data := func(position int64) string {
		var s string
		require.NoError(t, conn.QueryRow(ctx, `SELECT data::text FROM eventstore.events WHERE position = $1`, position).Scan(&s))
		return s
	}
	require.Equal(t, "jsonb", typeOf())

	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, "json", typeOf())
	require.Equal(t, `{"a": [true, null], "b": 1}`, data(1), "a row stored before keeps what jsonb made of it")
	require.NoError(t, insert(2, `{"z":{"y":2},"a":"x"}`))
	require.Equal(t, `{"z":{"y":2},"a":"x"}`, data(2), "a row stored after keeps its bytes")
	require.Error(t, insert(3, `[1]`), "data is still an object")
	require.Error(t, insert(3, `{"a":`), "and JSON")

	var lz4 bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&lz4))
	if lz4 {
		var methods []string
		require.NoError(t, conn.QueryRow(ctx, `SELECT array_agg(a.attcompression::text ORDER BY c.relname) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
			WHERE a.attname = 'data' AND (c.oid = 'eventstore.events'::regclass
				OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'eventstore.events'::regclass))`).Scan(&methods))
		require.Equal(t, []string{"l", "l"}, methods, "LZ4 on the table and its partition")
	}

	_, err = m.DownTo(ctx, 17)
	require.NoError(t, err)
	require.Equal(t, "jsonb", typeOf())
	require.Equal(t, `{"a": [true, null], "b": 1}`, data(1))
	require.Equal(t, `{"a": "x", "z": {"y": 2}}`, data(2))
}
