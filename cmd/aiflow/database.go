package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/migrate"
)

// openDatabase opens the database of a command (see database.Open):
// DATABASE_URL when it is set and reachable, otherwise the development
// cluster under dataDir/pg; out is told which.
func openDatabase(ctx context.Context, databaseURL, dataDir, pgBinDir string, logger *slog.Logger, out io.Writer) (*database.DB, error) {
	return database.Open(ctx, database.Params{URL: databaseURL, DataDir: dataDir, BinDir: pgBinDir, Logger: logger, Out: out})
}

// migrateUp applies the pending migrations to the database at url.
func migrateUp(ctx context.Context, url string) ([]migrate.Result, error) {
	m, err := migrate.New(url)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.Up(ctx)
}

// storeSettings are what withStore needs of a command's configuration.
type storeSettings struct {
	DatabaseURL, DataDir, PGBinDir string
	Log                            config.Log
}

// withDatabase opens the database (see openDatabase), saying which on
// stderr, runs f on it with the command's logger, and closes it. Errors
// start with prefix, the command's name.
func withDatabase(ctx context.Context, prefix string, cfg storeSettings, e env, f func(*database.DB, *slog.Logger) int) int {
	logger := newLogger(cfg.Log, e)
	db, err := openDatabase(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, logger, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", prefix, err)
		return 1
	}
	defer db.Close(context.WithoutCancel(ctx))
	return f(db, logger)
}

// withStore opens the database (see withDatabase) and the event store, runs
// f on it, and closes everything. Errors name the command.
func withStore(ctx context.Context, command string, cfg storeSettings, e env, f func(*eventstore.Store) int) int {
	return withDatabase(ctx, "aiflow "+command, cfg, e, func(db *database.DB, logger *slog.Logger) int {
		store, err := eventstore.Open(ctx, db.Pool, eventstore.Options{Logger: logger})
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow %s: opening the event store (has `aiflow migrate up` run?): %v\n", command, err)
			return 1
		}
		return f(store)
	})
}
