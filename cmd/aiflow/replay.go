package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
)

const replayUsage = `Usage:
  aiflow replay --projection NAME   rebuild a projection from the whole event log: replay every event
                                    into fresh tables, then swap them in once they have caught up

Readers keep the old tables until the swap. The database is DATABASE_URL (as the owner role: the
rebuild creates and renames tables), or the development cluster under AIFLOW_DATA_DIR.
Projections: %s
`

func projectionNames() string {
	var names []string
	for name := range eventstore.BuiltinProjections() {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func cmdReplay(ctx context.Context, args []string, e env) int {
	usageText := fmt.Sprintf(replayUsage, projectionNames())
	fs := flag.NewFlagSet("aiflow replay", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, usageText) }
	name := fs.String("projection", "", "the projection to rebuild")
	batch := fs.Int("batch", 500, "events per transaction")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow replay: unexpected arguments %q\n\n%s", fs.Args(), usageText)
		return 2
	}
	p, ok := eventstore.BuiltinProjections()[*name]
	if !ok {
		if *name == "" {
			fmt.Fprintf(e.stderr, "aiflow replay: --projection NAME is required\n\n%s", usageText)
		} else {
			fmt.Fprintf(e.stderr, "aiflow replay: no projection %q; there are: %s\n", *name, projectionNames())
		}
		return 2
	}
	if *batch < 1 || *batch > 100000 {
		fmt.Fprintf(e.stderr, "aiflow replay: --batch must be 1 to 100000, got %d\n", *batch)
		return 2
	}
	cfg, err := config.LoadReplay(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	return withStore(ctx, "replay", storeSettings{cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, cfg.Log}, e, func(store *eventstore.Store) int {
		return rebuild(ctx, store, p, *batch, e)
	})
}

func rebuild(ctx context.Context, store *eventstore.Store, p eventstore.Projection, batch int, e env) int {
	fmt.Fprintf(e.stdout, "rebuilding projection %s (%s.%s)\n", p.Name, p.Schema, strings.Join(p.Tables, ", "))
	err := store.RebuildProjection(ctx, p, eventstore.ProjectionOptions{
		BatchSize: batch,
		ProgressFunc: func(pr eventstore.RebuildProgress) {
			if pr.Swapped {
				fmt.Fprintf(e.stdout, "swapped in: %d events applied, up to position %d\n", pr.Applied, pr.Position)
				return
			}
			fmt.Fprintf(e.stdout, "replayed %d of %d events (%d%%), position %d\n", pr.Applied, pr.Total, pr.Applied*100/max(pr.Total, 1), pr.Position)
		},
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow replay: %v\n", err)
		return 1
	}
	return 0
}
