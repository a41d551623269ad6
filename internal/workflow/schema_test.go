package workflow

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The editor schema, schemas/workflow.schema.json, describes the same
// language as the decoder. These tests keep the two from drifting apart:
// every example fits the schema, shapes the decoder refuses are refused by
// the schema too, and the schema names exactly the decoder's fields.

const editorSchemaFile = "../../schemas/workflow.schema.json"

func editorSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	raw, err := os.ReadFile(editorSchemaFile)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	require.NoError(t, c.AddResource("workflow.schema.json", doc))
	s, err := c.Compile("workflow.schema.json")
	require.NoError(t, err)
	return s
}

// yamlToJSON reads a definition the way an editor's YAML language server
// does: as plain data, then as JSON.
func yamlToJSON(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(src, &v))
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	return doc
}

func TestEditorSchemaAcceptsEveryExample(t *testing.T) {
	t.Parallel()
	schema := editorSchema(t)
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	files = append(files, "testdata/triage.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			require.NoError(t, schema.Validate(yamlToJSON(t, src)))
		})
	}
}

func TestEditorSchemaRefusesBadShapes(t *testing.T) {
	t.Parallel()
	schema := editorSchema(t)
	head := "name: bad\ninput: {type: object}\nsteps:\n"
	for _, tc := range []struct{ name, src string }{
		{"unknown top-level field", "name: bad\ninput: {type: object}\nstep: []\nsteps:\n  - id: done\n    succeed: {}\n"},
		{"unknown step field", head + "  - id: a\n    ai: {model: m, prompt: hi}\n    retries: []\n"},
		{"unknown ai field", head + "  - id: a\n    ai: {model: m, prompt: hi, promt: hi}\n"},
		{"two kinds in one step", head + "  - id: a\n    ai: {model: m, prompt: hi}\n    set: {x: 1}\n"},
		{"no kind", head + "  - id: a\n    next: a\n"},
		{"bad method", head + "  - id: a\n    service: {service: s, method: FETCH, path: /x}\n"},
		{"service and capability", head + "  - id: a\n    service: {service: s, capability: c, path: /x}\n"},
		{"bad step id", head + "  - id: look-up\n    succeed: {}\n"},
		{"bad duration", head + "  - id: a\n    ai: {model: m, prompt: hi}\n    timeout: 5 minutes\n"},
		{"next on a choice", head + "  - id: a\n    choice: {cases: [{when: 'input.x', next: b}]}\n    next: b\n  - id: b\n    succeed: {}\n"},
		{"timeout on a map", head + "  - id: a\n    map: {items: '{{ input.xs }}', steps: [{id: b, set: {}}]}\n    timeout: 1m\n"},
		{"bad workflow name", "name: Support triage\ninput: {type: object}\nsteps:\n  - id: done\n    succeed: {}\n"},
		{"missing input", "name: bad\nsteps:\n  - id: done\n    succeed: {}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Error(t, schema.Validate(yamlToJSON(t, []byte(tc.src))))
			_, err := Load("bad.yaml", []byte(tc.src), nil)
			require.Error(t, err, "the decoder refuses it too")
		})
	}
}

func TestEditorSchemaNamesTheDecodersFields(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(editorSchemaFile)
	require.NoError(t, err)
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       struct {
			Step struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"step"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	require.ElementsMatch(t, workflowFields, keys(s.Properties))
	require.ElementsMatch(t, append(append([]string{}, commonStepFields...), stepKinds...), keys(s.Defs.Step.Properties))
}

func TestEditorSchemaDescribesEveryProperty(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(editorSchemaFile)
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(raw, &doc))
	var missing []string
	var walk func(v any, at string)
	walk = func(v any, at string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for name, p := range props {
				if pm, ok := p.(map[string]any); ok && pm["description"] == nil {
					missing = append(missing, at+"/properties/"+name)
				}
			}
		}
		for k, c := range m {
			walk(c, at+"/"+k)
			if list, ok := c.([]any); ok {
				for _, el := range list {
					walk(el, at+"/"+k+"[]")
				}
			}
		}
	}
	walk(doc, "")
	sort.Strings(missing)
	require.Empty(t, missing, "every property needs a description:\n%s", strings.Join(missing, "\n"))
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
