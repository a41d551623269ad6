package workflow

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

var update = flag.Bool("update", false, "rewrite the golden files (statemachines/, examples/invalid/*.errors)")

const examplesDir = "../../examples"

// loadCatalog reads the catalogs beside a definition (mcp-catalog.json
// and service-catalog.json), merged as aiflow validate merges them; nil
// when there are none.
func loadCatalog(t *testing.T, dir string) *Catalog {
	t.Helper()
	var found []*Catalog
	for _, name := range []string{"mcp-catalog.json", "service-catalog.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		c, err := ParseCatalog(raw)
		require.NoError(t, err, name)
		found = append(found, c)
	}
	if len(found) == 0 {
		return nil
	}
	return MergeCatalogs(found...)
}

// TestExamplesCompileToTheCheckedInStateMachines: every example checks,
// compiles to valid ASL, equals its file under statemachines/, and renders
// as a graph. go test ./internal/workflow -update rewrites the files.
func TestExamplesCompileToTheCheckedInStateMachines(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	catalog := loadCatalog(t, examplesDir)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			checked, err := Load("examples/"+name+".yaml", src, catalog)
			require.NoError(t, err)
			wf := checked.Workflow
			m, err := Compile(checked)
			require.NoError(t, err)
			require.Empty(t, asl.Validate(m), "the compiled machine is valid ASL")
			out, err := m.MarshalIndent()
			require.NoError(t, err)
			golden := filepath.Join("..", "..", "statemachines", name+".asl.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, out, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./internal/workflow -update to write it")
			require.Equal(t, string(want), string(out), "statemachines/%s.asl.json is stale: run go test ./internal/workflow -update", name)

			graph := Mermaid(checked)
			require.True(t, strings.HasPrefix(graph, "flowchart TD\n"))
			for _, s := range wf.Steps {
				require.Contains(t, graph, s.ID)
			}
		})
	}
}

// TestInvalidExamplesFailWithTheExpectedErrors: every definition under
// examples/invalid fails with exactly the errors in its .errors file.
func TestInvalidExamplesFailWithTheExpectedErrors(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(examplesDir, "invalid")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	// The catalog beside the files, as aiflow validate finds it (a link to
	// examples/mcp-catalog.json), so that each .errors file is exactly what
	// aiflow validate examples/invalid/X.yaml prints.
	catalog := loadCatalog(t, dir)
	require.NotNil(t, catalog)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			// Load, as aiflow validate does: the shape's errors and the
			// checks' come out together.
			_, err = Load("examples/invalid/"+name+".yaml", src, catalog)
			require.Error(t, err, "an invalid example must fail")
			got := err.Error() + "\n"
			golden := filepath.Join(dir, name+".errors")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./internal/workflow -update to write it")
			require.Equal(t, string(want), got)
		})
	}
}

// TestTheLanguageReferenceShowsWhatWorks keeps docs/workflow-language.md
// honest: each whole workflow in a yaml block checks; each other yaml
// block is an excerpt of an example; each json block parses; and each
// block after an <!-- output: ... --> comment is exactly what that
// command prints today.
func TestTheLanguageReferenceShowsWhatWorks(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/workflow-language.md")
	require.NoError(t, err)
	catalog := loadCatalog(t, examplesDir)
	examples, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	require.NoError(t, err)
	var sources []string
	for _, f := range examples {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		sources = append(sources, string(src))
	}

	lines := strings.Split(string(raw), "\n")
	checked := 0
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		block := strings.Join(lines[start:end], "\n") + "\n"
		marker := ""
		if i > 0 {
			if m, ok := strings.CutPrefix(lines[i-1], "<!-- output: "); ok {
				marker = strings.TrimSuffix(m, " -->")
			}
		}
		where := fmt.Sprintf("docs/workflow-language.md:%d", i+1)
		switch {
		case marker != "":
			require.Equal(t, docOutput(t, marker, catalog), block, "%s: the output of %s", where, marker)
		case lang == "yaml" && strings.HasPrefix(block, "name:"):
			_, err := Load("doc.yaml", []byte(block), catalog)
			require.NoError(t, err, where)
		case lang == "yaml":
			require.True(t, excerptOf(block, sources), "%s: not an excerpt of an example:\n%s", where, block)
		case lang == "json":
			require.True(t, json.Valid([]byte(block)), where)
		}
		checked++
		i = end
	}
	require.Greater(t, checked, 10)
}

// docOutput is what a command named in an <!-- output: --> comment prints.
func docOutput(t *testing.T, marker string, catalog *Catalog) string {
	t.Helper()
	args := strings.Fields(marker)
	read := func(file string) []byte {
		src, err := os.ReadFile(filepath.Join("..", "..", file))
		require.NoError(t, err)
		return src
	}
	var out strings.Builder
	switch args[0] {
	case "validate":
		for _, file := range args[1:] {
			if _, err := Load(file, read(file), catalog); err != nil {
				out.WriteString(err.Error() + "\n")
			} else {
				out.WriteString(file + ": ok\n")
			}
		}
	case "graph":
		checked, err := Load(args[1], read(args[1]), catalog)
		require.NoError(t, err)
		out.WriteString(Mermaid(checked))
	case "state":
		var m struct{ States map[string]json.RawMessage }
		require.NoError(t, json.Unmarshal(read(args[1]), &m))
		var b bytes.Buffer
		require.NoError(t, json.Indent(&b, m.States[args[2]], "", "  "))
		out.WriteString(b.String() + "\n")
	default:
		t.Fatalf("unknown output command %q", marker)
	}
	return out.String()
}

// excerptOf reports whether block's lines appear, one after another and
// shifted by one indentation, in one of the sources.
func excerptOf(block string, sources []string) bool {
	want := strings.Split(strings.TrimRight(block, "\n"), "\n")
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	for _, src := range sources {
		lines := strings.Split(src, "\n")
	next:
		for i := range lines {
			shift := indent(lines[i]) - indent(want[0])
			if shift < 0 || i+len(want) > len(lines) {
				continue
			}
			for j, w := range want {
				l := lines[i+j]
				if len(l) < shift || strings.TrimSpace(l[:shift]) != "" || l[shift:] != w {
					continue next
				}
			}
			return true
		}
	}
	return false
}
