// Command aiflow is the developer's tool for aiflow: it runs the whole system
// on one machine (dev), applies database migrations (migrate) and checks a
// machine's prerequisites (doctor).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/gcpolicy"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when
// it is not, the VCS revision Go recorded is used.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopGC := func() {}
	if len(os.Args) > 1 && pacedCommands[os.Args[1]] {
		stopGC, _ = gcpolicy.Start(os.LookupEnv)
	}
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv, terminal: os.Stdin})
	stopGC()
	stop()
	os.Exit(code)
}

// pacedCommands run the engine (or the stack's services) for long: their
// garbage collector is paced by gcpolicy, unless GOGC or GOMEMLIMIT is set.
var pacedCommands = map[string]bool{"dev": true, "engine": true, "stack": true, "bench": true, "run": true}

// env is what a command may touch of the outside world.
type env struct {
	stdout, stderr io.Writer
	lookup         config.LookupFunc
	// terminal is the process's stdin, which may be its terminal: aiflow
	// dev takes the terminal's foreground (see takeTerminal). Tests leave
	// it nil.
	terminal *os.File
}

// command is one of aiflow's commands: its name, what follows the name in
// the usage, what it does, and its function. subcommands, when set, lists
// its subcommands, which the usage shows.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, e env) int
	subcommands         func() []string
}

// commands are aiflow's commands in the order the usage lists them: the
// one table run dispatches on and usage prints. It is filled by init,
// since the commands' functions print the usage themselves.
var commands []command

func init() {
	commands = []command{
		{"dev", "", "run aiflow on this machine (PostgreSQL, migrations, HTTP API, example services)", cmdDev, nil},
		{"validate", "FILE...", "check workflow definitions; every error, located (file:line:col)", noContext(cmdValidate), nil},
		{"compile", "FILE [-o OUT]", "compile a workflow to a Step Functions state machine (ASL)", noContext(cmdCompile), nil},
		{"graph", "FILE", "draw a workflow as a Mermaid flowchart", noContext(cmdGraph), nil},
		{"run", "FILE [--script FILE]", "run a workflow once on the local engine, in memory", cmdRun, nil},
		{"engine", "[--in-memory]", "serve the Step Functions API over the local engine", cmdEngine, nil},
		{"stack", "", "run template.yaml here: the functions' binaries, queues, state machines, HTTP API", cmdStack, nil},
		{"invoke", "--event FILE", "run a Lambda function's handler once with an event, like sam local invoke", cmdInvoke, invokeNames},
		{"bench", "[engine]", "measure the local engine's throughput (see docs/performance.md)", cmdBench, nil},
		{"migrate", "", "apply, roll back or list database migrations", cmdMigrate, fixed("up", "down", "status")},
		{"archive", "--before YYYY-MM | restore FILE", "archive the months of events before YYYY-MM, or restore an archive", cmdArchive, nil},
		{"replay", "--projection NAME", "rebuild a projection from the whole event log", cmdReplay, nil},
		{"audit", "", "check the API's hash-chained audit log, or print its newest records", cmdAudit, fixed("verify", "list")},
		{"mcp", "", "the MCP servers: serve and seed the support desk, issue its tokens, list, approve and catalog tools", cmdMCP, mcpNames},
		{"service", "", "manage the service registry through the HTTP API", cmdService, serviceNames},
		{"console", "[--api URL] [--listen ADDR]", "serve the web console for an aiflow API (aiflow dev serves it at /console/)", cmdConsole, nil},
		{"doctor", "", "check this machine's prerequisites", cmdDoctor, nil},
		{"version", "", "print the version", nil, nil},
	}
}

func noContext(f func(args []string, e env) int) func(context.Context, []string, env) int {
	return func(_ context.Context, args []string, e env) int { return f(args, e) }
}

func fixed(names ...string) func() []string { return func() []string { return names } }

// helpCommands are the commands whose subcommands the usage lists from
// their own tables, for the test that every one is there.
var helpCommands = map[string]func() []string{"invoke": invokeNames, "mcp": mcpNames, "service": serviceNames}

func invokeNames() []string {
	var out []string
	for _, t := range invokeTargets {
		out = append(out, t.name)
	}
	return out
}

func mcpNames() []string { return slices.Sorted(maps.Keys(mcpCommands)) }

func serviceNames() []string { return slices.Sorted(maps.Keys(serviceCommands)) }

// usage is aiflow's help: every command and subcommand, from commands.
func usage() string {
	var b strings.Builder
	b.WriteString("aiflow: AI workflow orchestration on AWS serverless.\n\nUsage:\n")
	for _, c := range commands {
		synopsis := "aiflow " + c.name
		if c.subcommands != nil {
			synopsis += " " + strings.Join(c.subcommands(), "|")
		}
		if c.args != "" {
			synopsis += " " + c.args
		}
		if len(synopsis) > 32 {
			fmt.Fprintf(&b, "  %s\n  %-32s%s\n", synopsis, "", c.summary)
			continue
		}
		fmt.Fprintf(&b, "  %-32s%s\n", synopsis, c.summary)
	}
	b.WriteString("\nEach command says more with --help. Configuration comes from environment variables (and\n" +
		"the flags of run and engine); see docs/configuration.md and docs/local-engine.md.\n")
	return b.String()
}

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return 2
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintf(e.stdout, "aiflow %s\n", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage())
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] && c.run != nil {
			return c.run(ctx, args[1:], e)
		}
	}
	fmt.Fprintf(e.stderr, "aiflow: unknown command %q\n\n%s", args[0], usage())
	return 2
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
		fmt.Fprint(e.stdout, usage())
		return 0, false
	}
	fmt.Fprintf(e.stderr, "aiflow %s: takes no arguments (configuration comes from environment variables), got %q\n", name, args)
	return 2, false
}
