package migrate_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// Migration 00017 drops eventstore.streams: streams written by an older
// release, which kept a row per stream, continue at their versions, which
// event_ids holds, and its down migration rebuilds each stream's row from
// event_ids.
func TestStreamRowsDroppedAndRebuilt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, m := migratedDownTo(t, 16)

	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	exists := func() bool {
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('eventstore.streams') IS NOT NULL`).Scan(&ok))
		return ok
	}
	require.True(t, exists())

	// Two streams as an older release wrote them: events, their event_ids
	// rows and a row per stream.
	_, err = pool.Exec(ctx, `SELECT eventstore.ensure_partition(now())`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `WITH old AS (
		  INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
		  SELECT nextval('eventstore.position_seq'), gen_random_uuid(), s, v, 'Old', 1, '{}', '{}', now()
		  FROM (VALUES ('old-a', 1), ('old-a', 2), ('old-b', 1)) AS o(s, v)
		  RETURNING event_id, stream_id, version, position, recorded_at)
		INSERT INTO eventstore.event_ids (event_id, stream_id, version, position, recorded_at, content_hash)
		SELECT event_id, stream_id, version, position, recorded_at, '\x00' FROM old`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO eventstore.streams (stream_id, version, updated_at) VALUES ('old-a', 2, now()), ('old-b', 1, now())`)
	require.NoError(t, err)

	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.False(t, exists(), "up drops the table")

	store, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	v, err := store.StreamVersion(ctx, "old-a")
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	res, err := store.Append(ctx, "old-a", eventstore.Exact(2), eventstore.NewEvent{Type: "New", Data: []byte(`{}`)})
	require.NoError(t, err)
	require.Equal(t, int64(3), res.Version)
	_, err = store.Append(ctx, "old-a", eventstore.Exact(2), eventstore.NewEvent{Type: "Stale", Data: []byte(`{}`)})
	var conflict *eventstore.ConflictError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, int64(3), conflict.Actual)
	_, err = store.Append(ctx, "old-b", eventstore.NoStream, eventstore.NewEvent{Type: "Stale", Data: []byte(`{}`)})
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, int64(1), conflict.Actual)
	_, err = pool.Exec(ctx, `SELECT eventstore.grant_to_services()`)
	require.NoError(t, err, "the grant function names no dropped table")

	_, err = m.DownTo(ctx, 16)
	require.NoError(t, err)
	require.True(t, exists(), "down puts the table back")
	rows, err := pool.Query(ctx, `SELECT stream_id, version FROM eventstore.streams ORDER BY stream_id`)
	require.NoError(t, err)
	got := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		require.NoError(t, rows.Scan(&id, &v))
		got[id] = v
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int64{"old-a": 3, "old-b": 1}, got, "each stream's row rebuilt from event_ids")
	_, err = pool.Exec(ctx, `SELECT eventstore.grant_to_services()`)
	require.NoError(t, err)
}
