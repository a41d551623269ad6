// Package main is `make compare`: the peers' workload (three Task states
// whose function echoes its input, in the engine's own process) on the
// Node.js interpreter aws-local-stepfunctions, then on aiflow's engine in
// memory and durable in PostgreSQL, one after the other, printed as one
// table with the machine and the commit.
//
// usage: go run ./internal/enginebench/compare -dir build/compare [-executions N] [-in-flight N] [-store all|memory|postgres|none] [-commit C]
//
// -dir holds peers.mjs and its node_modules (make compare installs them
// there with npm). Its Node.js is the npm package node (22); when that
// cannot run, the node on PATH is used if it is 20 or later, and the
// table says so. -store none runs the Node.js side alone; the durable run
// uses a scratch database on DATABASE_URL, or a throwaway cluster from the
// local PostgreSQL binaries (AIFLOW_PG_BINDIR) without it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
	"github.com/aiflow/aiflow/internal/gcpolicy"
	"github.com/aiflow/aiflow/internal/migrate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// aiflow's engine runs with its collector paced so (aiflow engine).
	stopGC, _ := gcpolicy.Start(os.LookupEnv)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stopGC()
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	dir, store, commit   string
	executions, inFlight int
}

// run is the command; it returns the exit code: 0 after the table, 1 when
// a run fails, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.dir, "dir", "build/compare", "the folder holding peers.mjs and its node_modules")
	fs.StringVar(&o.store, "store", "all", "aiflow's stores to run: all, memory, postgres or none")
	fs.StringVar(&o.commit, "commit", "", "the commit to print (default: git rev-parse --short HEAD)")
	fs.IntVar(&o.executions, "executions", 10000, "executions per system")
	fs.IntVar(&o.inFlight, "in-flight", 1000, "executions in flight at once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case o.executions <= 0 || o.inFlight <= 0:
		fmt.Fprintln(stderr, "compare: -executions and -in-flight must be positive")
		return 2
	case o.store != "all" && o.store != "memory" && o.store != "postgres" && o.store != "none":
		fmt.Fprintf(stderr, "compare: -store is %q; it takes all, memory, postgres or none\n", o.store)
		return 2
	}
	c, err := compare(ctx, o, stderr, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	if err := c.Write(stdout); err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	return 0
}

// compare runs the Node.js side, then aiflow's in memory and durable.
func compare(ctx context.Context, o options, stderr io.Writer, getenv func(string) string) (enginebench.Comparison, error) {
	c := enginebench.Comparison{Machine: enginebench.ThisMachine(), Commit: o.commit,
		Notes: []string{"CPU per execution is the running process's own CPU time, user and system, over its executions (a PostgreSQL server's is not in it)"}}
	if c.Commit == "" {
		c.Commit = gitCommit(ctx)
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return c, fmt.Errorf("finding the folder %s: %w", o.dir, err)
	}
	node, note, err := pickNode(ctx, filepath.Join(dir, "node_modules", ".bin", "node"), exec.LookPath)
	if err != nil {
		return c, err
	}
	if note != "" {
		c.Notes = append(c.Notes, note)
	}
	fmt.Fprintf(stderr, "running aws-local-stepfunctions with %s\n", node)
	out, err := runCommand(ctx, dir, node, "peers.mjs", "--definition", enginebench.PeersDefinition,
		"--executions", strconv.Itoa(o.executions), "--in-flight", strconv.Itoa(o.inFlight))
	if err != nil {
		return c, fmt.Errorf("running peers.mjs in %s: %w", o.dir, err)
	}
	nr, err := enginebench.ParseNodeResult(out)
	if err != nil {
		return c, err
	}
	c.Rows = append(c.Rows, nr.Row())

	if o.store == "all" || o.store == "memory" {
		fmt.Fprintln(stderr, "running aiflow's engine in memory")
		res, err := enginebench.RunPeers(ctx, enginebench.PeersParams{Store: engine.NewMemoryStore(), Executions: o.executions, InFlight: o.inFlight})
		if err != nil {
			return c, err
		}
		c.Rows = append(c.Rows, enginebench.PeersRow("memory", res))
	}
	if o.store == "all" || o.store == "postgres" {
		fmt.Fprintln(stderr, "running aiflow's engine durable in PostgreSQL")
		row, server, err := runDurable(ctx, o, stderr, getenv)
		if err != nil {
			return c, err
		}
		c.Rows = append(c.Rows, row)
		c.Notes = append(c.Notes, "PostgreSQL "+server.String())
	}
	return c, nil
}

