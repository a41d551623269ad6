package workflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckRefusesMissingVariablesInAITemplates covers the places of an ai
// step's templates that TestCheckErrors does not: the system prompt, a
// variable inside text, and a map item's field. A missing variable must be
// an error here, never an empty string at run time.
func TestCheckRefusesMissingVariablesInAITemplates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, steps, want string }{
		{"system prompt", "  - id: a\n    ai: {model: m, system: \"You help {{ input.usr }}.\", prompt: hi}\n", `input has no field "usr"`},
		{"inside text", "  - id: a\n    ai: {model: m, prompt: \"Hello {{ input.mesage }}, you owe {{ input.amount }}\"}\n", `input has no field "mesage"`},
		{"optional inside text", "  - id: a\n    ai: {model: m, prompt: \"Note: {{ input.note }}\"}\n", `input.note may be absent`},
		{"context", "  - id: a\n    ai: {model: m, prompt: \"Run {{ context.execution.nam }}\"}\n", `unknown context path "context.execution.nam"`},
		{"map item field", `  - id: each
    map:
      items: "{{ input.chunks }}"
      steps:
        - id: a
          ai: {model: m, prompt: "Summarize {{ context.map.item.value.txt }}"}
`, `context.map.item.value has no field "txt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := check(t, withChunks+tc.steps)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// withChunks is checkHead with an array of objects more in the input.
var withChunks = strings.Replace(checkHead, "steps:\n", "    chunks: {type: array, items: {type: object, required: [text], properties: {text: {type: string}}}}\nsteps:\n", 1)

// TestCheckRefusesMissingFieldsOfMapItemsFromAStep: when a map's items come
// from a step's output (steps.<id>.output.<field>), the items take the
// shape of that field, so context.map.item.value.<typo> is refused as it is
// for items from the input (see the map case above).
func TestCheckRefusesMissingFieldsOfMapItemsFromAStep(t *testing.T) {
	t.Parallel()
	err := check(t, withChunks+`  - id: list
    ai:
      model: m
      prompt: list them
      output_schema:
        type: object
        required: [items]
        properties:
          items: {type: array, items: {type: object, required: [text], properties: {text: {type: string}}}}
  - id: each
    map:
      items: "{{ steps.list.output.items }}"
      steps:
        - id: a
          ai: {model: m, prompt: "Summarize {{ context.map.item.value.txt }}"}
`)
	require.Error(t, err)
	require.Contains(t, err.Error(), `context.map.item.value has no field "txt"`)
}
