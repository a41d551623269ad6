package workflow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/workflow"
)

// TestParseRefusesFieldsOfTheWrongShape: every field of a step is read
// with its type and range, and a wrong one is reported at its line and
// column with what it must be.
func TestParseRefusesFieldsOfTheWrongShape(t *testing.T) {
	t.Parallel()
	const head = "name: shapes\ninput: {type: object}\nsteps:\n"
	for name, tc := range map[string]struct{ steps, want string }{
		"max_tokens not a number": {"  - id: a\n    ai: {model: m, prompt: p, max_tokens: many}\n", `cover.yaml:5:43: error: "max_tokens" must be a whole number (step "a")`},
		"max_tokens out of range": {"  - id: a\n    ai: {model: m, prompt: p, max_tokens: 0}\n", `"max_tokens" is 0; it must be from 1 to 1000000`},
		"temperature a word":      {"  - id: a\n    ai: {model: m, prompt: p, temperature: hot}\n", `"temperature" must be a number`},
		"temperature too high":    {"  - id: a\n    ai: {model: m, prompt: p, temperature: 3}\n", `"temperature" is 3; it must be from 0 to 2`},
		"model a list":            {"  - id: a\n    ai: {model: [m], prompt: p}\n", `cover.yaml:5:17: error: "model" must be a string (step "a")`},
		"model empty":             {"  - id: a\n    ai: {model: \"\", prompt: p}\n", `"model" must not be empty`},
		"model missing":           {"  - id: a\n    ai: {prompt: p}\n", `ai step "a" needs "model"`},
		"prompt a number":         {"  - id: a\n    ai: {model: m, prompt: 3}\n", "\"prompt\" must be a string (step \"a\")\n    hint: quote it: \"…\""},
		"stop a mapping":          {"  - id: a\n    ai: {model: m, prompt: p, stop: {a: 1}}\n", `"stop" must be a list of strings`},
		"stop holds a list":       {"  - id: a\n    ai: {model: m, prompt: p, stop: [[x]]}\n", `"stop" must be a list of strings`},
		"output_schema a string":  {"  - id: a\n    ai: {model: m, prompt: p, output_schema: text}\n", `"output_schema" must be a JSON Schema (a mapping)`},
		"timeout not a duration":  {"  - id: a\n    timeout: soon\n    ai: {model: m, prompt: p}\n", "\"timeout\" is not a duration (step \"a\")\n    hint: write it like \"30s\", \"5m\" or \"1h30m\""},
		"timeout in milliseconds": {"  - id: a\n    timeout: 1500ms\n    ai: {model: m, prompt: p}\n", `"timeout" must be whole seconds, at least 1s`},
		"timeout over a year":     {"  - id: a\n    timeout: 9000h\n    ai: {model: m, prompt: p}\n", `"timeout" is 9000h, more than 8760h`},
		"retry a mapping":         {"  - id: a\n    retry: {errors: [E]}\n    ai: {model: m, prompt: p}\n", "retry must be a list"},
		"retry jitter a word":     {"  - id: a\n    retry: [{jitter: maybe}]\n    ai: {model: m, prompt: p}\n", `"jitter" must be true or false`},
		"retry backoff zero":      {"  - id: a\n    retry: [{backoff: 0}]\n    ai: {model: m, prompt: p}\n", `"backoff" is 0; it must be from 1 to 1000`},
		"retry attempts text":     {"  - id: a\n    retry: [{attempts: three}]\n    ai: {model: m, prompt: p}\n", `"attempts" must be a whole number`},
		"retry unknown field":     {"  - id: a\n    retry: [{attemps: 3}]\n    ai: {model: m, prompt: p}\n", `"attemps"`},
		"catch a string":          {"  - id: a\n    catch: all\n    ai: {model: m, prompt: p}\n", "catch must be a list"},
		"catch without next":      {"  - id: a\n    catch: [{errors: [E]}]\n    ai: {model: m, prompt: p}\n", `a catch needs "next"`},
		"choice with next":        {"  - id: a\n    next: b\n    choice: {cases: [{when: 'input.x', next: b}]}\n  - id: b\n    succeed: {}\n", "a choice step has no next"},
		"succeed with settings":   {"  - id: a\n    succeed: {x: 1}\n", "succeed takes no settings"},
		"set a number":            {"  - id: a\n    set: 3\n", "set must be a mapping of names to values"},
		"two kinds":               {"  - id: a\n    ai: {model: m, prompt: p}\n    wait: {duration: 1s}\n", "a step has one kind, this one has ai and wait"},
		"no kind":                 {"  - id: a\n    next: b\n", "the step has no kind"},
		"wait under a second":     {"  - id: a\n    wait: {duration: 0s}\n", `"duration" must be whole seconds, at least 1s`},
		"retry on a wait":         {"  - id: a\n    retry: [{attempts: 1}]\n    wait: {duration: 1s}\n", "a wait step cannot retry or catch"},
		"timeout on a map": {"  - id: a\n    timeout: 10s\n    map:\n      items: '{{ input.list }}'\n      steps:\n        - id: b\n          succeed: {}\n",
			"a map step has no timeout; only ai, mcp, service and approval steps do (step \"a\")\n    hint: set timeouts on the task steps inside it"},
		"heartbeat on a wait": {"  - id: a\n    heartbeat: 10s\n    wait: {duration: 1s}\n", "a wait step has no heartbeat"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := workflow.Parse("cover.yaml", []byte(head+tc.steps))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestParseRefusesStepsThatAreNotAList: the workflow's steps are a
// non-empty list.
func TestParseRefusesStepsThatAreNotAList(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		"name: w\nsteps: {a: 1}\n": "cover.yaml:2:8: error: steps must be a list",
		"name: w\nsteps: []\n":     "steps must not be empty",
		"name: w\n":                "the workflow needs steps:",
	} {
		_, err := workflow.Parse("cover.yaml", []byte(src))
		require.Error(t, err, src)
		require.Contains(t, err.Error(), want, src)
	}
}
