package enginebench_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
	"github.com/aiflow/aiflow/internal/gcpolicy"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestMain(m *testing.M) {
	if os.Getenv(receiverEnv) != "" {
		serveReceiver() // this process is a benchmark's OTLP receiver
		return
	}
	// The benchmarks stand for aiflow's commands, whose collector is
	// paced so (GOGC=100 in the environment measures Go's default).
	stop, _ := gcpolicy.Start(os.LookupEnv)
	defer stop()
	pgclustertest.Main(m)
}

// postgresStore opens the engine's durable store on a fresh database of
// the package's PostgreSQL (fsync on), so executions an earlier run left
// open are not resumed into this one.
func postgresStore(tb testing.TB) engine.Store {
	tb.Helper()
	store, err := enginebench.OpenPostgres(context.Background(), pgclustertest.Pool(tb))
	require.NoError(tb, err)
	return store
}

func TestRunInMemory(t *testing.T) {
	t.Parallel()
	res, err := enginebench.Run(context.Background(), enginebench.Params{Store: engine.NewMemoryStore(), Executions: 200, InFlight: 50})
	require.NoError(t, err)
	require.Equal(t, 200, res.Executions)
	require.Equal(t, 50, res.InFlight)
	require.Equal(t, 200*enginebench.TransitionsPerExecution, res.Callbacks, "every task's latency")
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		require.Positive(t, res.CPUPerExecution())
	}
	require.Positive(t, res.ExecutionsPerSec)
	require.InDelta(t, 3*res.ExecutionsPerSec, res.TransitionsPerSec, 1e-6)
	require.Positive(t, res.LatencyP99)
	require.LessOrEqual(t, res.LatencyP50, res.LatencyP99)
	require.Equal(t, enginebench.DefaultWorkers, res.Workers)
	require.Positive(t, res.StoreCommits)
	require.GreaterOrEqual(t, res.CommitsPerCall(), 1.0)
	require.Positive(t, res.MeanCommit())
}

func TestRunDurable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := postgresStore(t)
	res, err := enginebench.Run(ctx, enginebench.Params{Store: store, Executions: 60, InFlight: 20})
	require.NoError(t, err)
	require.Equal(t, 60, res.Executions)
	require.Equal(t, 60*enginebench.TransitionsPerExecution, res.Callbacks)
	require.Positive(t, res.LatencyP99)

	// Every execution ended and its history is in PostgreSQL: an engine
	// started afresh on the store finds nothing to resume and reads each
	// history back, three tasks answered and the execution succeeded.
	open, err := store.OpenExecutions(ctx)
	require.NoError(t, err)
	require.Empty(t, open)
	sms, err := store.StateMachines(ctx)
	require.NoError(t, err)
	require.Len(t, sms, 1)
	recs, _, err := store.Executions(ctx, engine.ExecutionFilter{StateMachineARN: sms[0].ARN, Status: sfn.StatusSucceeded, Limit: 100})
	require.NoError(t, err)
	require.Len(t, recs, 60)

	e, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: recs[0].ARN, MaxResults: 1000})
	require.NoError(t, err)
	var succeeded []string
	for _, ev := range h.Events {
		if ev.Type == "TaskSucceeded" || ev.Type == "ExecutionSucceeded" {
			succeeded = append(succeeded, ev.Type)
		}
	}
	require.Equal(t, []string{"TaskSucceeded", "TaskSucceeded", "TaskSucceeded", "ExecutionSucceeded"}, succeeded)
}

// TestRunForDuration: with a Duration and no count, Run starts executions
// until the time is up and runs the ones in flight to their end.
func TestRunForDuration(t *testing.T) {
	t.Parallel()
	res, err := enginebench.Run(context.Background(), enginebench.Params{Store: engine.NewMemoryStore(), Duration: 200 * time.Millisecond, InFlight: 10})
	require.NoError(t, err)
	require.Positive(t, res.Executions)
	require.GreaterOrEqual(t, res.Elapsed, 200*time.Millisecond)
}

