package steps_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
)

// TestExamplesRunWithTheScriptedProvider runs the examples with ai steps on
// the local engine, their models answered by the scripted provider from
// the examples' script, as aiflow dev does.
func TestExamplesRunWithTheScriptedProvider(t *testing.T) {
	t.Parallel()
	script, err := scripted.Load("../../examples/scripts/scripted.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		example, input string
		check          func(t *testing.T, output string)
	}{
		{"document-summary", "document-summary.input.json", func(t *testing.T, output string) {
			var out struct {
				Summary    string
				KeyPoints  []string `json:"key_points"`
				Incomplete bool
				Parts      []struct {
					Part    int
					Summary string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(output), &out))
			require.Equal(t, []string{"Every part states one point.", "The parts agree with each other."}, out.KeyPoints)
			require.False(t, out.Incomplete)
			require.Len(t, out.Parts, 3)
			require.Equal(t, "This part states its point plainly and gives no names, numbers or dates beyond what it says.", out.Parts[2].Summary)
		}},
		{"research-agent", "research-agent.input.json", func(t *testing.T, output string) {
			var out struct {
				Answer     string
				Confidence string
			}
			require.NoError(t, json.Unmarshal([]byte(output), &out))
			require.Equal(t, "high", out.Confidence)
			require.Contains(t, out.Answer, "90 days")
		}},
	} {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile("../../examples/" + tc.example + ".yaml")
			require.NoError(t, err)
			input, err := os.ReadFile("../../examples/mocks/" + tc.input)
			require.NoError(t, err)
			p := scripted.New(script, scripted.Options{})
			l := startLocal(t, p, func(c *steps.AIConfig) {
				c.Providers = map[string]ai.Provider{"anthropic": p, "openai": p, "bedrock": p, "scripted": p}
				c.Tools = researchTools(t)
			})
			d := l.run(t, tc.example+".yaml", src, string(input))
			require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
			tc.check(t, d.Output)
		})
	}
}
