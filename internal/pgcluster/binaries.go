package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// requiredBinaries are the programs a cluster needs. psql is not among them:
// aiflow talks to the server with pgx.
var requiredBinaries = []string{"initdb", "postgres"}

// ErrNoBinaries is returned by FindBinaries when no PostgreSQL server binaries
// are found. Its text says what to install and which variable to set instead.
var ErrNoBinaries = errors.New(`no PostgreSQL server binaries (initdb, postgres) were found, and DATABASE_URL is not set.
Either install PostgreSQL (aiflow needs version 14 or newer):
  Debian/Ubuntu:  sudo apt-get install postgresql
  macOS:          brew install postgresql@17
and, if they are not on PATH, point AIFLOW_PG_BINDIR at the folder holding initdb
(for example AIFLOW_PG_BINDIR=/usr/lib/postgresql/17/bin);
or set DATABASE_URL to a server you already run
(for example DATABASE_URL=postgres://aiflow:secret@localhost:5432/aiflow?sslmode=disable)`)

// MinMajorVersion is the oldest PostgreSQL major version aiflow supports.
const MinMajorVersion = 14

// Binaries is a folder of PostgreSQL server programs.
type Binaries struct {
	// Dir is the folder that holds initdb and postgres.
	Dir string
	// Version is what `postgres --version` printed, e.g. "15.18".
	Version string
	// Major is the major version, e.g. 15.
	Major int
}

// Path returns the full path of the named program in b.
func (b Binaries) Path(name string) string { return filepath.Join(b.Dir, name) }

// searchDirsFunc lists the usual install folders, newest version first. It is
// a variable so tests can point it elsewhere.
var searchDirsFunc = defaultSearchDirs

func defaultSearchDirs() []string {
	var dirs []string
	for _, pattern := range []string{
		"/usr/lib/postgresql/*/bin",          // Debian, Ubuntu
		"/usr/pgsql-*/bin",                   // RHEL, Fedora (PGDG)
		"/opt/homebrew/opt/postgresql@*/bin", // Homebrew on Apple silicon
		"/usr/local/opt/postgresql@*/bin",    // Homebrew on Intel
		"/Applications/Postgres.app/Contents/Versions/*/bin",
	} {
		matches, _ := filepath.Glob(pattern)
		sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
		dirs = append(dirs, matches...)
	}
	return append(dirs, "/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin")
}

var versionInPath = regexp.MustCompile(`(\d+)(?:\.\d+)?`)

func versionOf(dir string) int {
	m := versionInPath.FindAllStringSubmatch(dir, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// FindBinaries locates the PostgreSQL server programs. It looks in dir when
// dir is not empty (and only there), otherwise on PATH and then in the usual
// install folders, preferring the newest version. It returns ErrNoBinaries
// when none are found, and an error naming the folder and the version when
// the binaries found are older than MinMajorVersion.
func FindBinaries(dir string) (Binaries, error) {
	if dir != "" {
		if !hasAll(dir) {
			return Binaries{}, fmt.Errorf("AIFLOW_PG_BINDIR=%s does not hold %s", dir, strings.Join(requiredBinaries, " and "))
		}
		return describe(dir)
	}
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	candidates = append(candidates, searchDirsFunc()...)
	for _, c := range candidates {
		if hasAll(c) {
			return describe(c)
		}
	}
	return Binaries{}, ErrNoBinaries
}

func hasAll(dir string) bool {
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

var serverVersion = regexp.MustCompile(`\(PostgreSQL\)\s+((\d+)(?:\.\d+)?)`)

func describe(dir string) (Binaries, error) {
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("running %s --version: %w", filepath.Join(dir, "postgres"), err)
	}
	m := serverVersion.FindStringSubmatch(string(out))
	if m == nil {
		return Binaries{}, fmt.Errorf("reading the version of %s: unexpected output %q", filepath.Join(dir, "postgres"), strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[2])
	b := Binaries{Dir: dir, Version: m[1], Major: major}
	if major < MinMajorVersion {
		return b, fmt.Errorf("PostgreSQL %s in %s is too old: aiflow needs %d or newer", b.Version, dir, MinMajorVersion)
	}
	return b, nil
}
