package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

// mcpCommand is one subcommand of `aiflow mcp`.
type mcpCommand struct {
	// synopsis is the subcommand's line in the usage, after "aiflow mcp ".
	synopsis string
	run      func(ctx context.Context, args []string, e env) int
}

// mcpCommands are the subcommands of `aiflow mcp` by name. A file that adds
// one registers it from an init function: mcpCommands["tools"] = ....
var mcpCommands = map[string]mcpCommand{
	"serve": {"serve [--stdio | --http ADDR]  serve the customer-support MCP server (stdio by default)", cmdMCPServe},
	"seed":  {"seed                         fill the support schema with realistic data (again: changes nothing)", cmdMCPSeed},
	"token": {"token --subject NAME [--customer ID] [--ttl DURATION]  issue a bearer token for the HTTP server", cmdMCPToken},
}

func mcpUsage() string {
	names := make([]string, 0, len(mcpCommands))
	for n := range mcpCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  aiflow mcp %s\n", mcpCommands[n].synopsis)
	}
	b.WriteString(`
The database is DATABASE_URL, or the development cluster under AIFLOW_DATA_DIR (default .aiflow);
its migrations must be applied (aiflow migrate up). The server's settings (AIFLOW_SUPPORT_*) are
in docs/support-desk.md.
`)
	return b.String()
}

func cmdMCP(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, mcpUsage())
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, mcpUsage())
		return 0
	}
	c, ok := mcpCommands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "aiflow mcp: unknown subcommand %q\n\n%s", args[0], mcpUsage())
		return 2
	}
	return c.run(ctx, args[1:], e)
}

// withSupportDB opens the database of cfg as the other commands do (never
// writing to stdout, which the stdio transport owns), checks that the
// support schema is migrated, and runs f on a pool.
func withSupportDB(ctx context.Context, command string, cfg config.Migrate, e env, f func(pool *pgxpool.Pool, logger *slog.Logger) int) int {
	return withDatabase(ctx, command, storeSettings{cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, cfg.Log}, e, func(db *database.DB, logger *slog.Logger) int {
		var migrated bool
		if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('support.refunds') IS NOT NULL`).Scan(&migrated); err != nil {
			fmt.Fprintf(e.stderr, "%s: checking the support schema: %v\n", command, err)
			return 1
		}
		if !migrated {
			fmt.Fprintf(e.stderr, "%s: the support schema has no tables yet: run `aiflow migrate up` first\n", command)
			return 1
		}
		return f(db.Pool, logger)
	})
}

func cmdMCPServe(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("aiflow mcp serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	stdio := fs.Bool("stdio", false, "serve on stdin and stdout (the default)")
	addr := fs.String("http", "", "serve Streamable HTTP on ADDR (host:port; an empty host means 127.0.0.1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow mcp serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *stdio && *addr != "" {
		fmt.Fprintln(e.stderr, "aiflow mcp serve: --stdio and --http exclude each other")
		return 2
	}
	listen := ""
	if *addr != "" {
		host, port, err := net.SplitHostPort(*addr)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp serve: --http %q is not host:port (example: --http 127.0.0.1:8765)\n", *addr)
			return 2
		}
		if host == "" {
			host = "127.0.0.1"
		}
		listen = net.JoinHostPort(host, port)
	}
	serve, err := config.LoadMCPServe(e.lookup, listen != "")
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	cfg := supportdesk.ConfigOf(serve.Support)
	return withSupportDB(ctx, "aiflow mcp serve", serve.Database, e, func(pool *pgxpool.Pool, logger *slog.Logger) int {
		server, err := supportdesk.NewServer(supportdesk.New(pool, cfg.DeskOptions()), supportdesk.ServerOptions{Version: versionString(), Logger: logger})
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp serve: %v\n", err)
			return 1
		}
		if listen == "" {
			// The stdio transport speaks on the process's own stdin and
			// stdout; everything else goes to stderr.
			// The gate answers a batch or a malformed line with a
			// JSON-RPC error instead of letting it end the session.
			err := server.Run(ctx, supportdesk.NewStdioTransport(supportdesk.StdioParams{In: os.Stdin, Out: os.Stdout, Logger: logger}))
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(e.stderr, "aiflow mcp serve: %v\n", err)
				return 1
			}
			return 0
		}
		return serveMCPHTTP(ctx, listen, server, cfg, logger, e)
	})
}

func serveMCPHTTP(ctx context.Context, listen string, server *mcp.Server, cfg supportdesk.Config, logger *slog.Logger, e env) int {
	h, err := supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{Server: server, TokenSecret: cfg.TokenSecret, AllowedOrigins: cfg.AllowedOrigins, Logger: logger})
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp serve: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp serve: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stderr, "aiflow mcp serve: customer-support MCP server on http://%s/ (bearer token required; aiflow mcp token issues one)\n", ln.Addr())
	err = serveUntilSignal(ctx, serveParams{server: srv, listener: ln, timeout: 5 * time.Second})
	if se, ok := errors.AsType[*serveError](err); ok && !se.shutdown {
		fmt.Fprintf(e.stderr, "aiflow mcp serve: %v\n", se.err)
		return 1
	}
	// Sessions still open when the deadline passes are cut: not a failure.
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(e.stderr, "aiflow mcp serve: shutting down: %v\n", errors.Unwrap(err))
	}
	return 0
}

func cmdMCPSeed(ctx context.Context, args []string, e env) int {
	if code, ok := checkNoArgs("mcp seed", args, e); !ok {
		return code
	}
	cfg, err := config.LoadMCPSeed(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	return withSupportDB(ctx, "aiflow mcp seed", cfg, e, func(pool *pgxpool.Pool, _ *slog.Logger) int {
		counts, err := supportdesk.Seed(ctx, pool, time.Now())
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow mcp seed: %v\n", err)
			return 1
		}
		if counts == (supportdesk.SeedCounts{}) {
			fmt.Fprintln(e.stdout, "the support desk is already seeded: nothing changed")
			return 0
		}
		fmt.Fprintf(e.stdout, "seeded %d customers, %d orders, %d tickets and %d knowledge-base articles\n",
			counts.Customers, counts.Orders, counts.Tickets, counts.Articles)
		return 0
	})
}

func cmdMCPToken(_ context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("aiflow mcp token", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	subject := fs.String("subject", "", "who holds the token (a workflow, an agent, a service), named in audit rows")
	customer := fs.Int64("customer", 0, "scope the token to this customer id")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *subject == "" {
		fmt.Fprintln(e.stderr, "aiflow mcp token: give --subject NAME (and no other arguments)")
		return 2
	}
	support, err := config.LoadSupport(e.lookup, "aiflow mcp token", true)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	cfg := supportdesk.ConfigOf(support)
	tok, err := supportdesk.IssueToken(cfg.TokenSecret, supportdesk.TokenParams{Subject: *subject, CustomerID: *customer, TTL: *ttl, Now: time.Now()})
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow mcp token: %v\n", err)
		return 2
	}
	fmt.Fprintln(e.stdout, tok)
	return 0
}
