package mock

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/workflow"
)

// researchAgent has the steps of examples/research-agent.yaml: one task
// step and one that runs in the state machine.
var researchAgent = &workflow.Workflow{File: "research-agent.yaml", Steps: []*workflow.Step{
	{ID: "research", Kind: workflow.KindAI},
	{ID: "report", Kind: workflow.KindSet},
}}

// writeFile writes a file in a fresh temporary folder and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestLoad(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"m.yaml", "m.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			set, err := Load(writeFile(t, name, `{"research": [{"error": "AI.Throttled", "cause": "slow down"}, {"output": {"answer": 42.50}}]}`), researchAgent)
			require.NoError(t, err)

			r, ok := set.Reply("research", 0)
			require.True(t, ok)
			require.Equal(t, Reply{Error: "AI.Throttled", Cause: "slow down"}, r)
			for _, attempt := range []int{1, 2, 7} {
				r, ok = set.Reply("research", attempt)
				require.True(t, ok)
				require.Empty(t, r.Error, "the last reply stands for every later attempt")
				require.JSONEq(t, `{"answer": 42.5}`, string(r.Output))
			}
			_, ok = set.Reply("report", 0)
			require.False(t, ok, "a step without a reply")
		})
	}

	set, err := Load(writeFile(t, "m.json", `{"research": {"output": {"n": 12345678901234567890}}}`), researchAgent)
	require.NoError(t, err)
	r, _ := set.Reply("research", 0)
	require.JSONEq(t, `{"n": 12345678901234567890}`, string(r.Output), "JSON numbers are kept as written")
	var out map[string]json.Number
	require.NoError(t, json.Unmarshal(r.Output, &out))
}

func TestLoadRejectsBadFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{"NotAnObject", "m.json", `[1]`, []string{"a mock file is an object of task step ids"}},
		{"NotJSON", "m.json", `{"research": `, []string{"m.json: not JSON: unexpected EOF"}},
		{"NotYAML", "m.yaml", "research: [", []string{"m.yaml: not YAML or JSON: yaml: line 1"}},
		{"EveryProblem", "m.yaml", `
reserch: {output: 1}
report: {output: 1}
research:
  - {output: 1, error: X}
  - {outptu: 1}
  - {error: X, cause: 3}
  - {}
  - 7
  - {error: ""}
  - {output: 1, cause: why}
`, []string{
			`m.yaml: step "report" is a set step, which runs in the state machine and takes no mock`,
			`m.yaml: research-agent.yaml has no step "reserch" (its task steps: research)`,
			`m.yaml: step "research", reply 1: a reply has an output or an error, not both`,
			`m.yaml: step "research", reply 2: unknown field "outptu" in a reply (it takes output, or error and cause)`,
			`m.yaml: step "research", reply 3: cause is a text`,
			`m.yaml: step "research", reply 4: a reply needs an output or an error`,
			`m.yaml: step "research", reply 5: a reply is an object`,
			`m.yaml: step "research", reply 6: error is the name of an error, such as "AI.Throttled"`,
			`m.yaml: step "research", reply 7: cause goes with error, not with output`,
		}},
		{"EmptyList", "m.yaml", "research: []", []string{`step "research": the list of replies is empty`}},
		{"MissingFile", "", "", []string{"reading the mock file: open "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "nope.yaml")
			if tc.file != "" {
				file = writeFile(t, tc.file, tc.content)
			}
			_, err := Load(file, researchAgent)
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}