func TestRunNeedsAnEnd(t *testing.T) {
	t.Parallel()
	_, err := enginebench.Run(context.Background(), enginebench.Params{Store: engine.NewMemoryStore()})
	require.ErrorContains(t, err, "Executions or Duration must be positive")
}

// TestRunStopsWithItsContext: a cancelled run returns the context's error
// instead of counting its executions as failed.
func TestRunStopsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := enginebench.Run(ctx, enginebench.Params{Store: engine.NewMemoryStore(), Executions: 1000})
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), "failed")
}

func TestMeasureInFlight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) engine.Store
	}{
		{"memory", func(*testing.T) engine.Store { return engine.NewMemoryStore() }},
		{"postgres", func(t *testing.T) engine.Store { return postgresStore(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := enginebench.MeasureInFlight(context.Background(), tc.store(t), 200)
			require.NoError(t, err)
			require.Equal(t, 200, res.InFlight)
			require.Equal(t, res.HeapBytes/200, res.PerExecution)
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	m := enginebench.ThisMachine()
	require.Positive(t, m.Cores)
	require.Contains(t, m.String(), fmt.Sprintf("%d cores, %s/%s", m.Cores, m.OS, m.Arch))

	pg, err := enginebench.DescribePostgres(context.Background(), pgclustertest.PackagePool(t))
	require.NoError(t, err)
	require.Regexp(t, `^\d+(\.\d+)?$`, pg.Version)
	require.Equal(t, "on", pg.Fsync, "the throwaway cluster keeps fsync on")
	require.Equal(t, pg.Version+" (fsync=on, synchronous_commit="+pg.SynchronousCommit+")", pg.String())
}

// runBenchmark runs p once, max(b.N, p.InFlight) executions, and reports
// its numbers. ns/op, B/op and allocs/op are per execution, whatever b.N
// was: the benchmark reports them itself.
func runBenchmark(b *testing.B, p enginebench.Params) {
	p.Executions = max(b.N, p.InFlight)
	res := measure(b, p.Store, func() (enginebench.Result, error) { return enginebench.Run(context.Background(), p) })
	b.ReportMetric(res.TransitionsPerSec, "transitions/s")
	b.ReportMetric(float64(res.LatencyP50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(res.LatencyP99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(res.MeanCommit().Microseconds()), "µs/group")
}

// measure runs one run on store and reports, per execution, its time,
// bytes and allocations, its CPU, and its rate and group commits; it
// returns the run's result for more.
//
// With the PostgreSQL store it reports the server's CPU per execution
// too, pg-cpu-µs/execution (pgclustertest.ServerCPU; not against
// DATABASE_URL): everything the server did from the run's start to its
// end, its background processes' work included, and the engine's start
// and state machine's creation, a few statements against the run's
// thousands of executions. With cpu-µs/execution it makes about the
// machine's CPU per execution, which `perf stat` of the test binary
// counted before.
func measure(b *testing.B, store engine.Store, run func() (enginebench.Result, error)) enginebench.Result {
	b.ReportAllocs()
	reportServerCPU := func(int, string) {}
	printStatements := func(io.Writer, int) {}
	if _, inMemory := store.(*engine.MemoryStore); !inMemory {
		reportServerCPU = pgclustertest.CountServerCPU(b)
		if os.Getenv(pgclustertest.StatementsEnv) == "1" {
			// The server's statements, every database's, per execution.
			printStatements = pgclustertest.StatementStats(b, pgclustertest.PackagePool(b))
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := run()
	runtime.ReadMemStats(&after)
	if err != nil {
		b.Fatal(err)
	}
	reportServerCPU(res.Executions, "execution")
	printStatements(os.Stdout, res.Executions)
	n := float64(res.Executions)
	b.ReportMetric(float64(res.Elapsed.Nanoseconds())/n, "ns/op")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/op")
	b.ReportMetric(res.ExecutionsPerSec, "executions/s")
	b.ReportMetric(float64(res.CPUPerExecution().Microseconds()), "cpu-µs/execution")
	b.ReportMetric(res.CommitsPerCall(), "commits/group")
	return res
}

// BenchmarkEngineInMemory reports executions/s of the three-task echo
// workflow with the memory store, at 1,000 and 10,000 executions in
// flight.
func BenchmarkEngineInMemory(b *testing.B) {
	for _, inFlight := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) {
			runBenchmark(b, enginebench.Params{Store: engine.NewMemoryStore(), InFlight: inFlight})
		})
	}
}

// BenchmarkEngineDurable is BenchmarkEngineInMemory with the engine's
// PostgreSQL store (fsync on): every transition is in the event store
// before the engine acts on it. Each in-flight level has its own
// database; every run's executions end, so none is resumed by the next.
func BenchmarkEngineDurable(b *testing.B) {
	for _, inFlight := range []int{1000, 10000} {
		store := postgresStore(b)
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) {
			runBenchmark(b, enginebench.Params{Store: store, InFlight: inFlight})
		})
	}
}

// BenchmarkInFlightMemory holds 1,000 and 10,000 executions open at once
// (their first task's message never answered) and reports the live Go
// heap they take, per execution, measured with runtime.ReadMemStats after
// GC. With PostgreSQL the histories are in the database, whose memory is
// not counted.
func BenchmarkInFlightMemory(b *testing.B) {
	for _, name := range []string{"memory", "postgres"} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("store=%s/inflight=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				var res enginebench.MemoryResult
				for range b.N {
					b.StopTimer()
					var store engine.Store = engine.NewMemoryStore()
					if name == "postgres" {
						store = postgresStore(b)
					}
					b.StartTimer()
					var err error
					if res, err = enginebench.MeasureInFlight(context.Background(), store, n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(res.PerExecution), "B/execution")
				b.ReportMetric(float64(res.HeapBytes)/(1<<20), "MiB")
				b.ReportMetric(float64(n)/res.Elapsed.Seconds(), "starts/s")
			})
		}
	}
}

