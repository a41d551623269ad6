package migrate_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Migration 00016 compresses events' data with LZ4 in the events table, in
// the partitions that exist when it runs and in those made after, and its
// down migration puts the default back.
func TestEventDataCompressedWithLZ4(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, m := migratedDownTo(t, 14)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var lz4 bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&lz4))
	if !lz4 {
		t.Skip("the server is built without LZ4; the migration leaves pglz")
	}
	_, err = conn.Exec(ctx, `SELECT eventstore.ensure_partition('2026-01-15T00:00:00Z')`)
	require.NoError(t, err)
	compression := func() map[string]string {
		rows, err := conn.Query(ctx, `SELECT c.relname, a.attcompression::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
			WHERE a.attname = 'data' AND (c.oid = 'eventstore.events'::regclass
				OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'eventstore.events'::regclass))`)
		require.NoError(t, err)
		got := map[string]string{}
		for rows.Next() {
			var rel, method string
			require.NoError(t, rows.Scan(&rel, &method))
			got[rel] = method
		}
		require.NoError(t, rows.Err())
		return got
	}
	require.Equal(t, map[string]string{"events": "", "events_2026_01": ""}, compression(), "the default before")

	_, err = m.Up(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SELECT eventstore.ensure_partition('2026-02-15T00:00:00Z')`)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"events": "l", "events_2026_01": "l", "events_2026_02": "l"}, compression(),
		"LZ4 in the table, the partition that existed and the one made after")

	_, err = m.DownTo(ctx, 14)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"events": "", "events_2026_01": "", "events_2026_02": ""}, compression(), "the default after down")
}
