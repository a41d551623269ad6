package eventstore

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// explainedPool is a pool of one connection on which PostgreSQL's
// auto_explain sends the plan of every statement, with the rows each node
// produced, to the client; plans returns those received since the last
// call. It skips the test where the server has no auto_explain.
func explainedPool(t *testing.T) (*pgxpool.Pool, func() []string) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	cfg, err := pgxpool.ParseConfig(pgclustertest.PackageDatabase(t))
	require.NoError(t, err)
	cfg.MaxConns = 1 // the settings below are the connection's
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if strings.Contains(n.Message, "plan:") {
			mu.Lock()
			got = append(got, n.Message)
			mu.Unlock()
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `LOAD 'auto_explain'`); err != nil {
		t.Skipf("the server has no auto_explain to show plans: %v", err)
	}
	for _, set := range []string{
		`SET auto_explain.log_min_duration = 0`, `SET auto_explain.log_analyze = on`,
		`SET auto_explain.log_timing = off`, `SET auto_explain.log_level = notice`,
	} {
		_, err := pool.Exec(ctx, set)
		require.NoError(t, err)
	}
	return pool, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
}

// appendPlan returns, of plans, the one of the append statement.
func appendPlan(t *testing.T, plans []string) string {
	t.Helper()
	for _, p := range plans {
		if strings.Contains(p, "INSERT INTO eventstore.event_ids") {
			return p
		}
	}
	require.Fail(t, "no plan of the append statement", "%d plans", len(plans))
	return ""
}

// TestAppendOfKnownStreamsComputesNoVersions: an append whose every
// expectation is a version the store knows stored takes each event's
// version from its parameters, and PostgreSQL never computes the versions
// of its streams (no row per stream); one whose expectation the store does
// not know computes them, probing each stream, and both store the same
// versions.
func TestAppendOfKnownStreamsComputesNoVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, plans := explainedPool(t)
	s, err := Open(ctx, pool, Options{})
	require.NoError(t, err)
	x, y, z := fastStream(t), fastStream(t), fastStream(t)

	_, err = s.AppendMany(ctx, []AppendRequest{
		{StreamID: x, Expected: NoStream, Events: fastEvents("X1", "X2")},
		{StreamID: y, Expected: NoStream, Events: fastEvents("Y1")},
	})
	require.NoError(t, err)
	plans()

	res, err := s.AppendMany(ctx, []AppendRequest{
		{StreamID: x, Expected: Exact(2), Events: fastEvents("X3", "X4")},
		{StreamID: y, Expected: Exact(1), Events: fastEvents("Y2")},
	})
	require.NoError(t, err)
	require.Equal(t, []int64{3, 4}, []int64{res[0].Events[0].Version, res[0].Events[1].Version})
	require.Equal(t, int64(2), res[1].Version)
	plan := appendPlan(t, plans())
	require.Regexp(t, `Function Scan on u .*\(never executed\)`, plan, "the versions of known streams are not computed")

	// z's expectation is not known stored (another store appended to it):
	// the versions are computed, one row per stream, and z probed.
	other, err := Open(ctx, pool, Options{})
	require.NoError(t, err)
	_, err = other.Append(ctx, z, NoStream, fastEvents("Z1")...)
	require.NoError(t, err)
	plans()
	res, err = s.AppendMany(ctx, []AppendRequest{
		{StreamID: x, Expected: Exact(4), Events: fastEvents("X5")},
		{StreamID: z, Expected: Exact(1), Events: fastEvents("Z2", "Z3")},
	})
	require.NoError(t, err)
	require.Equal(t, int64(5), res[0].Version)
	require.Equal(t, []int64{2, 3}, []int64{res[1].Events[0].Version, res[1].Events[1].Version})
	plan = appendPlan(t, plans())
	require.Regexp(t, `Function Scan on u .*\(actual rows=2 loops=1\)`, plan, "the versions of both streams are computed")

	for stream, want := range map[string]int64{x: 5, y: 2, z: 3} {
		evs, err := s.ReadStream(ctx, stream, ReadStreamOptions{})
		require.NoError(t, err)
		require.Len(t, evs, int(want))
		for i, e := range evs {
			require.Equal(t, int64(i+1), e.Version, "stream %s", stream)
		}
	}
}
