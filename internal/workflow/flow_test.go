package workflow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func structure(t *testing.T, src string) (*Workflow, *graph, error) {
	t.Helper()
	wf, err := Parse("flow.yaml", []byte(src))
	require.NoError(t, err)
	r := &reporter{file: "flow.yaml"}
	g := checkStructure(r, wf)
	return wf, g, r.err()
}

const head = "name: flows\ninput: {type: object}\nsteps:\n"

func TestStructureErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, steps, want string }{
		{"duplicate id", "  - id: a\n    set: {x: 1}\n  - id: a\n    succeed: {}\n", `flow.yaml:6:5: error: duplicate step id "a" (step "a")`},
		{"bad id", "  - id: 9lives\n    succeed: {}\n", `the step id "9lives" is not valid`},
		{"unknown next", "  - id: a\n    set: {x: 1}\n    next: bee\n  - id: b\n    succeed: {}\n", `no step "bee" in this flow`},
		{"unreachable", "  - id: a\n    succeed: {}\n  - id: b\n    succeed: {}\n", `the step "b" is never reached`},
		{"loop", "  - id: a\n    set: {x: 1}\n  - id: b\n    set: {y: 1}\n    next: a\n", "these steps loop with no way out: a, b"},
		{"into a branch", "  - id: p\n    parallel:\n      branches:\n        - steps:\n            - id: inner\n              succeed: {}\n    next: inner\n", `"inner" is in another flow`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := structure(t, head+tc.steps)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoopWithAWayOutIsFine(t *testing.T) {
	t.Parallel()
	_, g, err := structure(t, head+`  - id: ask
    ai: {model: m, prompt: hi}
  - id: check
    choice:
      cases:
        - when: 'steps.ask.output == "done"'
          next: finish
      default: ask
  - id: finish
    succeed: {}
`)
	require.NoError(t, err)
	require.Equal(t, []string{"finish", "ask"}, g.succ["check"])
	ask := g.step["ask"]
	require.Equal(t, 5*time.Minute, ask.Timeout, "a default timeout is injected")
	require.Equal(t, time.Minute, ask.Heartbeat)
}
