package workflow

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func check(t *testing.T, src string) error {
	t.Helper()
	wf, err := Parse("check.yaml", []byte(src))
	require.NoError(t, err)
	_, err = Check(wf, nil)
	return err
}

func TestCheckAcceptsTheTriageExample(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/triage.yaml")
	require.NoError(t, err)
	require.NoError(t, check(t, string(src)))
}

const checkHead = `name: checks
input:
  type: object
  required: [message, amount]
  properties:
    message: {type: string}
    amount: {type: number}
    note: {type: string}
steps:
`

func TestCheckErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, steps, want string }{
		{"unknown input field", "  - id: a\n    ai: {model: m, prompt: \"{{ input.mesage }}\"}\n", `input has no field "mesage"`},
		{"unknown step", "  - id: a\n    ai: {model: m, prompt: \"{{ steps.nope.output }}\"}\n", `there is no step "nope"`},
		{"optional field", "  - id: a\n    ai: {model: m, prompt: \"{{ input.note }}\"}\n", `input.note may be absent`},
		{"compare string with number", "  - id: a\n    choice:\n      cases:\n        - when: 'input.message > 3'\n          next: b\n      default: b\n  - id: b\n    succeed: {}\n", "cannot compare"},
		{"maybe unset", `  - id: route
    choice:
      cases:
        - when: 'input.amount > 100'
          next: big
      default: small
  - id: big
    ai: {model: m, prompt: "big"}
  - id: small
    ai: {model: m, prompt: "{{ steps.big.output }}"}
`, `steps.big.output may not be set here`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := check(t, checkHead+tc.steps)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCheckRefusesTooManySteps(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("name: big\ninput: {type: object}\nsteps:\n")
	for i := range MaxSteps + 1 {
		fmt.Fprintf(&b, "  - id: s%d\n    set: {i: %d}\n", i, i)
	}
	err := check(t, b.String())
	require.ErrorContains(t, err, "the workflow has 1001 steps, more than 1000")
}

// BenchmarkCheckLargestWorkflow checks a workflow of MaxSteps steps in a
// chain, the largest Check accepts.
func BenchmarkCheckLargestWorkflow(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("name: big\ninput: {type: object}\nsteps:\n")
	for i := range MaxSteps {
		fmt.Fprintf(&sb, "  - id: s%d\n    set: {i: %d}\n", i, i)
	}
	src := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("big.yaml", src, nil); err != nil {
			b.Fatal(err)
		}
	}
}
