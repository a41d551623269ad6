package pgclustertest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/procstat"
)

// ServerCPU returns a function that reads the CPU time the throwaway
// cluster's server has used so far, its postmaster and every process it
// started (see pgcluster.ServerProcesses), and fails tb when it cannot. A
// benchmark reads it around what it measures for the server's CPU per
// operation; it is the CPU of everything the server did meanwhile, the
// background processes' too (the WAL writer, the checkpointer,
// autovacuum), which work for every statement of the time together. A
// reading allocates nothing while the server keeps its processes; the
// function is not safe for concurrent use.
//
// ok is false, with the reason logged, when there is nothing to read:
// the tests run against DATABASE_URL, whose server's processes this
// process does not know, or the system has no /proc. The benchmark then
// reports no figure rather than a zero.
func ServerCPU(tb testing.TB) (read func() time.Duration, ok bool) {
	tb.Helper()
	usage, ok := ServerUsage(tb)
	if !ok {
		return nil, false
	}
	return func() time.Duration { return usage().CPU }, true
}

// ServerUsage is ServerCPU with the server's minor page faults too, read
// in the same reading (procstat.Tree.Usage).
func ServerUsage(tb testing.TB) (read func() procstat.Usage, ok bool) {
	tb.Helper()
	c := Cluster(tb)
	if c == nil {
		tb.Logf("pgclustertest: the server's CPU is not measured: the tests run against DATABASE_URL, whose server's processes are not this process's to read")
		return nil, false
	}
	server, err := c.ServerProcesses()
	if err != nil {
		tb.Logf("pgclustertest: the server's CPU is not measured: %v", err)
		return nil, false
	}
	tb.Cleanup(server.Close)
	return func() procstat.Usage {
		u, err := server.Usage()
		if err != nil {
			tb.Fatalf("pgclustertest: %v", err)
		}
		return u
	}, true
}

// CountServerCPU starts counting the throwaway cluster's server's CPU
// (see ServerCPU) and returns a function that reports, with
// b.ReportMetric, what it used since per op of n, as pg-cpu-µs/<op>. A
// benchmark calls it once its setup is done and the function when its
// loop has ended. Where ServerCPU has nothing to read, the function
// reports nothing.
func CountServerCPU(b *testing.B) func(n int, op string) {
	b.Helper()
	read, ok := ServerCPU(b)
	if !ok {
		return func(int, string) {}
	}
	start := read()
	return func(n int, op string) {
		used := read() - start
		b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(n), "pg-cpu-µs/"+op)
	}
}

// WALInsertLSN returns the server's current WAL insert position, in
// bytes. On the throwaway cluster (no DATABASE_URL) nothing else writes,
// so the difference around what a benchmark measures is the WAL it wrote,
// give or take a background write.
func WALInsertLSN(tb testing.TB, pool *pgxpool.Pool) int64 {
	tb.Helper()
	var lsn int64
	if err := pool.QueryRow(context.Background(), `SELECT pg_current_wal_insert_lsn() - '0/0'`).Scan(&lsn); err != nil {
		tb.Fatalf("pgclustertest: reading the WAL position: %v", err)
	}
	return lsn
}
