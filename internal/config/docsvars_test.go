package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocsNameEveryVariable: every environment variable a loader of this
// package reads is named, in backquotes, in the documentation under docs/
// (docs/configuration.md, or the page it sends the reader to), so that no
// setting works that a user cannot find. Every Load function of the
// package runs, with nothing set and again with each variable it read set
// to each of a few values, so that variables read only when another is
// set are seen too.
func TestDocsNameEveryVariable(t *testing.T) {
	t.Parallel()
	documented := map[string]bool{}
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range name.FindAllStringSubmatch(string(raw), -1) {
			documented[m[1]] = true
		}
	}

	read := map[string]bool{}
	recording := func(set map[string]string) LookupFunc {
		return func(key string) (string, bool) {
			read[key] = true
			v, ok := set[key]
			return v, ok
		}
	}
	loaders := map[string]func(LookupFunc){
		"LoadAPI":              func(l LookupFunc) { _, _ = LoadAPI(l) },
		"LoadAPIFunction":      func(l LookupFunc) { _, _ = LoadAPIFunction(l) },
		"LoadArchive":          func(l LookupFunc) { _, _ = LoadArchive(l) },
		"LoadAuth":             func(l LookupFunc) { _, _ = LoadAuth(l, "test") },
		"LoadAudit":            func(l LookupFunc) { _, _ = LoadAudit(l) },
		"LoadConsole":          func(l LookupFunc) { _, _ = LoadConsole(l) },
		"LoadDevConsole":       func(l LookupFunc) { _, _ = LoadDevConsole(l) },
		"LoadDev":              func(l LookupFunc) { _, _ = LoadDev(l) },
		"LoadMigrate":          func(l LookupFunc) { _, _ = LoadMigrate(l) },
		"LoadReplay":           func(l LookupFunc) { _, _ = LoadReplay(l) },
		"LoadDoctor":           func(l LookupFunc) { _, _ = LoadDoctor(l) },
		"LoadEngine":           func(l LookupFunc) { _, _ = LoadEngine(l) },
		"LoadHealthCheck":      func(l LookupFunc) { _, _ = LoadHealthCheck(l) },
		"LoadRun":              func(l LookupFunc) { _, _ = LoadRun(l) },
		"LoadMCPTools":         func(l LookupFunc) { _, _ = LoadMCPTools(l, MCPToolsParams{Binary: "test"}) },
		"LoadMCPToolsDatabase": func(l LookupFunc) { _, _ = LoadMCPToolsDatabase(l, "test") },
		"LoadMigrateFunction":  func(l LookupFunc) { _, _ = LoadMigrateFunction(l) },
		"LoadRecorder":         func(l LookupFunc) { _, _ = LoadRecorder(l) },
		"LoadServiceStep":      func(l LookupFunc) { _, _ = LoadServiceStep(l) },
		"LoadServiceClient":    func(l LookupFunc) { _, _ = LoadServiceClient(l) },
		"LoadStack":            func(l LookupFunc) { _, _ = LoadStack(l) },
		"LoadAIStep":           func(l LookupFunc) { _, _ = LoadAIStep(l) },
		"LoadMCPStep":          func(l LookupFunc) { _, _ = LoadMCPStep(l) },
		"LoadSupport":          func(l LookupFunc) { _, _ = LoadSupport(l, "test", false) },
		"LoadMCPServer":        func(l LookupFunc) { _, _ = LoadMCPServer(l) },
		"LoadMCPServe":         func(l LookupFunc) { _, _ = LoadMCPServe(l, false) },
		"LoadMCPSeed":          func(l LookupFunc) { _, _ = LoadMCPSeed(l) },
		"LoadTracing":          func(l LookupFunc) { _, _ = LoadTracing(l) },
	}
	require.ElementsMatch(t, loadFunctions(t), slices.Collect(maps.Keys(loaders)), "every Load function of the package runs here")
	for _, load := range loaders {
		load(recording(nil))
	}
	// Again with every variable seen set, until no new one is read: some
	// are read only when another is set (a secret's host with the
	// secret) or names a mode (the blob store's). Each round sets them
	// all to each value of values in turn; a value a variable refuses is
	// no matter here: it was read.
	values := []string{"1", "true", "aws", "s3", "postgres", "bedrock", "openai", "anthropic", "jwks", "authorizer", "console", "otlp", "traceidratio"}
	for seen := 0; seen != len(read); {
		seen = len(read)
		for _, v := range values {
			set := map[string]string{}
			for k := range read {
				set[k] = v
			}
			for _, load := range loaders {
				load(recording(set))
			}
		}
	}
	t.Logf("%d variables read", len(read))
	var undocumented []string
	for k := range read {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	slices.Sort(undocumented)
	require.Empty(t, undocumented, "read by a loader, named nowhere in docs/")
}

// loadFunctions are the names of the package's exported functions whose
// names start with Load, from its source.
func loadFunctions(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var names []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Load") {
				names = append(names, fn.Name.Name)
			}
		}
	}
	return names
}
