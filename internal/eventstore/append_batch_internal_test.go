package eventstore

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestAppendFastInEveryQueryMode: the fast path stores the same events,
// leaves the same cases to the slow path and runs in the caller's
// transaction whatever pgx query mode the pool's connections use, and
// keeps prepared statements on the server only in the mode that caches
// them.
func TestAppendFastInEveryQueryMode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mode     pgx.QueryExecMode
		prepared int64
	}{
		{pgx.QueryExecModeCacheStatement, 3},
		{pgx.QueryExecModeCacheDescribe, 0},
		{pgx.QueryExecModeDescribeExec, 0},
		{pgx.QueryExecModeExec, 0},
		{pgx.QueryExecModeSimpleProtocol, 0},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, err := pgxpool.ParseConfig(pgclustertest.PackageDatabase(t))
			require.NoError(t, err)
			cfg.ConnConfig.DefaultQueryExecMode = c.mode
			cfg.MaxConns = 1 // one connection: its prepared statements are the pool's
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			s, err := Open(ctx, pool, Options{})
			require.NoError(t, err)

			a, b, fresh := fastStream(t), fastStream(t), fastStream(t)
			_, err = s.Append(ctx, a, NoStream, fastEvents("A1")...)
			require.NoError(t, err)
			_, err = s.Append(ctx, b, NoStream, fastEvents("B1")...)
			require.NoError(t, err)
			big := jsonObject(t, map[string]any{"text": large, "list": []any{1, "ü", nil}})
			given := []AppendRequest{
				{StreamID: fresh, Expected: NoStream, Events: []NewEvent{
					{Type: "Fresh", Data: big, Metadata: Metadata{CorrelationID: "corr-é", Actor: "user:åsa"}},
				}},
				{StreamID: b, Expected: Any, Events: fastEvents("B2", "B3")},
				{StreamID: a, Expected: Exact(1), Events: []NewEvent{{Type: "A2", Data: json.RawMessage(`{"greeting":"héllo ✓ 🎉"}`), SchemaVersion: 2}}},
			}
			// Two streams that exist: the lock statement runs too.
			res, ok := appendFastOnly(t, s, given)
			require.True(t, ok)
			for i, r := range res {
				stored, err := s.ReadStream(ctx, r.StreamID, ReadStreamOptions{})
				require.NoError(t, err)
				stored = stored[len(stored)-len(r.Events):]
				for j, e := range r.Events {
					require.Equal(t, e.ID, stored[j].ID)
					require.Equal(t, e.Version, stored[j].Version)
					require.Equal(t, e.Position, stored[j].Position)
					require.Equal(t, e.TxID, stored[j].TxID)
					require.Equal(t, e.Type, stored[j].Type)
					require.Equal(t, e.SchemaVersion, stored[j].SchemaVersion)
					require.Equal(t, given[i].Events[j].Metadata, stored[j].Metadata)
					require.JSONEq(t, string(given[i].Events[j].Data), string(stored[j].Data))
				}
			}
			require.Equal(t, []int64{1, 3, 2}, []int64{res[0].Version, res[1].Version, res[2].Version})

			// A stale version: nothing written, the slow path reports it.
			stale := []AppendRequest{{StreamID: fastStream(t), Expected: NoStream, Events: fastEvents("X")}, {StreamID: a, Expected: Exact(1), Events: fastEvents("X")}}
			_, ok = appendFastOnly(t, s, stale)
			require.False(t, ok)
			_, err = s.AppendMany(ctx, stale)
			require.ErrorIs(t, err, ErrConflict)

			// In the caller's transaction, with its own statement.
			var also int
			_, err = s.AppendManyWith(ctx, []AppendRequest{{StreamID: a, Expected: Exact(2), Events: fastEvents("A3")}},
				func(ctx context.Context, tx pgx.Tx) error { return tx.QueryRow(ctx, "SELECT 7").Scan(&also) })
			require.NoError(t, err)
			require.Equal(t, 7, also)
			v, err := s.StreamVersion(ctx, a)
			require.NoError(t, err)
			require.Equal(t, int64(3), v)

			var prepared int64
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'aiflow_eventstore_append%'`).Scan(&prepared))
			require.Equal(t, c.prepared, prepared)
		})
	}
}

// TestRunAppendWithAnEndedContext: an append whose context has ended
// sends nothing, says why, and leaves its connection fit for the next.
func TestRunAppendWithAnEndedContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgclustertest.PackageDatabase(t))
	require.NoError(t, err)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := Open(ctx, pool, Options{})
	require.NoError(t, err)
	id := fastStream(t)
	_, err = s.Append(ctx, id, NoStream, fastEvents("A1")...) // prepares the statements
	require.NoError(t, err)

	batch, _, err := s.prepareBatch([]AppendRequest{{StreamID: id, Expected: Exact(1), Events: fastEvents("A2")}}, true)
	require.NoError(t, err)
	p := &appendParams{}
	require.NoError(t, p.encode(batch, []int{0}, 1, s.now().UTC().Truncate(time.Microsecond)))
	ended, cancel := context.WithCancel(ctx)
	cancel()
	c, err := pool.Acquire(ctx)
	require.NoError(t, err)
	_, _, _, err = s.runAppend(ended, c.Conn(), p, false, nil)
	c.Release()
	require.ErrorIs(t, err, context.Canceled)

	v, err := s.StreamVersion(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(1), v, "nothing written")
	_, err = s.Append(ctx, id, Exact(1), fastEvents("A2")...)
	require.NoError(t, err)
}
