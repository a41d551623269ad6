package database

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// currentDatabase returns the name of the database the pool is on.
func currentDatabase(t *testing.T, db *DB) string {
	t.Helper()
	var name string
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name))
	return name
}

// databaseExists reports whether the server of admin has the database.
func databaseExists(t *testing.T, admin, name string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), admin)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var exists bool
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists))
	return exists
}

func TestOpenDatabaseURL(t *testing.T) {
	t.Parallel()
	admin := pgclustertest.AdminURL(t)
	var out bytes.Buffer
	db, err := Open(t.Context(), Params{URL: admin, DataDir: t.TempDir(), Out: &out})
	require.NoError(t, err)
	require.Equal(t, admin, db.URL)
	require.Equal(t, "DATABASE_URL", db.Where)
	require.True(t, strings.HasPrefix(out.String(), "using DATABASE_URL "), out.String())
	require.NotEmpty(t, currentDatabase(t, db))

	require.NoError(t, db.Close(t.Context()))
	require.NoError(t, db.Close(t.Context()), "closing again")
}

func TestOpenScratchOnDatabaseURL(t *testing.T) {
	t.Parallel()
	admin := pgclustertest.AdminURL(t)
	var out bytes.Buffer
	db, err := Open(t.Context(), Params{URL: admin, Scratch: "aiflow_test", Out: &out})
	require.NoError(t, err)
	name := currentDatabase(t, db)
	require.Regexp(t, `^aiflow_test_[0-9a-f]{12}$`, name)
	require.Equal(t, "a scratch database on DATABASE_URL", db.Where)
	require.Contains(t, out.String(), "scratch database "+name+", dropped after")
	require.True(t, databaseExists(t, admin, name))

	require.NoError(t, db.Close(t.Context()))
	require.False(t, databaseExists(t, admin, name), "Close drops the scratch database")
}

// TestOpenUnreachableURL: a DATABASE_URL that does not answer is passed
// over for the development cluster, with a warning; here the binaries are
// missing, so the error says so.
func TestOpenUnreachableURL(t *testing.T) {
	t.Parallel()
	for _, scratch := range []string{"", "aiflow_test"} {
		t.Run("Scratch="+scratch, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			bins := t.TempDir()
			_, err := Open(t.Context(), Params{
				URL:     "postgres://nobody:secret@127.0.0.1:1/none?connect_timeout=1",
				DataDir: t.TempDir(), BinDir: bins, Scratch: scratch,
				Logger: slog.New(slog.NewTextHandler(&log, nil)),
			})
			require.ErrorContains(t, err, "AIFLOW_PG_BINDIR="+bins+" does not hold")
			require.Contains(t, log.String(), "DATABASE_URL is not reachable")
			require.NotContains(t, log.String(), "secret", "the URL's password is not logged")
		})
	}
}

func TestOpenDevelopmentCluster(t *testing.T) {
	t.Parallel()
	dataDir := pgclustertest.ReachableTempDir(t)
	var out bytes.Buffer
	db, err := Open(t.Context(), Params{DataDir: dataDir, Out: &out})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	require.Equal(t, filepath.Join(dataDir, "pg"), db.Where)
	require.Equal(t, DevDatabase, currentDatabase(t, db))
	require.Regexp(t, `^PostgreSQL \d+(\.\d+)* ready: aiflow \(127\.0\.0\.1:\d+, data kept in `+regexp.QuoteMeta(db.Where)+`\)\n$`, out.String())
	require.NoError(t, db.Close(t.Context()))
	require.Error(t, Ping(t.Context(), db.URL), "Close stops the cluster")
}
