// Package pgclustertest gives tests real PostgreSQL databases. A test package
// calls Main from its TestMain; each call of Database then returns a new,
// fully migrated database cloned from a template, dropped when the test ends.
//
// When DATABASE_URL names a reachable server the databases are made there
// (the URL's role must be allowed to create databases); otherwise Main starts
// a throwaway cluster from the local PostgreSQL binaries and removes it when
// the package's tests are done.
package pgclustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster"
)

var (
	mu       sync.Mutex
	started  bool
	adminURL string
	cluster  *pgcluster.Cluster
	template string
	setupErr error

	packageDB     string
	packagePool   *pgxpool.Pool
	packageDBOnce sync.Once
	packageDBErr  error
)

// Main runs a package's tests with PostgreSQL available and exits with
// their status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgclustertest.Main(m) }
func Main(m *testing.M) {
	code := run(m)
	os.Exit(code)
}

// Run is Main for a TestMain with work of its own after the tests: it
// returns their status, the cluster stopped, instead of exiting.
func Run(m *testing.M) int { return run(m) }

func run(m *testing.M) int {
	mu.Lock()
	started = true
	mu.Unlock()
	defer func() {
		if packagePool != nil {
			packagePool.Close()
		}
		if packageDB != "" {
			if err := dropDatabase(adminURL, dbNameOf(packageDB)); err != nil {
				fmt.Fprintf(os.Stderr, "pgclustertest: %v\n", err)
			}
		}
		if cluster != nil {
			if err := cluster.Stop(context.Background()); err != nil {
				fmt.Fprintf(os.Stderr, "pgclustertest: stopping the throwaway cluster: %v\n", err)
			}
		}
	}()
	return m.Run()
}

// setup starts the server (or adopts DATABASE_URL) and builds the template
// on first use, so packages whose selected tests need no database start none.
func setup() error {
	if adminURL != "" || setupErr != nil {
		return setupErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("DATABASE_URL"); u != "" {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
			setupErr = fmt.Errorf("DATABASE_URL must be a postgres:// URL for tests (example: postgres://postgres@localhost:5432/postgres?sslmode=disable)")
			return setupErr
		}
		if err := ping(ctx, u); err == nil {
			adminURL = u
		} else {
			fmt.Fprintf(os.Stderr, "pgclustertest: DATABASE_URL is not reachable (%v); starting a throwaway cluster instead\n", err)
		}
	}
	if adminURL == "" {
		bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
		if err != nil {
			setupErr = err
			return err
		}
		c, err := pgcluster.Start(ctx, pgcluster.Options{Binaries: bins, Settings: serverSettings()})
		if err != nil {
			setupErr = err
			return err
		}
		cluster, adminURL = c, c.URL("postgres")
	}
	template, setupErr = buildTemplate(ctx, adminURL)
	return setupErr
}

func ping(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return pgcluster.Ping(ctx, u)
}

// buildTemplate makes (once per migration fingerprint and server) a database
// with every migration applied, marked as a template. An advisory lock keeps
// test packages that share a server from building it twice.
func buildTemplate(ctx context.Context, admin string) (string, error) {
	name := "aiflow_template_" + migrate.Fingerprint()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connecting to build the template database: %w", err)
	}
	defer conn.Close(ctx)
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return "", fmt.Errorf("locking the template database: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck // the session ends anyway

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("looking up the template database: %w", err)
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(building)+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("clearing an unfinished template database: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(building)); err != nil {
		return "", fmt.Errorf("creating the template database: %w", err)
	}
	m, err := migrate.New(withDatabase(admin, building))
	if err != nil {
		return "", err
	}
	_, err = m.Up(ctx)
	m.Close()
	if err != nil {
		return "", fmt.Errorf("migrating the template database: %w", err)
	}
	for _, stmt := range []string{
		"ALTER DATABASE " + ident(building) + " RENAME TO " + ident(name),
		"ALTER DATABASE " + ident(name) + " IS_TEMPLATE true",
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", fmt.Errorf("finishing the template database: %w", err)
		}
	}
	return name, nil
}

