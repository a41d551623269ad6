package migrate_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/infra/migrations"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

var serviceSchemas = []string{"api", "engine", "registry", "support"}

func schemas(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname`, serviceSchemas)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func newMigrator(t *testing.T, url string) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// migratedDownTo returns the URL of a fresh database migrated all the way
// up and rolled back to version, and its migrator: the start of a test of
// the migration after version, run over rows of the schema before it.
func migratedDownTo(t *testing.T, version int64) (string, *migrate.Migrator) {
	t.Helper()
	url := pgclustertest.EmptyDatabase(t)
	m := newMigrator(t, url)
	_, err := m.Up(context.Background())
	require.NoError(t, err)
	_, err = m.DownTo(context.Background(), version)
	require.NoError(t, err)
	return url, m
}

func TestUpDownRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgclustertest.EmptyDatabase(t)
	m := newMigrator(t, url)

	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	for _, s := range st {
		require.False(t, s.Applied, "%s is pending on a new database", s.Name)
	}

	applied, err := m.Up(ctx)
	require.NoError(t, err)
	require.Len(t, applied, len(st))
	require.Equal(t, "00001_service_schemas.sql", applied[0].Name)
	require.Equal(t, "up", applied[0].Direction)
	require.Equal(t, serviceSchemas, schemas(t, url))

	again, err := m.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "a second up applies nothing")

	st, err = m.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		require.True(t, s.Applied, "%s is applied", s.Name)
		require.False(t, s.AppliedAt.IsZero())
	}
	require.Equal(t, migrate.Latest(), st[len(st)-1].Version)

	rolled, err := m.DownTo(ctx, 0)
	require.NoError(t, err)
	require.Len(t, rolled, len(st))
	require.Equal(t, "down", rolled[0].Direction)
	require.Empty(t, schemas(t, url), "down removes every schema up made")

	_, err = m.Down(ctx)
	require.ErrorIs(t, err, migrate.ErrNothingToRollBack)

	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, serviceSchemas, schemas(t, url), "up after down rebuilds the same schemas")

	one, err := m.Down(ctx)
	require.NoError(t, err)
	require.Equal(t, migrate.Latest(), one.Version, "down rolls back the newest migration only")
}

func TestConcurrentUpAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgclustertest.EmptyDatabase(t)
	const processes = 4
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for range processes {
		m := newMigrator(t, url)
		wg.Go(func() {
			res, err := m.Up(ctx)
			mu.Lock()
			defer mu.Unlock()
			total += len(res)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	// Counted as files: parallel branches each take a number, so the
	// numbers may have a gap until all have landed.
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.Len(t, files, total, "every migration applied exactly once across all migrators")
}

func TestFailedMigrationNamesTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgclustertest.EmptyDatabase(t)
	fsys := fstest.MapFS{
		"00001_ok.sql":     {Data: []byte("-- +goose Up\nCREATE TABLE good (id int);\n-- +goose Down\nDROP TABLE good;\n")},
		"00002_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE bad (id nosuchtype);\n-- +goose Down\nDROP TABLE bad;\n")},
	}
	m, err := migrate.NewFS(url, fsys)
	require.NoError(t, err)
	defer m.Close()

	applied, err := m.Up(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "00002_broken.sql")
	require.Contains(t, err.Error(), "nosuchtype")
	require.Len(t, applied, 1, "the migration before the broken one stays applied")

	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.True(t, st[0].Applied)
	require.False(t, st[1].Applied, "a failed migration is not recorded")
}

func TestFingerprintIsStable(t *testing.T) {
	t.Parallel()
	require.Len(t, migrate.Fingerprint(), 12)
	require.Equal(t, migrate.Fingerprint(), migrate.Fingerprint())
	require.GreaterOrEqual(t, migrate.Latest(), int64(1))
}
