// Command aiflow is the developer's tool for aiflow: it runs the whole system
// on one machine (dev), applies database migrations (migrate) and checks a
// machine's prerequisites (doctor).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when
// it is not, the VCS revision Go recorded is used.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv})
	stop()
	os.Exit(code)
}

// env is what a command may touch of the outside world.
type env struct {
	stdout, stderr io.Writer
	lookup         config.LookupFunc
}

const usage = `aiflow: AI workflow orchestration on AWS serverless.

Usage:
  aiflow dev                      run aiflow on this machine (PostgreSQL, migrations, HTTP API)
  aiflow validate FILE...         check workflow definitions; every error, located (file:line:col)
  aiflow compile FILE [-o OUT]    compile a workflow to a Step Functions state machine (ASL)
  aiflow graph FILE               draw a workflow as a Mermaid flowchart
  aiflow run FILE [--script FILE] run a workflow once on the local engine, in memory
  aiflow engine [--in-memory]     serve the Step Functions API over the local engine
  aiflow stack                    run template.yaml here: the functions' binaries, queues, state machines, HTTP API
  aiflow invoke FUNCTION --event FILE  run a Lambda function's handler once with an event, like sam local invoke
  aiflow migrate up|down|status   apply, roll back or list database migrations
  aiflow archive --before YYYY-MM archive the months of events before YYYY-MM (and: archive restore FILE)
  aiflow replay --projection NAME rebuild a projection from the whole event log
  aiflow audit verify|list        check the API's hash-chained audit log, or print its newest records
  aiflow mcp serve|seed|token     serve the customer-support MCP server, seed its data, issue its tokens
  aiflow service register|list|show|drain|deregister|history|catalog
                                  manage the service registry through the HTTP API
  aiflow doctor                   check this machine's prerequisites
  aiflow version                  print the version

Configuration comes from environment variables (and the flags of run and engine);
see docs/configuration.md and docs/local-engine.md.
`

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	switch args[0] {
	case "dev":
		return cmdDev(ctx, args[1:], e)
	case "migrate":
		return cmdMigrate(ctx, args[1:], e)
	case "archive":
		return cmdArchive(ctx, args[1:], e)
	case "replay":
		return cmdReplay(ctx, args[1:], e)
	case "audit":
		return cmdAudit(ctx, args[1:], e)
	case "validate":
		return cmdValidate(args[1:], e)
	case "compile":
		return cmdCompile(args[1:], e)
	case "graph":
		return cmdGraph(args[1:], e)
	case "run":
		return cmdRun(ctx, args[1:], e)
	case "engine":
		return cmdEngine(ctx, args[1:], e)
	case "stack":
		return cmdStack(ctx, args[1:], e)
	case "invoke":
		return cmdInvoke(ctx, args[1:], e)
	case "bench":
		return cmdBench(ctx, args[1:], e)
	case "mcp":
		return cmdMCP(ctx, args[1:], e)
	case "service":
		return cmdService(ctx, args[1:], e)
	case "doctor":
		return cmdDoctor(ctx, args[1:], e)
	case "version", "--version", "-version":
		fmt.Fprintf(e.stdout, "aiflow %s\n", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage)
		return 0
	default:
		fmt.Fprintf(e.stderr, "aiflow: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

func newLogger(cfg config.Log, e env) *slog.Logger {
	f, _ := e.stderr.(*os.File)
	return telemetry.NewLogger(telemetry.LoggerOptions{
		Level:      cfg.Level,
		Format:     cfg.Format,
		Writer:     e.stderr,
		IsTerminal: telemetry.IsTerminal(f),
		InLambda:   cfg.InLambda,
	})
}

// checkNoArgs handles the arguments of a command that takes none: help
// prints the usage (exit 0), anything else is an error (exit 2). ok is true
// when the command should run.
func checkNoArgs(name string, args []string, e env) (code int, ok bool) {
	if len(args) == 0 {
		return 0, true
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, usage)
		return 0, false
	}
	fmt.Fprintf(e.stderr, "aiflow %s: takes no arguments (configuration comes from environment variables), got %q\n", name, args)
	return 2, false
}
