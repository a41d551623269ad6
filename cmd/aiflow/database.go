package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// devDatabase is the database aiflow uses in its development cluster.
const devDatabase = "aiflow"

// database is a PostgreSQL database a command works on, and how to let it go.
type database struct {
	URL     string
	Where   string // for people: "DATABASE_URL" or the cluster folder
	cluster *pgcluster.Cluster
}

// Close stops the development cluster when this process started it.
func (d *database) Close(ctx context.Context) error {
	if d.cluster == nil {
		return nil
	}
	return d.cluster.Stop(ctx)
}

// openDatabase returns DATABASE_URL when it is set and reachable; otherwise
// it starts (or creates) the development cluster under dataDir/pg and
// returns its aiflow database.
func openDatabase(ctx context.Context, databaseURL, dataDir, pgBinDir string, logger *slog.Logger, out io.Writer) (*database, error) {
	if databaseURL != "" {
		err := ping(ctx, databaseURL)
		if err == nil {
			fmt.Fprintf(out, "using DATABASE_URL %s\n", telemetry.RedactURL(databaseURL))
			return &database{URL: databaseURL, Where: "DATABASE_URL"}, nil
		}
		logger.Warn("DATABASE_URL is not reachable; starting the local development cluster instead",
			"database_url", telemetry.RedactURL(databaseURL), "error", err)
	}
	bins, err := pgcluster.FindBinaries(pgBinDir)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, "pg")
	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir, Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := c.EnsureDatabase(ctx, devDatabase); err != nil {
		_ = c.Stop(context.Background())
		return nil, err
	}
	fmt.Fprintf(out, "PostgreSQL %s ready: %s (127.0.0.1:%d, data kept in %s)\n", bins.Version, devDatabase, c.Port(), dir)
	return &database{URL: c.URL(devDatabase), Where: dir, cluster: c}, nil
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return pgcluster.Ping(ctx, url)
}

// storeSettings are what withStore needs of a command's configuration.
type storeSettings struct {
	DatabaseURL, DataDir, PGBinDir string
	Log                            config.Log
}

// withStore opens the database (see openDatabase) and the event store, runs
// f on it, and closes everything. Errors name the command.
func withStore(ctx context.Context, command string, cfg storeSettings, e env, f func(*eventstore.Store) int) int {
	logger := newLogger(cfg.Log, e)
	db, err := openDatabase(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, logger, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow %s: %v\n", command, err)
		return 1
	}
	defer db.Close(context.Background())
	pool, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow %s: connecting to the database: %v\n", command, err)
		return 1
	}
	defer pool.Close()
	store, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow %s: opening the event store (has `aiflow migrate up` run?): %v\n", command, err)
		return 1
	}
	return f(store)
}
