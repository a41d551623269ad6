package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/migrate"
)

const migrateUsage = `Usage:
  aiflow migrate up                 apply every pending migration
  aiflow migrate down [--to N]      roll back the newest migration, or every one after version N (0: all)
  aiflow migrate status             list migrations and whether each is applied

The database is DATABASE_URL, or the development cluster under AIFLOW_DATA_DIR (default .aiflow).
`

func cmdMigrate(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, migrateUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("aiflow migrate "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	to := fs.Int64("to", -1, "roll back every migration after this version (down only)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow migrate %s: unexpected arguments %q\n", sub, fs.Args())
		return 2
	}
	switch sub {
	case "up", "status":
		if *to != -1 {
			fmt.Fprintf(e.stderr, "aiflow migrate %s: --to applies to down only\n", sub)
			return 2
		}
	case "down":
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, migrateUsage)
		return 0
	default:
		fmt.Fprintf(e.stderr, "aiflow migrate: unknown subcommand %q\n\n%s", sub, migrateUsage)
		return 2
	}

	cfg, err := config.LoadMigrate(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	logger := newLogger(cfg.Log, e)
	db, err := openDatabase(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, logger, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow migrate: %v\n", err)
		return 1
	}
	defer db.Close(context.WithoutCancel(ctx))
	m, err := migrate.New(db.URL)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow migrate: %v\n", err)
		return 1
	}
	defer m.Close()

	switch sub {
	case "up":
		res, err := m.Up(ctx)
		printResults(e, res)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow migrate up: %v\n", err)
			return 1
		}
		if len(res) == 0 {
			fmt.Fprintf(e.stdout, "nothing to apply: the database is at version %d\n", migrate.Latest())
		}
	case "down":
		var res []migrate.Result
		if *to >= 0 {
			res, err = m.DownTo(ctx, *to)
		} else {
			var one migrate.Result
			one, err = m.Down(ctx)
			if err == nil {
				res = []migrate.Result{one}
			}
		}
		printResults(e, res)
		if errors.Is(err, migrate.ErrNothingToRollBack) {
			fmt.Fprintln(e.stdout, "nothing to roll back: no migration is applied")
			return 0
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow migrate down: %v\n", err)
			return 1
		}
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow migrate status: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tMIGRATION\tSTATE\tAPPLIED AT")
		for _, s := range st {
			state, at := "pending", ""
			if s.Applied {
				state, at = "applied", s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Version, s.Name, state, at)
		}
		_ = tw.Flush()
	}
	return 0
}

func printResults(e env, res []migrate.Result) {
	for _, r := range res {
		verb := "applied"
		if r.Direction == "down" {
			verb = "rolled back"
		}
		fmt.Fprintf(e.stdout, "%s %s (%s)\n", verb, r.Name, r.Duration.Round(time.Millisecond))
	}
}
