package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/workflow"
)

const mcpToolsUsage = `Usage:
  aiflow mcp tools [--config FILE] [--pins FILE] [SERVER...]
      list the tools the MCP servers offer: name, access (read-only, idempotent, keyed),
      whether the definition is the approved one (pinned), changed since, or new
  aiflow mcp approve [--config FILE] [--pins FILE] SERVER [TOOL...]
      approve the tools' current definitions (every tool of SERVER when none is named)
  aiflow mcp catalog [--config FILE] [-o FILE] [SERVER...]
      write the tool catalog the type checker reads (aiflow validate --catalog), from the
      servers' live tools/list

The servers come from --config, else AIFLOW_MCP_CONFIG, and AIFLOW_MCP_SERVERS; the secrets they
name from the environment. With none, the commands serve the support desk server that aiflow dev
serves, as "support", on the development database (DATABASE_URL, or the cluster under
AIFLOW_DATA_DIR, the running dev's when it runs). Approved definitions are kept in --pins, else AIFLOW_MCP_PINS, else
.aiflow/mcp-pins.json. tools exits 1 when a definition changed since it was approved.
See docs/mcp.md.
`

func init() {
	mcpCommands["tools"] = mcpCommand{"tools [SERVER...]            list the MCP servers' tools: access, and whether each definition is approved", cmdMCPTools}
	mcpCommands["approve"] = mcpCommand{"approve SERVER [TOOL...]     approve the tools' current definitions (see docs/mcp.md)", cmdMCPApprove}
	mcpCommands["catalog"] = mcpCommand{"catalog [-o FILE] [SERVER...]  write the type checker's tool catalog from the servers' tools/list", cmdMCPCatalog}
}

// mcpFlags are the flags the mcp tool commands share.
type mcpFlags struct {
	fs     *flag.FlagSet
	config *string
	pins   *string
	out    *string
}

func newMCPFlags(name string, e env, withOut bool) *mcpFlags {
	f := &mcpFlags{fs: flag.NewFlagSet("aiflow mcp "+name, flag.ContinueOnError)}
	f.fs.SetOutput(e.stderr)
	f.fs.Usage = func() { fmt.Fprint(e.stderr, mcpToolsUsage) }
	f.config = f.fs.String("config", "", "the MCP servers' configuration file (YAML or JSON)")
	f.pins = f.fs.String("pins", "", "the file of approved tool definitions")
	if withOut {
		f.out = f.fs.String("o", "", "write the catalog to this file instead of standard output")
	}
	return f
}

// openMCPPool builds a pool over the configured servers that never pins
// on its own: approval is the approve command's. With no server
// configured it serves the support desk server of aiflow dev instead (see
// mcpDevDefault). The error of a bad configuration names the command and
// lists every problem. closeFunc closes the pool and what it runs on.
func openMCPPool(ctx context.Context, f *mcpFlags, e env) (pool *mcpclient.Pool, closeFunc func(), err error) {
	cfg, err := config.LoadMCPTools(e.lookup, config.MCPToolsParams{Binary: f.fs.Name(), ConfigFile: *f.config, PinsFile: *f.pins})
	if err != nil {
		return nil, nil, err
	}
	var inProcess map[string]mcpclient.InProcessServer
	closeDev := func() {}
	if len(cfg.MCP.Servers) == 0 {
		if inProcess, closeDev, err = mcpDevDefault(ctx, f, e); err != nil {
			return nil, nil, err
		}
	}
	for name, s := range cfg.MCP.Servers {
		s.HealthIntervalSeconds = -1 // one-shot commands
		cfg.MCP.Servers[name] = s
	}
	pool, err = mcpclient.New(mcpclient.Options{
		Config:          cfg.MCP,
		InProcess:       inProcess,
		Secrets:         secrets.Env{LookupEnvFunc: e.lookup},
		Pins:            &mcpclient.FilePins{Path: cfg.Pins},
		RequireApproval: true,
		ClientName:      "aiflow-cli",
		ClientVersion:   versionString(),
	})
	if err != nil {
		closeDev()
		return nil, nil, err
	}
	return pool, func() {
		_ = pool.Close()
		closeDev()
	}, nil
}

// mcpServersOf returns the servers named, or every configured one.
func mcpServersOf(pool *mcpclient.Pool, names []string) ([]string, error) {
	if len(names) == 0 {
		return pool.Servers(), nil
	}
	known := map[string]bool{}
	for _, s := range pool.Servers() {
		known[s] = true
	}
	for _, n := range names {
		if !known[n] {
			return nil, fmt.Errorf("no MCP server %q is configured (servers: %s)", n, strings.Join(pool.Servers(), ", "))
		}
	}
	return names, nil
}

