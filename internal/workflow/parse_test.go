package workflow

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseReadsEveryPart(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/triage.yaml")
	require.NoError(t, err)
	wf, err := Parse("wf1.yaml", src)
	require.NoError(t, err)
	require.Equal(t, "support-triage", wf.Name)
	require.Len(t, wf.Steps, 4)
	require.Equal(t, KindAI, wf.Steps[0].Kind)
	require.Equal(t, "Classify: {{ input.message }}", wf.Steps[0].AI.Prompt.Src)
	require.Equal(t, Pos{14, 16}, wf.Steps[0].AI.Prompt.Pos)
	require.Equal(t, KindChoice, wf.Steps[1].Kind)
	require.Equal(t, "approve", wf.Steps[1].Choice.Cases[0].Next)
}

func TestParseRefusesHostileInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"duplicate key", "name: a\nname: b\n", "2:1: error: duplicate key \"name\""},
		{"alias", "name: &x a\ndescription: *x\n", "anchors and aliases"},
		{"custom tag", "name: !Ref a\n", "the tag !Ref is not allowed"},
		{"two documents", "name: a\n---\nname: b\n", "more than one YAML document"},
		{"deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), "nests 100 levels deep"},
		{"big", "name: " + strings.Repeat("a", MaxDefinitionBytes), "more than the 1048576-byte limit"},
		{"not yaml", "name: [unclosed\n", "YAML:"},
		{"unknown field", "name: a\ninput: {type: object}\nstepz: []\nsteps:\n  - id: x\n    succeed: {}\n", `unknown field "stepz" in the workflow`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bad.yaml", []byte(tc.src))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