// AdminURL returns a URL with which the test may create databases and roles.
// It fails the test when no server can be had.
func AdminURL(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !started {
		t.Fatal("pgclustertest: call pgclustertest.Main(m) from this package's TestMain")
	}
	if err := setup(); err != nil {
		t.Fatalf("pgclustertest: %v", err)
	}
	return adminURL
}

// Database creates a fresh, fully migrated database for the test and
// returns its URL (as the admin role). The database is dropped when the test
// and its subtests are done.
func Database(t testing.TB) string {
	t.Helper()
	AdminURL(t)
	mu.Lock()
	tmpl := template
	mu.Unlock()
	return create(t, tmpl)
}

func create(t testing.TB, tmpl string) string {
	t.Helper()
	admin := AdminURL(t)
	name := "aiflow_test_" + randomSuffix()
	if err := createDatabase(admin, name, tmpl); err != nil {
		t.Fatalf("pgclustertest: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			t.Errorf("pgclustertest: %v", err)
		}
	})
	return withDatabase(admin, name)
}

func createDatabase(admin, name, tmpl string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connecting to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(tmpl)); err != nil {
		return fmt.Errorf("creating database %s from %s: %w", name, tmpl, err)
	}
	return nil
}

func dropDatabase(admin, name string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connecting to drop database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

func dbNameOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// PackageDatabase returns the URL of one fully migrated database shared by
// every test of the package that asks for it, made on first use and dropped
// after the package's tests. A clone costs a few hundred milliseconds with
// fsync on (see docs/performance.md); tests that keep to their own keys
// (their own streams, names or ids) share this one instead of paying it each.
func PackageDatabase(t testing.TB) string {
	t.Helper()
	AdminURL(t)
	packageDBOnce.Do(func() {
		name := "aiflow_pkg_" + randomSuffix()
		packageDBErr = createDatabase(adminURL, name, template)
		if packageDBErr == nil {
			packageDB = withDatabase(adminURL, name)
		}
	})
	if packageDBErr != nil {
		t.Fatalf("pgclustertest: %v", packageDBErr)
	}
	return packageDB
}

// PackagePool returns a connection pool on PackageDatabase, shared by the
// package's tests and closed after them.
func PackagePool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := PackageDatabase(t)
	mu.Lock()
	defer mu.Unlock()
	if packagePool == nil {
		pool, err := pgxpool.New(context.Background(), dsn)
		if err != nil {
			t.Fatalf("pgclustertest: opening a pool: %v", err)
		}
		packagePool = pool
	}
	return packagePool
}

// EmptyDatabase creates a database with no migration applied, for tests of
// migrations themselves, and drops it when the test ends.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	return create(t, "template0")
}

// Pool returns a connection pool on a fresh database (see Database), closed
// when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), Database(t))
	if err != nil {
		t.Fatalf("pgclustertest: opening a pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Cluster returns the throwaway cluster Main started, or nil when the tests
// run against DATABASE_URL.
func Cluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	AdminURL(t)
	mu.Lock()
	defer mu.Unlock()
	return cluster
}

// ReachableTempDir returns a temporary folder, removed after the test, that
// the postgres user can enter when the tests run as root (t.TempDir's
// folders are private to their owner), for tests of persistent clusters.
func ReachableTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("pgclustertest: opening %s to the postgres user: %v", d, err)
		}
	}
	return dir
}

// WithDatabase returns u with its database replaced by name.
func WithDatabase(u, name string) string { return withDatabase(u, name) }

func withDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprintf("pgclustertest: admin URL does not parse: %v", err)) // setup accepts only URLs
	}
	parsed.Path = "/" + name
	parsed.RawPath = ""
	return parsed.String()
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
