package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// benchRows parses the table `aiflow bench` prints: a measure, two or
// more spaces, its value.
func benchRows(t *testing.T, out string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for line := range strings.Lines(strings.TrimSpace(out)) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "  ")
		require.True(t, ok, "a table row: %q", line)
		rows[k] = strings.TrimSpace(v)
	}
	return rows
}

// requireBenchTable checks every field of the table, not the speed.
func requireBenchTable(t *testing.T, out string, executions, inFlight int) map[string]string {
	t.Helper()
	rows := benchRows(t, out)
	require.Contains(t, rows["workload"], "3 Task states per execution")
	require.Contains(t, rows["machine"], fmt.Sprintf("%d cores, %s/%s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH))
	require.Regexp(t, fmt.Sprintf(`^%d in \S+, %d in flight, \d+ workers$`, executions, inFlight), rows["executions"])
	require.Regexp(t, `^\d+$`, rows["executions/s"])
	require.Regexp(t, `^\d+$`, rows["transitions/s"])
	latency := `^[0-9.]+(ns|µs|ms|s)$`
	require.Regexp(t, latency, rows["p50 dispatch→callback"])
	require.Regexp(t, latency, rows["p99 dispatch→callback"])
	require.Regexp(t, `^[0-9.]+(ns|µs|ms|s) \(this process\)$|^unknown on this system$`, rows["CPU per execution"])
	require.Regexp(t, `^\d+ Store.Commit calls of [0-9.]+ commits, [0-9.]+(ns|µs|ms|s) each, [0-9.]+ in progress on average$`, rows["group commits"])
	require.Regexp(t, fmt.Sprintf(`^[0-9.]+ (B|KiB|MiB) \(%d held open: [0-9.]+ (B|KiB|MiB|GiB) of Go heap\)$`, inFlight), rows["memory per in-flight execution"])
	require.Len(t, rows, 12, "no other rows:\n%s", out)
	return rows
}

func TestBenchInMemory(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	code := run(context.Background(), []string{"bench", "--executions", "20", "--in-flight", "5"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	rows := requireBenchTable(t, te.stdout.String(), 20, 5)
	require.Contains(t, rows["executions"], ", 1000 workers")
	require.Equal(t, "memory (engine.NewMemoryStore)", rows["store"])
	require.Equal(t, "none (memory store)", rows["PostgreSQL"])
}

// TestBenchPostgresOnDatabaseURL: with DATABASE_URL the run works in a
// scratch database on that server and drops it after.
func TestBenchPostgresOnDatabaseURL(t *testing.T) {
	t.Parallel()
	admin := pgclustertest.AdminURL(t)
	te := newTestEnv(map[string]string{"DATABASE_URL": admin})
	code := run(context.Background(), []string{"bench", "engine", "--store", "postgres", "--executions", "12", "--in-flight", "4", "--workers", "2"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	rows := requireBenchTable(t, te.stdout.String(), 12, 4)
	require.Equal(t, "postgres, a scratch database on DATABASE_URL", rows["store"])
	require.Contains(t, rows["executions"], ", 2 workers")
	require.Regexp(t, `^\d+(\.\d+)? \(fsync=on, synchronous_commit=on\)$`, rows["PostgreSQL"])

	m := regexp.MustCompile(`scratch database (aiflow_bench_[0-9a-f]+), dropped after`).FindStringSubmatch(te.stderr.String())
	require.NotNil(t, m, te.stderr.String())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, m[1]).Scan(&exists))
	require.False(t, exists, "the scratch database %s is dropped", m[1])
}

// TestBenchPostgresThrowawayCluster: without DATABASE_URL the run starts a
// throwaway cluster and removes it.
func TestBenchPostgresThrowawayCluster(t *testing.T) {
	t.Parallel()
	vars := map[string]string{}
	if dir, ok := os.LookupEnv("AIFLOW_PG_BINDIR"); ok {
		vars["AIFLOW_PG_BINDIR"] = dir
	}
	te := newTestEnv(vars)
	code := run(context.Background(), []string{"bench", "--store=postgres", "--executions=9", "--in-flight=3", "--duration=1m"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	rows := requireBenchTable(t, te.stdout.String(), 9, 3)
	require.Equal(t, "postgres, a throwaway cluster", rows["store"])
	require.Contains(t, rows["PostgreSQL"], "(fsync=on, ")

	m := regexp.MustCompile(`a throwaway cluster in (\S+), removed after`).FindStringSubmatch(te.stderr.String())
	require.NotNil(t, m, te.stderr.String())
	require.NoDirExists(t, m[1])
}

func TestBenchUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"UnknownBenchmark", []string{"bench", "queue"}, `the only benchmark is engine, got ["queue"]`},
		{"UnknownStore", []string{"bench", "--store", "sqlite"}, `--store "sqlite" is not memory or postgres`},
		{"NegativeExecutions", []string{"bench", "engine", "--executions", "-1"}, "--executions -1 is negative"},
		{"NoneInFlight", []string{"bench", "--in-flight", "0"}, "--in-flight 0 must be at least 1"},
		{"NegativeDuration", []string{"bench", "--duration", "-1s"}, "--duration -1s is negative"},
		{"NoWorkers", []string{"bench", "--workers", "0"}, "--workers 0 must be at least 1"},
		{"UnknownFlag", []string{"bench", "--fast"}, "flag provided but not defined: -fast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			te := newTestEnv(nil)
			require.Equal(t, 2, run(context.Background(), tc.args, te.env()))
			require.Contains(t, te.stderr.String(), tc.want)
			require.Contains(t, te.stderr.String(), "usage: aiflow bench [engine]")
			require.Empty(t, te.stdout.String())
		})
	}

	te := newTestEnv(nil)
	require.Equal(t, 0, run(context.Background(), []string{"bench", "--help"}, te.env()))
	require.Contains(t, te.stdout.String(), "usage: aiflow bench [engine] [--store memory|postgres]")
	require.Contains(t, te.stdout.String(), "-in-flight")

	te = newTestEnv(map[string]string{"DATABASE_URL": "mysql://root:topsecret@db/x"})
	require.Equal(t, 2, run(context.Background(), []string{"bench"}, te.env()))
	require.Contains(t, te.stderr.String(), "aiflow bench: 1 configuration problem")
	require.NotContains(t, te.stderr.String(), "topsecret")
}