// runDurable runs the peers' workload on the engine's PostgreSQL store in
// a scratch database, dropped (or its cluster removed) after.
func runDurable(ctx context.Context, o options, stderr io.Writer, getenv func(string) string) (row enginebench.ComparisonRow, server enginebench.PostgresServer, err error) {
	db, err := database.Open(ctx, database.Params{URL: getenv("DATABASE_URL"), BinDir: getenv("AIFLOW_PG_BINDIR"), Scratch: "aiflow_compare",
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Out: stderr})
	if err != nil {
		return row, server, fmt.Errorf("opening the durable run's database: %w", err)
	}
	defer func() { err = errors.Join(err, db.Close(context.WithoutCancel(ctx))) }()
	m, err := migrate.New(db.URL)
	if err != nil {
		return row, server, fmt.Errorf("migrating the durable run's database: %w", err)
	}
	_, err = m.Up(ctx)
	m.Close()
	if err != nil {
		return row, server, fmt.Errorf("migrating the durable run's database: %w", err)
	}
	if server, err = enginebench.DescribePostgres(ctx, db.Pool); err != nil {
		return row, server, err
	}
	store, err := enginebench.OpenPostgres(ctx, db.Pool)
	if err != nil {
		return row, server, err
	}
	res, err := enginebench.RunPeers(ctx, enginebench.PeersParams{Store: store, Executions: o.executions, InFlight: o.inFlight})
	if err != nil {
		return row, server, err
	}
	return enginebench.PeersRow("PostgreSQL", res), server, nil
}

// pickNode returns installed when it runs as Node.js 22, otherwise the
// node on PATH when it is 20 or later, with a note saying why; an error
// when neither will do. lookPath finds the node on PATH (exec.LookPath).
func pickNode(ctx context.Context, installed string, lookPath func(string) (string, error)) (path, note string, err error) {
	v, err := nodeVersion(ctx, installed)
	if err == nil && v == 22 {
		return installed, "", nil
	}
	why := fmt.Sprintf("%s is Node.js %d, not 22", installed, v)
	if err != nil {
		why = err.Error()
	}
	onPath, lerr := lookPath("node")
	if lerr != nil {
		return "", "", fmt.Errorf("no Node.js 22 (%s) and no node on PATH", why)
	}
	pv, perr := nodeVersion(ctx, onPath)
	if perr != nil {
		return "", "", fmt.Errorf("no Node.js 22 (%s), and the node on PATH: %w", why, perr)
	}
	if pv < 20 {
		return "", "", fmt.Errorf("no Node.js 22 (%s), and the node on PATH is %d, older than 20", why, pv)
	}
	return onPath, fmt.Sprintf("Node.js 22 could not be run (%s): the node on PATH, Node.js %d, ran the interpreter", why, pv), nil
}

// nodeVersion runs node --version and returns its major version.
func nodeVersion(ctx context.Context, node string) (int, error) {
	out, err := runCommand(ctx, "", node, "--version")
	if err != nil {
		return 0, fmt.Errorf("running %s --version: %w", node, err)
	}
	s := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _, _ := strings.Cut(s, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0, fmt.Errorf("reading %s --version's %q: not a Node.js version", node, out)
	}
	return n, nil
}

// runCommand runs name in dir and returns its standard output; its
// error names the command's standard error.
func runCommand(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(errBuf.String()))
	}
	return out, nil
}

// gitCommit is the checkout's short commit, with "+changes" when its
// work tree differs; "unknown" outside a git checkout.
func gitCommit(ctx context.Context) string {
	out, err := runCommand(ctx, "", "git", "rev-parse", "--short", "HEAD")
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if diff, err := runCommand(ctx, "", "git", "status", "--porcelain", "--untracked-files=no"); err == nil && len(bytes.TrimSpace(diff)) > 0 {
		commit += "+changes"
	}
	return commit
}
