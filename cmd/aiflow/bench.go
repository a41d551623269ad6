package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
)

const benchUsage = `usage: aiflow bench [engine] [--store memory|postgres] [--executions N] [--in-flight N] [--duration D] [--workers N]

Runs the local engine's benchmark: executions of three Task states, each
sent through the in-process queue to a worker that echoes its input back
with SendTaskSuccess. It prints executions/s, state transitions/s, p50 and
p99 from a task's dispatch to its callback, the engine's group commits, and
the memory each in-flight execution holds (with --in-flight of them open at
once), with the machine.

With --store postgres (durable) it works in a scratch database
that it creates on DATABASE_URL (the role needs CREATEDB) and drops after;
without DATABASE_URL it starts a throwaway PostgreSQL cluster from the
local binaries (AIFLOW_PG_BINDIR), removed after.

With neither --executions nor --duration it runs for 10s.
`

// benchDefaultDuration is how long a run lasts when neither --executions
// nor --duration bounds it.
const benchDefaultDuration = 10 * time.Second

// benchFlags are the settings of `aiflow bench`.
type benchFlags struct {
	store      string
	executions int
	inFlight   int
	duration   time.Duration
	workers    int
}

// cmdBench runs the engine benchmark (see benchUsage) and prints its
// table. It returns 0 after a run, 1 when the run fails, 2 for bad usage
// or configuration.
func cmdBench(ctx context.Context, args []string, e env) int {
	f, code, ok := parseBenchFlags(args, e)
	if !ok {
		return code
	}
	cfg, err := config.LoadMigrate(e.lookup)
	if err != nil {
		if cerr, ok := errors.AsType[*config.Error](err); ok {
			cerr.Binary = "aiflow bench"
		}
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "aiflow bench: %v\n", err)
		return 1
	}
	logger := newLogger(cfg.Log, e)

	var (
		newStore  func(context.Context) (engine.Store, error)
		storeDesc = "memory (engine.NewMemoryStore)"
		server    = "none (memory store)"
	)
	if f.store == "memory" {
		newStore = func(context.Context) (engine.Store, error) { return engine.NewMemoryStore(), nil }
	} else {
		db, err := openBenchDatabase(ctx, cfg, logger, e.stderr)
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := db.Close(context.WithoutCancel(ctx)); err != nil {
				logger.Error("removing the benchmark's database", "error", err)
			}
		}()
		pg, err := enginebench.DescribePostgres(ctx, db.Pool)
		if err != nil {
			return fail(err)
		}
		storeDesc, server = "postgres, "+db.Where, pg.String()
		// Both measurements share the database: the throughput run ends
		// every execution it starts, so the second engine resumes none.
		newStore = func(ctx context.Context) (engine.Store, error) { return enginebench.OpenPostgres(ctx, db.Pool) }
	}

	params := enginebench.Params{Executions: f.executions, InFlight: f.inFlight, Duration: f.duration, Workers: f.workers}
	if params.Executions == 0 && params.Duration == 0 {
		params.Duration = benchDefaultDuration
	}
	if params.Store, err = newStore(ctx); err != nil {
		return fail(err)
	}
	fmt.Fprintf(e.stderr, "running the three-task workflow (%s), %d in flight...\n", runBound(params), f.inFlight)
	res, err := enginebench.Run(ctx, params)
	if err != nil {
		return fail(fmt.Errorf("running the workload: %w", err))
	}
	params.Store = nil // the run's histories need not stay in the heap being measured
	store, err := newStore(ctx)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(e.stderr, "holding %d executions open to measure their memory...\n", f.inFlight)
	mem, err := enginebench.MeasureInFlight(ctx, store, f.inFlight)
	if err != nil {
		return fail(fmt.Errorf("measuring the memory of executions in flight: %w", err))
	}
	writeBenchTable(e.stdout, benchTable{
		store: storeDesc, machine: enginebench.ThisMachine().String(), server: server,
		run: res, memory: mem,
	})
	return 0
}

