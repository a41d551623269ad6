package scripted_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/workflow"
)

// TestExampleScriptAnswersTheExamples plays every ai step of the example
// workflows against examples/scripts/scripted.yaml: the model, system
// prompt, the literal text of the prompt template and the tools as the
// step has them, running an agent's tool loop to its end. Every step must
// get an answer, within max_turns, that is valid against its output
// schema when it has one.
func TestExampleScriptAnswersTheExamples(t *testing.T) {
	t.Parallel()
	script, err := scripted.Load("../../../examples/scripts/scripted.yaml")
	require.NoError(t, err)
	files, err := filepath.Glob("../../../examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	steps := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		wf, err := workflow.Parse(filepath.Base(file), src)
		require.NoError(t, err)
		for _, step := range aiSteps(wf.Steps) {
			steps++
			t.Run(wf.Name+"/"+step.ID, func(t *testing.T) {
				t.Parallel()
				playStep(t, scripted.New(script, scripted.Options{}), step)
			})
		}
	}
	require.GreaterOrEqual(t, steps, 6, "the examples' ai steps were found")
}

func aiSteps(steps []*workflow.Step) []*workflow.Step {
	var out []*workflow.Step
	for _, s := range steps {
		switch {
		case s.AI != nil:
			out = append(out, s)
		case s.Map != nil:
			out = append(out, aiSteps(s.Map.Steps)...)
		case s.Parallel != nil:
			for _, b := range s.Parallel.Branches {
				out = append(out, aiSteps(b)...)
			}
		}
	}
	return out
}

func playStep(t *testing.T, p ai.Provider, step *workflow.Step) {
	t.Helper()
	a := step.AI
	req := ai.Request{
		Model:    a.Model,
		Messages: []ai.Message{{Role: ai.RoleUser, Content: []ai.Part{{Text: a.Prompt.Src}}}},
	}
	if a.System != nil {
		req.System = a.System.Src
	}
	for _, tool := range a.Tools {
		req.Tools = append(req.Tools, ai.Tool{Name: tool.Server + "/" + tool.Tool, InputSchema: []byte(`{"type":"object"}`)})
	}
	maxTurns := max(a.MaxTurns, 1)
	for turn := 1; ; turn++ {
		require.LessOrEqual(t, turn, maxTurns, "the agent answers within max_turns")
		resp, err := p.Generate(context.Background(), req)
		require.NoError(t, err)
		if len(resp.ToolCalls) == 0 {
			require.NotEmpty(t, resp.Text)
			if a.OutputSchema != nil {
				requireValid(t, a.OutputSchema.Raw, resp.Text)
			}
			return
		}
		assistant := ai.Message{Role: ai.RoleAssistant}
		if resp.Text != "" {
			assistant.Content = append(assistant.Content, ai.Part{Text: resp.Text})
		}
		results := ai.Message{Role: ai.RoleUser}
		for _, call := range resp.ToolCalls {
			require.Contains(t, req.Tools, ai.Tool{Name: call.Name, InputSchema: []byte(`{"type":"object"}`)}, "the script calls an offered tool")
			assistant.Content = append(assistant.Content, ai.Part{ToolCall: &call})
			results.Content = append(results.Content, ai.Part{ToolResult: &ai.ToolResult{CallID: call.ID, Content: `{"results":[]}`}})
		}
		req.Messages = append(req.Messages, assistant, results)
	}
}

func requireValid(t *testing.T, schema []byte, text string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("output.json", doc))
	sch, err := c.Compile("output.json")
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(text)))
	require.NoError(t, err, "the answer is JSON: %s", text)
	require.NoError(t, sch.Validate(v), fmt.Sprintf("the answer fits the output schema: %s", text))
}