// BenchmarkPeers runs the peers' workload (three Task states whose
// function echoes its input, in the engine's process, 1,000 in flight)
// on the memory store and on the PostgreSQL store, as `make compare`
// does; give it -benchtime=10000x or more.
func BenchmarkPeers(b *testing.B) {
	for _, name := range []string{"memory", "postgres"} {
		b.Run("store="+name, func(b *testing.B) {
			var store engine.Store = engine.NewMemoryStore()
			if name == "postgres" {
				store = postgresStore(b)
			}
			measure(b, store, func() (enginebench.Result, error) {
				return enginebench.RunPeers(context.Background(), enginebench.PeersParams{Store: store, Executions: max(b.N, 1000), InFlight: 1000})
			})
		})
	}
}

// BenchmarkPeersGrown is BenchmarkPeers durable on a store that has run the
// workload before: grown executions of it (four commits each) are stored
// when the measured ones start, as in a deployment that has run for a
// while (the event store only grows). A fresh database, as BenchmarkPeers
// has, keeps every index in memory and recently touched, and hides what
// each commit costs a large one.
//
//	go test ./internal/enginebench -run '^$' -bench PeersGrown -benchtime 20000x
func BenchmarkPeersGrown(b *testing.B) {
	const grown = 250_000
	b.Run(fmt.Sprintf("grown=%d", grown), func(b *testing.B) {
		ctx := context.Background()
		pool := pgclustertest.Pool(b)
		store, err := enginebench.OpenPostgres(ctx, pool)
		require.NoError(b, err)
		_, err = enginebench.RunPeers(ctx, enginebench.PeersParams{Store: store, Executions: grown, InFlight: 1000})
		require.NoError(b, err)
		_, err = pool.Exec(ctx, "CHECKPOINT")
		require.NoError(b, err)
		measure(b, store, func() (enginebench.Result, error) {
			return enginebench.RunPeers(ctx, enginebench.PeersParams{Store: store, Executions: max(b.N, 1000), InFlight: 1000})
		})
	})
}
