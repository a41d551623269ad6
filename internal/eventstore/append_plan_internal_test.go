package eventstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestAppendStatementKeepsOneGenericPlan: on a connection that caches
// statements, PostgreSQL plans the prepared append statement for the first
// five executions' values, then settles on one plan for every append,
// whatever its number of streams, instead of planning each anew.
func TestAppendStatementKeepsOneGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgclustertest.PackageDatabase(t))
	require.NoError(t, err)
	cfg.MaxConns = 1 // one connection: its prepared statement is the pool's
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := Open(ctx, pool, Options{})
	require.NoError(t, err)
	require.True(t, s.prepares)

	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fastStream(t)
	}
	const appends = 16
	for k := range appends {
		n := 1 // ten appends to one stream, then six to twenty
		if k >= 10 {
			n = len(ids)
		}
		reqs := make([]AppendRequest, n)
		for i := range reqs {
			reqs[i] = AppendRequest{StreamID: ids[i], Expected: Any, Events: fastEvents(fmt.Sprintf("E%d", k))}
		}
		_, err := s.AppendMany(ctx, reqs)
		require.NoError(t, err)
	}
	var generic, custom int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1`, appendStatementName).Scan(&generic, &custom))
	require.Equal(t, int64(5), custom, "planned for its values five times")
	require.Equal(t, int64(appends-5), generic, "then one plan for all")
}
