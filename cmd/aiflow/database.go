package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

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
