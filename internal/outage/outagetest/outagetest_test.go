package outagetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/outage"
	"github.com/aiflow/aiflow/internal/outage/outagetest"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// TestProxyCutMakesTheDatabaseUnavailable: a pool through a cut proxy
// fails with an error of the unavailable class, and works again once the
// proxy is restored.
func TestProxyCutMakesTheDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	proxy, u := outagetest.ProxyURL(t, pgclustertest.Database(t))
	pool, err := pgxpool.New(t.Context(), u)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pool.Ping(t.Context()))

	proxy.Cut()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var one int
	err = pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
	require.Error(t, err)
	require.True(t, outage.Is(err), "%v", err)
	require.ErrorIs(t, outage.Classify(err), outage.ErrUnavailable)

	require.NoError(t, proxy.Restore())
	require.Eventually(t, func() bool { return pool.Ping(t.Context()) == nil }, 30*time.Second, 20*time.Millisecond)
}
