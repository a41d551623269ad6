package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEWorkflowCommands runs the workflow commands README.md shows, on
// the examples it names.
func TestREADMEWorkflowCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	examples, err := filepath.Glob("../../examples/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(examples), 4)

	te := newTestEnv(nil)
	require.Equal(t, 0, run(ctx, append([]string{"validate"}, examples...), te.env()), te.stderr.String())
	for _, f := range examples {
		require.Contains(t, te.stdout.String(), f+": ok")
	}

	out := filepath.Join(t.TempDir(), "triage.asl.json")
	te = newTestEnv(nil)
	require.Equal(t, 0, run(ctx, []string{"compile", "../../examples/support-triage.yaml", "-o", out}, te.env()), te.stderr.String())
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	want, err := os.ReadFile("../../statemachines/support-triage.asl.json")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "the CLI compiles to the checked-in state machine")

	for _, f := range examples {
		te = newTestEnv(nil)
		require.Equal(t, 0, run(ctx, []string{"graph", f}, te.env()), te.stderr.String())
		require.True(t, strings.HasPrefix(te.stdout.String(), "flowchart TD\n"), f)
	}

	invalid, err := filepath.Glob("../../examples/invalid/*.yaml")
	require.NoError(t, err)
	te = newTestEnv(nil)
	require.Equal(t, 1, run(ctx, append([]string{"validate"}, invalid...), te.env()))
	require.Empty(t, te.stdout.String(), "no invalid example passes")
}