// parseBenchFlags reads the command's arguments. ok is false when the
// command should not run, with code its exit status.
func parseBenchFlags(args []string, e env) (f benchFlags, code int, ok bool) {
	named := false
	if len(args) > 0 && args[0] == "engine" {
		args, named = args[1:], true
	}
	fs := flag.NewFlagSet("aiflow bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {} // printed below, on stdout for help
	fs.StringVar(&f.store, "store", "memory", "where the engine keeps histories: memory, or postgres (durable)")
	fs.IntVar(&f.executions, "executions", 0, "run this many executions to their end (0: as many as --duration allows)")
	fs.IntVar(&f.inFlight, "in-flight", 1000, "executions running at once, and held open for the memory measurement")
	fs.DurationVar(&f.duration, "duration", 0, "stop starting executions after this long, e.g. 30s (0: no limit; 10s when --executions is 0 too)")
	fs.IntVar(&f.workers, "workers", enginebench.DefaultWorkers, "the echo worker's concurrency (Lambda's default account limit), batches of 10")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			fmt.Fprint(e.stdout, benchUsage+"\nFlags:\n")
			fs.PrintDefaults()
			return f, 0, false
		}
		fmt.Fprint(e.stderr, benchUsage) // after the flag package's message
		return f, 2, false
	}
	rest := fs.Args()
	if !named && len(rest) > 0 && rest[0] == "engine" {
		rest = rest[1:]
	}
	usageErr := func(format string, a ...any) (benchFlags, int, bool) {
		fmt.Fprintf(e.stderr, "aiflow bench: "+format+"\n%s", append(a, benchUsage)...)
		return f, 2, false
	}
	switch {
	case len(rest) > 0:
		return usageErr("the only benchmark is engine, got %q", rest)
	case f.store != "memory" && f.store != "postgres":
		return usageErr("--store %q is not memory or postgres", f.store)
	case f.executions < 0:
		return usageErr("--executions %d is negative", f.executions)
	case f.inFlight < 1:
		return usageErr("--in-flight %d must be at least 1", f.inFlight)
	case f.duration < 0:
		return usageErr("--duration %s is negative", f.duration)
	case f.workers < 1:
		return usageErr("--workers %d must be at least 1", f.workers)
	}
	return f, 0, true
}

func runBound(p enginebench.Params) string {
	switch {
	case p.Executions > 0 && p.Duration > 0:
		return fmt.Sprintf("%d executions or %s, whichever comes first", p.Executions, p.Duration)
	case p.Executions > 0:
		return fmt.Sprintf("%d executions", p.Executions)
	default:
		return "for " + p.Duration.String()
	}
}

// benchTable is what `aiflow bench` prints.
type benchTable struct {
	store, machine, server string
	run                    enginebench.Result
	memory                 enginebench.MemoryResult
}

// writeBenchTable prints t as two aligned columns, one measure a line.
func writeBenchTable(w io.Writer, t benchTable) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("workload", "3 Task states per execution, each through the queue to an echo worker and back with SendTaskSuccess")
	row("store", "%s", t.store)
	row("machine", "%s", t.machine)
	row("PostgreSQL", "%s", t.server)
	row("executions", "%d in %s, %d in flight, %d workers", t.run.Executions, t.run.Elapsed.Round(time.Millisecond), t.run.InFlight, t.run.Workers)
	row("executions/s", "%.0f", t.run.ExecutionsPerSec)
	row("transitions/s", "%.0f", t.run.TransitionsPerSec)
	row("p50 dispatch→callback", "%s", roundLatency(t.run.LatencyP50))
	row("p99 dispatch→callback", "%s", roundLatency(t.run.LatencyP99))
	cpu := "unknown on this system"
	if c := t.run.CPUPerExecution(); c > 0 {
		cpu = roundLatency(c).String() + " (this process)"
	}
	row("CPU per execution", "%s", cpu)
	row("group commits", "%d Store.Commit calls of %.1f commits, %s each, %.2f in progress on average", t.run.StoreCommits, t.run.CommitsPerCall(),
		roundLatency(t.run.MeanCommit()), t.run.CommitTime.Seconds()/t.run.Elapsed.Seconds())
	row("memory per in-flight execution", "%s (%d held open: %s of Go heap)", bytesIEC(t.memory.PerExecution), t.memory.InFlight, bytesIEC(t.memory.HeapBytes))
	tw.Flush()
}

// roundLatency keeps three significant digits or so: 1.23ms, 456µs, 2.1s.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

func bytesIEC(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// openBenchDatabase makes a scratch database for the benchmark, so that
// its thousands of executions land in no database of the user's: a new
// database on DATABASE_URL's server when it is set and reachable,
// otherwise one in a throwaway cluster started from the local binaries
// (see database.Params.Scratch). It migrates the database.
func openBenchDatabase(ctx context.Context, cfg config.Migrate, logger *slog.Logger, out io.Writer) (*database.DB, error) {
	db, err := database.Open(ctx, database.Params{URL: cfg.DatabaseURL, BinDir: cfg.PGBinDir, Scratch: "aiflow_bench", Logger: logger, Out: out})
	if err != nil {
		return nil, err
	}
	if _, err := migrateUp(ctx, db.URL); err != nil {
		return nil, errors.Join(fmt.Errorf("migrating the benchmark's database: %w", err), db.Close(context.WithoutCancel(ctx)))
	}
	return db, nil
}
