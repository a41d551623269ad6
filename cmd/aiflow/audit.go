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

	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
)

const auditUsage = `Usage:
  aiflow audit verify            walk the API's hash-chained audit log from its first record and
                                 report the first record that was changed, removed or moved (exit 1)
  aiflow audit list [--limit N]  print the newest N records (default 20), newest first

The database is DATABASE_URL, or the development cluster under AIFLOW_DATA_DIR (default .aiflow).
See docs/security.md.
`

func cmdAudit(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, auditUsage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, auditUsage)
		return 0
	case "verify":
		if len(args) > 1 {
			fmt.Fprintf(e.stderr, "aiflow audit verify: takes no arguments, got %q\n\n%s", args[1:], auditUsage)
			return 2
		}
		return withAuditLog(ctx, e, func(l *audit.Log) int { return auditVerify(ctx, l, e) })
	case "list":
		fs := flag.NewFlagSet("aiflow audit list", flag.ContinueOnError)
		fs.SetOutput(e.stderr)
		fs.Usage = func() { fmt.Fprint(e.stderr, auditUsage) }
		limit := fs.Int("limit", 20, "how many records to print")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(e.stderr, "aiflow audit list: unexpected arguments %q\n\n%s", fs.Args(), auditUsage)
			return 2
		}
		if *limit < 1 || *limit > 10000 {
			fmt.Fprintf(e.stderr, "aiflow audit list: --limit must be 1 to 10000, got %d\n", *limit)
			return 2
		}
		return withAuditLog(ctx, e, func(l *audit.Log) int { return auditList(ctx, l, *limit, e) })
	default:
		fmt.Fprintf(e.stderr, "aiflow audit: unknown subcommand %q\n\n%s", args[0], auditUsage)
		return 2
	}
}

// withAuditLog opens the database (DATABASE_URL or the development
// cluster) and runs f on its audit log.
func withAuditLog(ctx context.Context, e env, f func(*audit.Log) int) int {
	cfg, err := config.LoadAudit(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	return withDatabase(ctx, "aiflow audit", storeSettings{cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, cfg.Log}, e, func(db *database.DB, _ *slog.Logger) int {
		return f(audit.New(db.Pool, audit.Options{}))
	})
}

func auditVerify(ctx context.Context, l *audit.Log, e env) int {
	rep, err := l.Verify(ctx)
	var broken *audit.BrokenError
	switch {
	case errors.As(err, &broken):
		fmt.Fprintf(e.stderr, "%v\n", broken)
		if entries, lerr := l.List(ctx, audit.ListOptions{Before: broken.Seq + 1, Limit: 1}); lerr == nil && len(entries) == 1 && entries[0].Seq == broken.Seq {
			fmt.Fprintf(e.stderr, "the record as stored now:\n")
			printEntries(e.stderr, entries)
		}
		fmt.Fprintf(e.stderr, "%s before it intact\n", fmt.Sprintf("%d %s", rep.Records, plural(rep.Records, "record")))
		return 1
	case err != nil:
		fmt.Fprintf(e.stderr, "aiflow audit verify: %v\n", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "audit log intact: %s\n", fmt.Sprintf("%d %s", rep.Records, plural(rep.Records, "record")))
	if rep.Records > 0 {
		fmt.Fprintf(e.stdout, "head: record %d, hash %s\n", rep.Records, rep.Head)
	}
	return 0
}

func auditList(ctx context.Context, l *audit.Log, limit int, e env) int {
	entries, err := l.List(ctx, audit.ListOptions{Limit: limit})
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow audit list: %v\n", err)
		return 1
	}
	if len(entries) == 0 {
		fmt.Fprintln(e.stdout, "the audit log is empty")
		return 0
	}
	printEntries(e.stdout, entries)
	return 0
}

func printEntries(out io.Writer, entries []audit.Entry) {
	w := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "SEQ\tTIME\tACTOR\tACTION\tRESOURCE\tOUTCOME\tREQUEST ID\tSOURCE\tDETAILS")
	for _, en := range entries {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", en.Seq, en.Time.Format(time.RFC3339Nano), en.Actor, en.Action,
			en.Resource, en.Outcome, en.RequestID, en.SourceIP, en.Details)
	}
	_ = w.Flush()
}
