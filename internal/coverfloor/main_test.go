package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const mod = "example.com/m"

// profile is two packages' blocks as go test -coverprofile writes them: a
// has 10 statements of which 9 ran, b has 4 of which 1 ran.
const profile = `mode: set
example.com/m/internal/a/a.go:3.10,5.2 6 1
example.com/m/internal/a/a.go:7.10,9.2 3 1
example.com/m/internal/a/b.go:1.1,2.2 1 0
example.com/m/internal/b/b.go:3.10,5.2 1 1
example.com/m/internal/b/b.go:6.10,8.2 3 0
`

func exists(dirs ...string) func(string) bool {
	return func(d string) bool {
		for _, x := range dirs {
			if x == d {
				return true
			}
		}
		return false
	}
}

func TestParseProfileCountsStatementsPerPackage(t *testing.T) {
	t.Parallel()
	pkgs, err := parseProfile(strings.NewReader(profile))
	require.NoError(t, err)
	require.Equal(t, map[string]counts{
		mod + "/internal/a": {Statements: 10, Covered: 9},
		mod + "/internal/b": {Statements: 4, Covered: 1},
	}, pkgs)
}

func TestParseProfileCountsARepeatedBlockOnce(t *testing.T) {
	t.Parallel()
	// Two profiles concatenated, as several test binaries report one
	// package under -coverpkg: the block ran in the second only.
	in := "mode: set\n" + mod + "/a/a.go:1.1,2.2 2 0\n" + "mode: set\n" + mod + "/a/a.go:1.1,2.2 2 1\n" + mod + "/a/a.go:3.1,4.2 1 0\n"
	pkgs, err := parseProfile(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, map[string]counts{mod + "/a": {Statements: 3, Covered: 2}}, pkgs)
}

func TestParseProfileRejectsWhatIsNotAProfile(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, err string }{
		"empty":           {"", "the profile is empty"},
		"no mode":         {mod + "/a/a.go:1.1,2.2 2 0\n", "line 1: a profile starts with a mode line"},
		"fields":          {"mode: set\n" + mod + "/a/a.go:1.1,2.2 2\n", "line 2: want"},
		"no file":         {"mode: set\n1.1,2.2 2 0\n", "line 2: no file name"},
		"statements":      {"mode: set\n" + mod + "/a/a.go:1.1,2.2 x 0\n", `line 2: statement count "x"`},
		"negative count":  {"mode: atomic\n" + mod + "/a/a.go:1.1,2.2 1 -1\n", `line 2: execution count "-1"`},
		"not a count":     {"mode: count\n" + mod + "/a/a.go:1.1,2.2 1 y\n", `line 2: execution count "y"`},
		"only mode lines": {"mode: set\n\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pkgs, err := parseProfile(strings.NewReader(tc.in))
			if tc.err == "" {
				require.NoError(t, err)
				require.Empty(t, pkgs)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestCheckFailsACorePackageUnderTheFloor(t *testing.T) {
	t.Parallel()
	pkgs, err := parseProfile(strings.NewReader(profile))
	require.NoError(t, err)
	r := check(pkgs, checkParams{Module: mod, Floor: 80, Core: []string{"internal/a", "./internal/b/"}, DirExists: exists()})
	require.False(t, r.OK)
	require.Equal(t, counts{Statements: 14, Covered: 10}, r.Total)
	require.Equal(t, []line{
		{Package: "internal/a", counts: counts{10, 9}, Core: true, Status: "ok"},
		{Package: "internal/b", counts: counts{4, 1}, Core: true, Status: "under the floor"},
	}, r.Lines)

	var out strings.Builder
	require.NoError(t, r.write(&out))
	require.Equal(t, `  statements  covered  coverage  package
          10        9     90.0%  internal/a (core, ok)
           4        1     25.0%  internal/b (core, under the floor)
          14       10     71.4%  total
FAIL core package internal/b: 25.0% of its statements covered by its own tests, the floor is 80%
1 core package(s) under 80% statement coverage
`, out.String())
}

func TestCheckSkipsAMissingCorePackageAndFailsAnUntestedOne(t *testing.T) {
	t.Parallel()
	pkgs, err := parseProfile(strings.NewReader(profile))
	require.NoError(t, err)

	// internal/c has no folder: reported, skipped, the check passes.
	r := check(pkgs, checkParams{Module: mod, Floor: 80, Core: []string{"internal/a", "internal/c"}, DirExists: exists()})
	require.True(t, r.OK)
	var out strings.Builder
	require.NoError(t, r.write(&out))
	require.Contains(t, out.String(), "           -        -         -  internal/c (core, missing)\n")
	require.Contains(t, out.String(), "           4        1     25.0%  internal/b\n", "a package off the core list is reported, not checked")
	require.Contains(t, out.String(), "core package internal/c is missing: skipped until it exists\n")
	require.True(t, strings.HasSuffix(out.String(), "every core package is at or above 80% statement coverage\n"), out.String())

	// Once its folder exists, a core package absent from the profile fails.
	r = check(pkgs, checkParams{Module: mod, Floor: 80, Core: []string{"internal/c"}, DirExists: exists("internal/c")})
	require.False(t, r.OK)
	out.Reset()
	require.NoError(t, r.write(&out))
	require.Contains(t, out.String(), "FAIL core package internal/c has no statements in the profile")
}

func TestShownPercentNeverRoundsUpToTheFloor(t *testing.T) {
	t.Parallel()
	c := counts{Statements: 10000, Covered: 7999} // 79.99%
	require.InDelta(t, 79.9, c.shown(), 1e-9)
	r := check(map[string]counts{mod + "/p": c}, checkParams{Module: mod, Floor: 80, Core: []string{"p"}, DirExists: exists()})
	require.False(t, r.OK)
	require.InDelta(t, 100, counts{}.percent(), 0, "a package without statements is fully covered")
}

func TestRunReadsTheModulePathAndTheProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prof := filepath.Join(dir, "cover.out")
	require.NoError(t, os.WriteFile(prof, []byte(profile), 0o600))
	var out strings.Builder
	ok, err := run(runParams{Profile: prof, Floor: 50, Module: mod, Core: []string{"internal/a"}, Out: &out, DirExists: exists()})
	require.NoError(t, err)
	require.True(t, ok)
	require.Contains(t, out.String(), "internal/a (core, ok)")

	_, err = run(runParams{Profile: filepath.Join(dir, "none.out"), Module: mod, Out: &out, DirExists: exists()})
	require.ErrorContains(t, err, "opening the profile")

	gomod := filepath.Join(dir, "go.mod")
	require.NoError(t, os.WriteFile(gomod, []byte("// m\nmodule "+mod+"\n\ngo 1.26\n"), 0o600))
	got, err := readModulePath(gomod)
	require.NoError(t, err)
	require.Equal(t, mod, got)
	require.NoError(t, os.WriteFile(gomod, []byte("go 1.26\n"), 0o600))
	_, err = readModulePath(gomod)
	require.ErrorContains(t, err, "no module line")
}
