// Package database opens the PostgreSQL database a command of aiflow works
// on, the same way for every command: DATABASE_URL when it is set and
// reachable, otherwise a cluster started from the local PostgreSQL binaries
// (the development cluster `aiflow dev` keeps under its data folder, or a
// throwaway one), with a connection pool on it and one Close that lets
// everything go. A command that wants a database of its own (a benchmark's
// scratch database) asks for one with Params.Scratch.
package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/outage"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// DevDatabase is the database aiflow uses in the clusters it starts.
const DevDatabase = "aiflow"

// pingTimeout bounds the check that DATABASE_URL is reachable.
const pingTimeout = 3 * time.Second

// Params says which database to open.
type Params struct {
	// URL is DATABASE_URL: used when set and reachable.
	URL string
	// DataDir holds the development cluster, in DataDir/pg, started (or
	// made) when URL is not used.
	DataDir string
	// BinDir is where the PostgreSQL binaries are (AIFLOW_PG_BINDIR); empty
	// means the usual places.
	BinDir string
	// Scratch, when set, asks for a database of the command's own, removed
	// by Close: a new database named Scratch and a random suffix on URL's
	// server (its role needs CREATEDB), or, when URL is not used, the
	// aiflow database of a throwaway cluster. DataDir is not used then.
	Scratch string
	Logger  *slog.Logger
	// Out is told which database is used.
	Out io.Writer
}

// DB is an open database.
type DB struct {
	// URL is the database's connection URL.
	URL string
	// Where says where the database is, for people: "DATABASE_URL" or
	// the cluster's folder.
	Where string
	// Pool is a connection pool on the database.
	Pool *pgxpool.Pool

	release   func(context.Context) error // stops the cluster, or drops the scratch database
	closeOnce sync.Once
	closeErr  error
}

// Open opens the database p names (see Params) and a pool on it. Its
// errors say what was tried: PostgreSQL binaries not found, a cluster that
// did not start, a scratch database that could not be made.
func Open(ctx context.Context, p Params) (*DB, error) {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Out == nil {
		p.Out = io.Discard
	}
	open := openShared
	if p.Scratch != "" {
		open = openScratch
	}
	db, err := open(ctx, p)
	if err != nil {
		return nil, err
	}
	if db.Pool, err = pgxpool.New(ctx, db.URL); err != nil {
		return nil, errors.Join(fmt.Errorf("opening the database pool: %w", err), db.release(context.WithoutCancel(ctx)))
	}
	return db, nil
}

// Close closes the pool and stops the cluster this process started, or
// drops the scratch database. Calling it again returns the first result.
func (d *DB) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		if d.Pool != nil {
			d.Pool.Close()
		}
		d.closeErr = d.release(ctx)
	})
	return d.closeErr
}

// openShared returns DATABASE_URL when it is set and reachable; otherwise
// it starts (or creates) the development cluster under DataDir/pg and
// returns its aiflow database.
func openShared(ctx context.Context, p Params) (*DB, error) {
	if p.URL != "" {
		err := Ping(ctx, p.URL)
		if err == nil {
			fmt.Fprintf(p.Out, "using DATABASE_URL %s\n", telemetry.RedactURL(p.URL))
			return &DB{URL: p.URL, Where: "DATABASE_URL", release: func(context.Context) error { return nil }}, nil
		}
		p.Logger.Warn("DATABASE_URL is not reachable; starting the local development cluster instead",
			"database_url", telemetry.RedactURL(p.URL), "error", err)
	}
	dir := filepath.Join(p.DataDir, "pg")
	c, bins, err := startCluster(ctx, p, dir)
	if err != nil {
		return nil, err
	}
	if c.Attached() {
		fmt.Fprintf(p.Out, "PostgreSQL %s running already (another aiflow process started it): %s (127.0.0.1:%d, data kept in %s)\n", bins.Version, DevDatabase, c.Port(), dir)
	} else {
		fmt.Fprintf(p.Out, "PostgreSQL %s ready: %s (127.0.0.1:%d, data kept in %s)\n", bins.Version, DevDatabase, c.Port(), dir)
	}
	return &DB{URL: c.URL(DevDatabase), Where: dir, release: c.Stop}, nil
}

// openScratch makes a database for the command alone, so that what it
// writes lands in no database of the user's: a new database on
// DATABASE_URL's server when it is set and reachable, otherwise one in a
// throwaway cluster.
func openScratch(ctx context.Context, p Params) (*DB, error) {
	if p.URL != "" && Ping(ctx, p.URL) == nil {
		name := p.Scratch + "_" + randomHex(6)
		if err := adminExec(ctx, p.URL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("creating the scratch database %s on DATABASE_URL (its role needs CREATEDB): %w", name, err)
		}
		fmt.Fprintf(p.Out, "using DATABASE_URL %s: scratch database %s, dropped after\n", telemetry.RedactURL(p.URL), name)
		return &DB{URL: withDatabaseName(p.URL, name), Where: "a scratch database on DATABASE_URL", release: func(ctx context.Context) error {
			return adminExec(ctx, p.URL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		}}, nil
	}
	if p.URL != "" {
		p.Logger.Warn("DATABASE_URL is not reachable; starting a throwaway cluster instead", "database_url", telemetry.RedactURL(p.URL))
	}
	c, bins, err := startCluster(ctx, p, "")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(p.Out, "PostgreSQL %s ready: a throwaway cluster in %s, removed after\n", bins.Version, c.Dir())
	return &DB{URL: c.URL(DevDatabase), Where: "a throwaway cluster", release: c.Stop}, nil
}

// startCluster starts a cluster in dir (a throwaway one when dir is empty)
// and makes sure it has the aiflow database.
func startCluster(ctx context.Context, p Params, dir string) (*pgcluster.Cluster, pgcluster.Binaries, error) {
	bins, err := pgcluster.FindBinaries(p.BinDir)
	if err != nil {
		return nil, bins, err
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Dir: dir, Logger: p.Logger})
	if err != nil {
		return nil, bins, err
	}
	if err := c.EnsureDatabase(ctx, DevDatabase); err != nil {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, bins, err
	}
	return c, bins, nil
}

// Ping connects to url once and reports whether the server accepted the
// connection within a few seconds.
func Ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return outage.Classify(pgcluster.Ping(ctx, url))
}

// adminExec runs one statement on its own connection to dsn.
func adminExec(ctx context.Context, dsn, stmt string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to DATABASE_URL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, stmt)
	return err
}

// withDatabaseName returns the postgres:// URL dsn with its database
// replaced by name.
func withDatabaseName(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // config accepted it as a URL; not reached
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
