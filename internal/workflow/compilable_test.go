package workflow

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const compilableHead = "name: c\ninput: {type: object, required: [s, n, t], properties: {s: {type: string}, n: {type: number}, t: {type: string}}}\nsteps:\n"

// TestCheckRefusesWhatTheCompilerCannotEmit: each input the compiler
// relied on without a check (see Compile) is now a located diagnostic
// with the problem, and Build never gets to the compiler.
func TestCheckRefusesWhatTheCompilerCannotEmit(t *testing.T) {
	t.Parallel()
	task := "  - id: a\n    ai: {model: m/x, prompt: p}\n"
	cases := map[string]struct{ steps, want string }{
		"until that is no timestamp": {"  - id: w\n    wait: {until: \"tomorrow\"}\n",
			`c.yaml:5:20: error: until must be an RFC 3339 timestamp, not "tomorrow" (step "w")`},
		"until without a time zone": {"  - id: w\n    wait: {until: \"2026-12-01T09:00:00\"}\n", `until must be an RFC 3339 timestamp, not "2026-12-01T09:00:00"`},
		"empty until":               {"  - id: w\n    wait: {until: \"\"}\n", `until must be an RFC 3339 timestamp, not ""`},
		"unquoted until":            {"  - id: w\n    wait: {until: 2026-12-01T09:00:00Z}\n", `c.yaml:5:19: error: YAML reads 2026-12-01T09:00:00Z as a timestamp`},
		"empty error name":          {task + "    retry: [{errors: [\"\"]}]\n", `c.yaml:6:23: error: an error name is empty (step "a")`},
		"unknown States. error":     {task + "    retry: [{errors: [States.Timeot]}]\n", `unknown predefined error name "States.Timeot"`},
		"States.ALL with others":    {task + "    retry: [{errors: [AI.Throttled, States.ALL]}]\n", `c.yaml:6:37: error: States.ALL matches every error, so it must be the only name in its errors`},
		"States.ALL not last":       {task + "    retry: [{errors: [States.ALL]}, {errors: [AI.Throttled]}]\n", `c.yaml:6:23: error: a retry that matches every error (States.ALL, or no errors) must be the last one`},
		"no errors, not last": {task + "    catch: [{next: z}, {errors: [AI.Throttled], next: z}]\n  - id: z\n    succeed: {}\n",
			`c.yaml:6:13: error: a catch that matches every error (States.ALL, or no errors) must be the last one`},
		"max_delay over a year and a day": {task + "    retry: [{max_delay: 8785h}]\n", `"max_delay" is 8785h, more than 8784h`},
		"tolerated_failures over 2^31-1": {"  - id: m\n    map:\n      items: \"{{ input.s }}\"\n      tolerated_failures: 2147483648\n      steps:\n        - id: o\n          set: {v: 1}\n",
			`c.yaml:7:27: error: tolerated_failures is 2147483648; at most 2147483647`},
		"key ending in .$":           {"  - id: v\n    set: {\"a.$\": 1}\n", `c.yaml:5:11: error: the key "a.$" of a value ends in ".$" (step "v")`},
		"output_schema key in .$":    {"  - id: a\n    ai: {model: m/x, prompt: p, output_schema: {type: object, properties: {\"b.$\": {}}}}\n", `the key "b.$" of output_schema ends in ".$"`},
		"infinite number":            {"  - id: v\n    set: {a: -.inf}\n", `c.yaml:5:14: error: the number -.inf is not finite`},
		"number that underflows":     {"  - id: v\n    set: {a: 1e-999}\n", `the number 1e-999 is too small for a 64-bit float`},
		"schema number not finite":   {"  - id: a\n    ai: {model: m/x, prompt: p, output_schema: {type: number, maximum: .nan}}\n", `the number .nan is not finite`},
		"mapping in a template list": {"  - id: v\n    set: {a: [\"{{ input.s }}\", [{b: 1}]]}\n", `c.yaml:5:33: error: a list whose strings are templates cannot hold a mapping`},
		"two literals compared": {"  - id: c\n    choice:\n      cases: [{when: 'input.n > 1 || \"a\" == \"b\"', next: z}]\n  - id: z\n    succeed: {}\n",
			`c.yaml:6:38: error: a comparison of two literals does not read the data: "a" == "b"`},
		"queue substitution in text": {"  - id: a\n    ai: {model: m/x, prompt: \"x ${ApprovalQueueUrl}\"}\n", `c.yaml:5:30: error: the text ${ApprovalQueueUrl} is reserved`},
		"an output never built":      {"  - id: f\n    fail: {error: E}\noutput: {a: 1}\n", `c.yaml:6:9: error: the output is never built: every way through the workflow ends in a fail step`},
		"NUL in text":                {"  - id: v\n    set: {a: \"x\\0y\"}\n", `c.yaml:5:14: error: the text holds a NUL character (\0), which no text of a workflow may hold`},
		"tag that does not read":     {"  - id: v\n    set: {a: !!float x}\n", `c.yaml:5:14: error: the value "x" is not a !!float`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Build("c.yaml", []byte(compilableHead+tc.steps), nil)
			var diags Diagnostics
			require.ErrorAs(t, err, &diags)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestYAMLScalarsCompileAsYAMLReadsThem: numbers and booleans keep the
// value YAML gives them. Fix: 0x1F compiled as 0, and True panicked the
// compiler with invalid JSON.
func TestYAMLScalarsCompileAsYAMLReadsThem(t *testing.T) {
	t.Parallel()
	b, err := Build("c.yaml", []byte(compilableHead+"  - id: v\n    set: {a: [0x1F, 0o17, 1_000, True, FALSE, 1.50, 2.5e3, ~]}\n"), nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"output": {"a": [31, 15, 1000, true, false, 1.5, 2500, null]}}`, string(b.Machine.States["v"].Parameters))
}

// TestTemplatesInNestedListsAndBodies: a list of templates inside a list,
// and a service body that is a single {{ path }}, read the data. Fix:
// both went out as the paths' text.
func TestTemplatesInNestedListsAndBodies(t *testing.T) {
	t.Parallel()
	b, err := Build("c.yaml", []byte(compilableHead+
		"  - id: v\n    set: {a: [[\"{{ input.s }}\", 1], [], \"x\"]}\n"+
		"  - id: call\n    service: {service: crm, path: /p, body: \"{{ input.n }}\"}\n"), nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"output": {"a.$": "States.Array(States.Array($.input.s, 1), States.Array(), 'x')"}}`, string(b.Machine.States["v"].Parameters))
	var params struct {
		MessageBody struct {
			Data map[string]any `json:"data"`
		}
	}
	require.NoError(t, json.Unmarshal(b.Machine.States["call"].Parameters, &params))
	require.Equal(t, map[string]any{"path": "/p", "body.$": "$.input.n"}, params.MessageBody.Data)
}

// TestBuildSurvivesACompilerPanic: a bug of the compiler that panics is a
// CompileError, not a crash of whoever called Build.
func TestBuildSurvivesACompilerPanic(t *testing.T) {
	t.Parallel()
	_, err := compileGuarded(&Checked{Workflow: &Workflow{}})
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "the compiler panicked (a bug; please report it): "), err.Error())
	require.False(t, errors.As(err, new(Diagnostics)))
}