func cmdMCPTools(ctx context.Context, args []string, e env) int {
	f := newMCPFlags("tools", e, false)
	if err := f.fs.Parse(args); err != nil {
		return mcpHelpOrUsage(err)
	}
	pool, closePool, err := openMCPPool(ctx, f, e)
	if err != nil {
		return mcpPoolFailed(f, err, e)
	}
	defer closePool()
	servers, err := mcpServersOf(pool, f.fs.Args())
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp tools: %v\n", err)
		return 2
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tTOOL\tACCESS\tSTATUS\tDESCRIPTION")
	code, changed, unapproved := 0, 0, 0
	for _, s := range servers {
		tools, err := pool.Tools(ctx, s)
		if err != nil {
			tw.Flush()
			fmt.Fprintf(e.stderr, "aiflow mcp tools: %v\n", err)
			code = 1
			continue
		}
		for _, t := range tools {
			status := string(t.Status)
			switch t.Status {
			case mcpclient.ToolChanged:
				changed++
			case mcpclient.ToolUnapproved:
				status = "new"
				unapproved++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s, t.Name, mcpAccess(t), status, mcpFirstLine(t.Description))
		}
	}
	tw.Flush()
	if changed > 0 {
		fmt.Fprintf(e.stderr, "%d tool definitions changed since they were approved; they are disabled until approved again: review them, then run aiflow mcp approve SERVER TOOL\n", changed)
		code = 1
	}
	if unapproved > 0 {
		fmt.Fprintf(e.stderr, "%d tools are new (never approved); approve them with aiflow mcp approve SERVER [TOOL...]\n", unapproved)
	}
	return code
}

// mcpAccess says whether calling the tool twice is harmless.
func mcpAccess(t mcpclient.ToolInfo) string {
	var parts []string
	if t.ReadOnly {
		parts = append(parts, "read-only")
	}
	if t.Idempotent {
		parts = append(parts, "idempotent")
	}
	if t.IdempotencyKey != "" {
		parts = append(parts, "keyed:"+t.IdempotencyKey)
	}
	if len(parts) == 0 {
		return "writes"
	}
	return strings.Join(parts, ",")
}

func mcpFirstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	const max = 80
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func cmdMCPApprove(ctx context.Context, args []string, e env) int {
	f := newMCPFlags("approve", e, false)
	if err := f.fs.Parse(args); err != nil {
		return mcpHelpOrUsage(err)
	}
	if f.fs.NArg() == 0 {
		fmt.Fprintf(e.stderr, "aiflow mcp approve: name a server\n\n%s", mcpToolsUsage)
		return 2
	}
	pool, closePool, err := openMCPPool(ctx, f, e)
	if err != nil {
		return mcpPoolFailed(f, err, e)
	}
	defer closePool()
	server, tools := f.fs.Arg(0), f.fs.Args()[1:]
	if _, err := mcpServersOf(pool, []string{server}); err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp approve: %v\n", err)
		return 2
	}
	if len(tools) == 0 {
		all, err := pool.Tools(ctx, server)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp approve: %v\n", err)
			return 1
		}
		for _, t := range all {
			tools = append(tools, t.Name)
		}
	}
	for _, t := range tools {
		hash, err := pool.Approve(ctx, server, t)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp approve: %v\n", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "approved %s/%s %s\n", server, t, hash)
	}
	return 0
}

func cmdMCPCatalog(ctx context.Context, args []string, e env) int {
	f := newMCPFlags("catalog", e, true)
	if err := f.fs.Parse(args); err != nil {
		return mcpHelpOrUsage(err)
	}
	pool, closePool, err := openMCPPool(ctx, f, e)
	if err != nil {
		return mcpPoolFailed(f, err, e)
	}
	defer closePool()
	servers, err := mcpServersOf(pool, f.fs.Args())
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp catalog: %v\n", err)
		return 2
	}
	catalog := workflow.Catalog{Servers: map[string]workflow.CatalogServer{}}
	for _, s := range servers {
		tools, err := pool.Tools(ctx, s)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp catalog: %v\n", err)
			return 1
		}
		cs := workflow.CatalogServer{Tools: []workflow.CatalogTool{}}
		for _, t := range tools {
			if t.Status == mcpclient.ToolChanged {
				fmt.Fprintf(e.stderr, "aiflow mcp catalog: warning: %s/%s changed since it was approved; the catalog has its new definition, and calls fail until it is approved again\n", s, t.Name)
			}
			cs.Tools = append(cs.Tools, workflow.CatalogTool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema})
		}
		catalog.Servers[s] = cs
	}
	out, err := json.MarshalIndent(catalog, "", "  ")
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp catalog: encoding the catalog: %v\n", err)
		return 1
	}
	out = append(out, '\n')
	// The checker reads what it wrote.
	if _, err := workflow.ParseCatalog(out); err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp catalog: %v\n", err)
		return 1
	}
	var w io.Writer = e.stdout
	if *f.out != "" && *f.out != "-" {
		if err := os.WriteFile(*f.out, out, 0o644); err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp catalog: writing the catalog: %v\n", err)
			return 1
		}
		fmt.Fprintf(e.stderr, "wrote %s (%d servers)\n", *f.out, len(catalog.Servers))
		return 0
	}
	if _, err := w.Write(out); err != nil {
		return 1
	}
	return 0
}

// mcpHelpOrUsage is the exit code of a flag parse error: 0 for -h.
// mcpPoolFailed reports the error of openMCPPool: a bad configuration,
// which names the command itself, exits 2 like every command's; anything
// else exits 1.
func mcpPoolFailed(f *mcpFlags, err error, e env) int {
	if _, ok := errors.AsType[*config.Error](err); ok {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	fmt.Fprintf(e.stderr, "%s: %v\n", f.fs.Name(), err)
	return 1
}

func mcpHelpOrUsage(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	return 2
}
