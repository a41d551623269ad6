// Package migrate applies aiflow's embedded migrations (infra/migrations) to
// a PostgreSQL database with goose. Migrations run under a PostgreSQL
// advisory lock, so processes that start at once (several Lambda cold starts,
// two `aiflow dev`) apply each migration exactly once.
package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/aiflow/aiflow/infra/migrations"
)

// TableName is the table, in the public schema, that records which
// migrations have been applied.
const TableName = "aiflow_migrations"

// Migrator applies migrations to one database.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// Result is what happened to one migration.
type Result struct {
	Version   int64
	Name      string
	Direction string // "up" or "down"
	Duration  time.Duration
}

// Status is the state of one migration in the database.
type Status struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

// New opens a connection to databaseURL for migrating it. It does not touch
// the database until a method is called. Close releases the connection.
func New(databaseURL string) (*Migrator, error) {
	return NewFS(databaseURL, migrations.FS)
}

// NewFS is New with another set of migrations, named and sectioned like
// those of infra/migrations.
func NewFS(databaseURL string, fsys fs.FS) (*Migrator, error) {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("opening the database for migrations: %w", err)
	}
	return newMigrator(db, fsys)
}

// NewFromPool is New over an open pool, such as one that logs in with the
// credentials of a Secrets Manager secret (database.OpenPool). Close
// leaves the pool open.
func NewFromPool(pool *pgxpool.Pool) (*Migrator, error) {
	return newMigrator(stdlib.OpenDBFromPool(pool), migrations.FS)
}

func newMigrator(db *sql.DB, fsys fs.FS) (*Migrator, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("making the migration lock: %w", err)
	}
	store, err := database.NewStore(database.DialectPostgres, TableName)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("making the migration store: %w", err)
	}
	p, err := goose.NewProvider("", db, fsys,
		goose.WithStore(store),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" database/sql driver

// Up applies every pending migration in order and returns what it applied.
func (m *Migrator) Up(ctx context.Context) ([]Result, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			res = partial.Applied
		}
		return results(res), fmt.Errorf("applying migrations: %w", interpret(err))
	}
	return results(res), nil
}

// Down rolls back the most recently applied migration. It returns
// ErrNothingToRollBack when none is applied.
func (m *Migrator) Down(ctx context.Context) (Result, error) {
	res, err := m.provider.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return Result{}, ErrNothingToRollBack
	}
	if err != nil {
		return Result{}, fmt.Errorf("rolling back a migration: %w", interpret(err))
	}
	return results([]*goose.MigrationResult{res})[0], nil
}

// DownTo rolls back every applied migration newer than version; zero rolls
// back all of them.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]Result, error) {
	res, err := m.provider.DownTo(ctx, version)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			res = partial.Applied
		}
		return results(res), fmt.Errorf("rolling back to version %d: %w", version, interpret(err))
	}
	return results(res), nil
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading migration status: %w", interpret(err))
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{
			Version:   s.Source.Version,
			Name:      path.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// Close releases the database connection.
func (m *Migrator) Close() error { return m.db.Close() }

// ErrNothingToRollBack is returned by Down when no migration is applied.
var ErrNothingToRollBack = errors.New("no migration is applied, nothing to roll back")

func results(in []*goose.MigrationResult) []Result {
	out := make([]Result, 0, len(in))
	for _, r := range in {
		if r == nil {
			continue
		}
		out = append(out, Result{
			Version:   r.Source.Version,
			Name:      path.Base(r.Source.Path),
			Direction: r.Direction,
			Duration:  r.Duration,
		})
	}
	return out
}

// interpret turns goose's partial-failure wrapper into its underlying error,
// which names the migration file and the failing statement.
func interpret(err error) error {
	var partial *goose.PartialError
	if errors.As(err, &partial) && partial.Failed != nil {
		return fmt.Errorf("%s: %w", path.Base(partial.Failed.Source.Path), partial.Err)
	}
	return err
}

// Fingerprint is a digest of every migration file's name and content. Two
// databases migrated from the same fingerprint have the same schema, which
// lets tests reuse a migrated template database safely.
func Fingerprint() string {
	h := sha256.New()
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	for _, name := range names {
		raw, _ := fs.ReadFile(migrations.FS, name)
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(raw))
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Latest returns the version of the newest embedded migration.
func Latest() int64 {
	names, _ := fs.Glob(migrations.FS, "*.sql")
	var latest int64
	for _, name := range names {
		var v int64
		if _, err := fmt.Sscanf(strings.SplitN(name, "_", 2)[0], "%d", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}
