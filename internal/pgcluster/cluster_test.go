package pgcluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func binaries(t *testing.T) pgcluster.Binaries {
	t.Helper()
	bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
	require.NoError(t, err)
	return bins
}

func query(t *testing.T, url, sql string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, sql, args...).Scan(&n))
	return n
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(t, err)
}

func TestThrowawayClusterStartsAndIsRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: binaries(t)})
	require.NoError(t, err)
	t.Logf("throwaway cluster ready in %s", time.Since(start))
	t.Cleanup(func() { _ = c.Stop(ctx) })

	require.True(t, c.Throwaway())
	require.DirExists(t, c.Dir())
	require.Equal(t, 1, query(t, c.URL("postgres"), "SELECT 1"))
	require.Equal(t, 1, query(t, c.URL("postgres"), "SELECT CASE WHEN current_setting('fsync') = 'on' THEN 1 ELSE 0 END"))
	// Only a private socket: no TCP listener.
	require.Equal(t, 1, query(t, c.URL("postgres"), "SELECT CASE WHEN current_setting('listen_addresses') = '' THEN 1 ELSE 0 END"))

	require.NoError(t, c.EnsureDatabase(ctx, "app"))
	require.NoError(t, c.EnsureDatabase(ctx, "app"), "a second call finds it")
	exec(t, c.URL("app"), "CREATE TABLE t (id int)")

	server, err := c.ServerProcesses()
	if runtime.GOOS == "linux" {
		require.NoError(t, err)
		cpu, err := server.CPU()
		require.NoError(t, err)
		require.Positive(t, cpu, "the server has started")
		server.Close()
	} else {
		require.ErrorIs(t, err, errors.ErrUnsupported)
	}

	require.NoError(t, c.Stop(ctx))
	require.NoDirExists(t, c.Dir(), "Stop removes a throwaway cluster")
	_, err = c.ServerProcesses()
	require.ErrorContains(t, err, "no server runs there", "a stopped server has no CPU time to read")
	require.NoError(t, c.Stop(ctx), "Stop twice is harmless")
}

func TestPersistentClusterKeepsDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(pgclustertest.ReachableTempDir(t), "pg")
	bins := binaries(t)

	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir})
	require.NoError(t, err)
	require.False(t, c.Throwaway())
	port := c.Port()
	require.NoError(t, c.EnsureDatabase(ctx, "aiflow"))
	exec(t, c.URL("aiflow"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')")
	require.NoError(t, c.Stop(ctx))
	require.DirExists(t, filepath.Join(dir, "data"), "Stop keeps a persistent cluster")

	c2, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c2.Stop(ctx) })
	require.Equal(t, port, c2.Port(), "the port of the last run is reused when free")
	require.Equal(t, 1, query(t, c2.URL("aiflow"), "SELECT count(*)::int FROM kept WHERE v = 'survives'"))

	// Loopback TCP with password authentication: no password, no entry.
	_, err = pgx.Connect(ctx, "postgres://postgres@127.0.0.1:"+strconv.Itoa(c2.Port())+"/aiflow?sslmode=disable")
	require.Error(t, err)
	require.Contains(t, err.Error(), "password")

	// TLS as Aurora offers it: sslmode=require connects, over TLS.
	u := strings.Replace(c2.URL("aiflow"), "sslmode=disable", "sslmode=require", 1)
	require.Equal(t, 1, query(t, u, "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
}

func TestStartSweepsClustersOfDeadProcesses(t *testing.T) {
	t.Parallel()
	stale, err := os.MkdirTemp("", "aiflow-pg-")
	require.NoError(t, err)
	// A pid far above any pid_max in use: no such process.
	require.NoError(t, os.WriteFile(filepath.Join(stale, "owner.pid"), []byte("2147483646"), 0o600))

	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: binaries(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Stop(ctx) })
	require.NoDirExists(t, stale)
}

func TestStartReportsTheServerLogWhenPostgresFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bins := binaries(t)
	dir := filepath.Join(pgclustertest.ReachableTempDir(t), "pg")
	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir})
	require.NoError(t, err)
	require.NoError(t, c.Stop(ctx))

	// A configuration the server refuses: the error carries the end of
	// the server log.
	f, err := os.OpenFile(filepath.Join(dir, "data", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("this is not a setting\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir, ReadyTimeout: 20 * time.Second})
	require.Error(t, err)
	require.Contains(t, err.Error(), "postgres.log")
	require.Contains(t, err.Error(), "syntax error")
}

// TestStartUsesARunningCluster: a second Start on a folder whose server
// runs (aiflow dev's, while another command needs the database) uses that
// server, writes no port file and starts no second server; its Stop
// leaves the server to the first.
func TestStartUsesARunningCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bins := binaries(t)
	dir := filepath.Join(pgclustertest.ReachableTempDir(t), "pg")
	first, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Stop(ctx) })
	require.False(t, first.Attached())
	require.NoError(t, first.EnsureDatabase(ctx, "aiflow"))
	portFile := filepath.Join(dir, "port")
	before, err := os.Stat(portFile)
	require.NoError(t, err)

	second, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir})
	require.NoError(t, err)
	require.True(t, second.Attached())
	require.Equal(t, first.Port(), second.Port())
	require.Equal(t, 1, query(t, second.URL("aiflow"), "SELECT 1"))
	after, err := os.Stat(portFile)
	require.NoError(t, err)
	require.Equal(t, before.ModTime(), after.ModTime(), "the port file is not written again")

	require.NoError(t, second.Stop(ctx))
	require.Equal(t, 1, query(t, first.URL("aiflow"), "SELECT 1"), "the second Stop left the first's server running")
}

// BenchmarkStartThrowaway is what a test package pays once for its cluster:
// initdb, server start, first connection, and the stop and removal.
func BenchmarkStartThrowaway(b *testing.B) {
	bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSettingsAndStatementStats: Options.Settings reach the server, and
// with pg_stat_statements preloaded that way (what the environment
// variable pgclustertest.StatementsEnv does for a package's cluster),
// StatementStats reports the statements run since it was called, per op.
func TestSettingsAndStatementStats(t *testing.T) {
	t.Setenv(pgclustertest.StatementsEnv, "1")
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: binaries(t), Settings: map[string]string{
		"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all", "work_mem": "7MB",
	}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Stop(ctx) })
	require.Equal(t, 7*1024, query(t, c.URL("postgres"), "SELECT setting::int FROM pg_settings WHERE name = 'work_mem'"))

	pool, err := pgxpool.New(ctx, c.URL("postgres"))
	require.NoError(t, err)
	defer pool.Close()
	report := pgclustertest.StatementStats(t, pool)
	for range 4 {
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT 40 + $1::int", 2).Scan(&n))
	}
	var out strings.Builder
	report(&out, 2)
	require.Contains(t, out.String(), "statements per op, 2 ops")
	require.Regexp(t, `(?m)^ +2\.0000 +2\.0000 +[0-9.]+ +0\.0  SELECT \$\d \+ \$\d::int$`, out.String())
}

// TestServerProcessesOfNoServer: a folder where no server runs has no server's
// CPU to read, whether it never held one or holds the postmaster.pid of a
// server that crashed. (The CPU of a running server is read in
// pgclustertest's tests, on its throwaway cluster.)
func TestServerProcessesOfNoServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := pgcluster.ServerProcesses(dir)
	require.ErrorContains(t, err, "no server runs there (no postmaster.pid)")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte("2147483647\n"+dir+"\n"), 0o600))
	_, err = pgcluster.ServerProcesses(dir)
	require.ErrorContains(t, err, "names process 2147483647, which is not running")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte("garbage\n"), 0o600))
	_, err = pgcluster.ServerProcesses(dir)
	require.ErrorContains(t, err, "does not start with a process id")
}
