package pgclustertest_test

import (
	"context"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

func one[T any](t *testing.T, dsn, sql string, args ...any) T {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v T
	require.NoError(t, conn.QueryRow(ctx, sql, args...).Scan(&v))
	return v
}

func dbName(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	return strings.TrimPrefix(u.Path, "/")
}

func TestDatabaseIsMigrated(t *testing.T) {
	t.Parallel()
	dsn := pgclustertest.Database(t)
	require.Equal(t, migrate.Latest(), one[int64](t, dsn, "SELECT max(version_id) FROM "+migrate.TableName))
	require.Equal(t, 4, one[int](t, dsn, "SELECT count(*)::int FROM pg_namespace WHERE nspname IN ('api','engine','registry','support')"))
}

func TestDatabasesAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := pgclustertest.Database(t), pgclustertest.Database(t)
	require.NotEqual(t, dbName(t, a), dbName(t, b))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE engine.only_in_a (id int)")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	require.Equal(t, 1, one[int](t, a, "SELECT count(*)::int FROM pg_tables WHERE tablename = 'only_in_a'"))
	require.Equal(t, 0, one[int](t, b, "SELECT count(*)::int FROM pg_tables WHERE tablename = 'only_in_a'"))
}

func TestDatabaseIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("uses a database", func(t *testing.T) {
		name = dbName(t, pgclustertest.Database(t))
		require.Equal(t, 1, one[int](t, pgclustertest.AdminURL(t), "SELECT count(*)::int FROM pg_database WHERE datname = $1", name))
	})
	require.NotEmpty(t, name)
	require.Equal(t, 0, one[int](t, pgclustertest.AdminURL(t), "SELECT count(*)::int FROM pg_database WHERE datname = $1", name))
}

func TestEmptyDatabaseHasNoMigrations(t *testing.T) {
	t.Parallel()
	dsn := pgclustertest.EmptyDatabase(t)
	require.Equal(t, 0, one[int](t, dsn, "SELECT count(*)::int FROM pg_namespace WHERE nspname IN ('api','engine','registry','support')"))
}

func TestPoolConnects(t *testing.T) {
	t.Parallel()
	pool := pgclustertest.Pool(t)
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT 41 + 1").Scan(&n))
	require.Equal(t, 42, n)
}

func TestPackageDatabaseIsSharedAndMigrated(t *testing.T) {
	t.Parallel()
	a, b := pgclustertest.PackageDatabase(t), pgclustertest.PackageDatabase(t)
	require.Equal(t, a, b)
	require.NotEqual(t, dbName(t, a), dbName(t, pgclustertest.Database(t)))
	require.Equal(t, migrate.Latest(), one[int64](t, a, "SELECT max(version_id) FROM "+migrate.TableName))
	pool := pgclustertest.PackagePool(t)
	require.Same(t, pool, pgclustertest.PackagePool(t))
	var current string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT current_database()").Scan(&current))
	require.Equal(t, dbName(t, a), current)
}

// TestServerCPUGrowsWithWork: a statement that keeps its backend busy
// shows in the server's CPU time. (It is not timed: the figure only has
// to grow.)
func TestServerCPUGrowsWithWork(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the server's CPU is read from /proc")
	}
	if pgclustertest.Cluster(t) == nil {
		t.Skip("the tests run against DATABASE_URL, whose server's CPU is not readable here")
	}
	read, ok := pgclustertest.ServerCPU(t)
	require.True(t, ok)
	pool := pgclustertest.PackagePool(t)
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT 1").Scan(&n)) // a backend started before the first reading
	before := read()
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM generate_series(1, 3000000)").Scan(&n))
	require.Equal(t, int64(3000000), n)
	after := read()
	require.Greater(t, after, before)
	t.Logf("the server used %s of CPU meanwhile", after-before)
}
