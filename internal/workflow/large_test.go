package workflow

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// largeHead has a large ai step, fetch, whose output is an object.
const largeHead = checkHead + `  - id: fetch
    large: true
    ai:
      model: m
      prompt: "{{ input.message }}"
      output_schema:
        type: object
        required: [text, pages]
        properties:
          text: {type: string}
          pages: {type: integer}
`

func TestCheckLargeStepsAreReadWhole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, steps, want string }{
		{"into the output", "  - id: a\n    ai: {model: m, prompt: \"{{ steps.fetch.output.text }}\"}\n", `steps.fetch.output.text cannot be read: step "fetch" is large: true`},
		{"embedded in text", "  - id: a\n    ai: {model: m, prompt: \"Summarize {{ steps.fetch.output }}\"}\n", `steps.fetch.output cannot be read here`},
		{"in a choice", "  - id: a\n    choice:\n      cases:\n        - when: 'exists(steps.fetch.output)'\n          next: b\n      default: b\n  - id: b\n    succeed: {}\n", `steps.fetch.output cannot be read here`},
		{"in a set step", "  - id: a\n    set: {doc: \"{{ steps.fetch.output }}\"}\n", `steps.fetch.output cannot be read here`},
		{"in an approval", "  - id: a\n    approval: {message: \"{{ steps.fetch.output }}\"}\n", `steps.fetch.output cannot be read here`},
		{"on a succeed step", "  - id: a\n    large: true\n    succeed: {}\n", `a succeed step has no large; only ai, mcp and service steps do`},
		{"not a boolean", "  - id: a\n    large: yes please\n    ai: {model: m, prompt: hi}\n", `"large" must be true or false`},
		{"a map of large results", `  - id: each
    map:
      items: "{{ input.message }}"
      steps:
        - id: one
          large: true
          ai: {model: m, prompt: "{{ context.map.item.value }}"}
  - id: after
    ai: {model: m, prompt: "{{ steps.each.output[0] }}"}
`, `map step "each" gives the results of a large step`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wf, err := Parse("check.yaml", []byte(largeHead+tc.steps))
			if err == nil {
				_, err = Check(wf, nil)
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCheckLargeStepsPassWholeToWorkersAndOutput(t *testing.T) {
	t.Parallel()
	src := largeHead + `  - id: summarize
    ai: {model: m, system: "Summarize the document.", prompt: "{{ steps.fetch.output }}"}
  - id: store
    mcp:
      server: docs
      tool: put
      arguments: {doc: "{{ steps.fetch.output }}", summary: "{{ steps.summarize.output }}"}
output:
  document: "{{ steps.fetch.output }}"
`
	require.NoError(t, check(t, src))
	wf, err := Parse("large.yaml", []byte(src))
	require.NoError(t, err)
	checked, err := Check(wf, nil)
	require.NoError(t, err)
	m, err := Compile(checked)
	require.NoError(t, err)
	var msg struct {
		Spec map[string]any `json:"spec"`
	}
	require.NoError(t, json.Unmarshal(m.States["fetch"].Parameters, &struct {
		MessageBody *struct {
			Spec map[string]any `json:"spec"`
		}
	}{MessageBody: &msg}))
	require.Equal(t, true, msg.Spec["large"], "the compiler tells the worker the step is large")
}
