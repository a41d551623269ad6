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

	require.ElementsMatch(t, loadFunctions(t), slices.Collect(maps.Keys(loaders)), "every Load function of the package runs here")
	read := variablesRead(slices.Collect(maps.Values(loaders))...)
	var undocumented []string
	for k := range read {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	slices.Sort(undocumented)
	require.Empty(t, undocumented, "read by a loader, named nowhere in docs/")
}

// loaders runs each Load function of the package, by its name.
var loaders = map[string]func(LookupFunc){
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

// variablesRead are the variables the loaders read: with nothing set, and
// again with every variable seen set, until no new one is read, since
// some are read only when another is set (a secret's host with the
// secret) or names a mode (the blob store's). Each round sets them all to
// each of a few values in turn; a value a variable refuses is no matter
// here: it was read.
func variablesRead(loads ...func(LookupFunc)) map[string]bool {
	read := map[string]bool{}
	recording := func(set map[string]string) LookupFunc {
		return func(key string) (string, bool) {
			read[key] = true
			v, ok := set[key]
			return v, ok
		}
	}
	for _, load := range loads {
		load(recording(nil))
	}
	values := []string{"1", "true", "aws", "s3", "postgres", "bedrock", "openai", "anthropic", "jwks", "authorizer", "console", "otlp", "traceidratio"}
	for seen := 0; seen != len(read); {
		seen = len(read)
		for _, v := range values {
			set := map[string]string{}
			for k := range read {
				set[k] = v
			}
			for _, load := range loads {
				load(recording(set))
			}
		}
	}
	return read
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

// TestEachCommandReadsTheVariablesItsSectionLists: the variables in the
// first column of a command's table in docs/configuration.md are read by
// that command's loaders, so that a variable documented for a command
// does what it says there (aiflow dev once listed nothing it did not
// read, but the API's rate limit variables, documented for every API,
// were not read by it).
func TestEachCommandReadsTheVariablesItsSectionLists(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	sections := map[string][]string{} // heading: the variables of its tables' first column
	heading := ""
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	for line := range strings.Lines(string(raw)) {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			heading = strings.TrimSpace(h)
			continue
		}
		if h, ok := strings.CutPrefix(line, "### "); ok {
			heading = strings.TrimSpace(h)
			continue
		}
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 2 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[0], -1) {
			sections[heading] = append(sections[heading], m[1])
		}
	}
	// The loaders of each section's command: each group in a section's
	// list reads every variable it lists, a group's loaders together.
	// The variables the AWS SDK reads itself are read by no loader.
	bySection := map[string][][]string{
		"Every binary": {{"LoadDev"}, {"LoadAPIFunction"}},
		"`aiflow dev`": {{"LoadDev", "LoadDevConsole"}},
		"The in-process step workers (`aiflow dev`, `aiflow run`)": {{"LoadDev"}, {"LoadRun"}},
		"`aiflow archive`":                         {{"LoadArchive"}},
		"`aiflow engine`":                          {{"LoadEngine"}},
		"`aiflow stack`":                           {{"LoadStack"}},
		"`aiflow mcp tools`, `approve`, `catalog`": {{"LoadMCPTools"}},
		"`aiflow service`":                         {{"LoadServiceClient"}},
		"`aiflow console`":                         {{"LoadConsole"}},
		"`aiflow doctor`":                          {{"LoadDoctor"}},
		"`functions/api` (Lambda)":                 {{"LoadAPIFunction"}},
		"A function's database":                    {{"LoadAPIFunction"}, {"LoadRecorder"}, {"LoadMCPServer"}, {"LoadMigrateFunction"}, {"LoadHealthCheck"}},
		"The other Lambda functions":               {{"LoadAIStep"}, {"LoadMCPStep"}, {"LoadServiceStep"}},
	}
	sdk := map[string]bool{"AWS_PROFILE": true, "AWS_ENDPOINT_URL_S3": true, "AWS_ENDPOINT_URL": true}
	for heading, vars := range sections {
		if heading == "Tests" {
			continue // the tests' own variables
		}
		groups, ok := bySection[heading]
		require.True(t, ok, "docs/configuration.md's section %q: which loaders read its variables?", heading)
		for _, names := range groups {
			var loads []func(LookupFunc)
			for _, n := range names {
				loads = append(loads, loaders[n])
			}
			read := variablesRead(loads...)
			for _, v := range vars {
				require.True(t, read[v] || sdk[v], "docs/configuration.md's section %q lists %s, which %s does not read", heading, v, strings.Join(names, " with "))
			}
		}
	}
}
