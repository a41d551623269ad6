package pgcluster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func fakeBinaries(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'postgres (PostgreSQL) " + version + "'\n"
	for _, name := range []string{"initdb", "postgres"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755))
	}
	return dir
}

func TestFindBinariesInAGivenFolder(t *testing.T) {
	t.Parallel()
	found, err := FindBinaries("")
	require.NoError(t, err)
	require.GreaterOrEqual(t, found.Major, MinMajorVersion)
	require.FileExists(t, found.Path("initdb"))

	again, err := FindBinaries(found.Dir)
	require.NoError(t, err)
	require.Equal(t, found, again)

	b, err := FindBinaries(fakeBinaries(t, "17.2"))
	require.NoError(t, err)
	require.Equal(t, "17.2", b.Version)
	require.Equal(t, 17, b.Major)
}

func TestFindBinariesErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	_, err := FindBinaries(empty)
	require.ErrorContains(t, err, "AIFLOW_PG_BINDIR="+empty+" does not hold initdb and postgres")

	old := fakeBinaries(t, "12.9")
	_, err = FindBinaries(old)
	require.ErrorContains(t, err, "PostgreSQL 12.9 in "+old+" is too old: aiflow needs 14 or newer")
}

// Not parallel: it changes PATH and the package's search folders.
func TestFindBinariesSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := searchDirsFunc
	searchDirsFunc = func() []string { return []string{t.TempDir()} }
	t.Cleanup(func() { searchDirsFunc = saved })

	_, err := FindBinaries("")
	require.True(t, errors.Is(err, ErrNoBinaries))
	for _, want := range []string{"apt-get install postgresql", "brew install postgresql", "AIFLOW_PG_BINDIR", "DATABASE_URL"} {
		require.Contains(t, err.Error(), want)
	}
}

func TestVersionOfInstallFolders(t *testing.T) {
	t.Parallel()
	require.Equal(t, 17, versionOf("/usr/lib/postgresql/17/bin"))
	require.Equal(t, 16, versionOf("/opt/homebrew/opt/postgresql@16/bin"))
	require.Equal(t, 0, versionOf("/usr/local/pgsql/bin"))
}
