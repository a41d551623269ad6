package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

const triage = "../../internal/workflow/testdata/triage.yaml"

func TestValidateCompileAndGraph(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	te := newTestEnv(nil)
	require.Equal(t, 0, run(ctx, []string{"validate", triage}, te.env()), te.stderr.String())
	require.Equal(t, triage+": ok\n", te.stdout.String())

	te = newTestEnv(nil)
	require.Equal(t, 0, run(ctx, []string{"compile", triage}, te.env()), te.stderr.String())
	m, err := asl.Parse(te.stdout.Bytes())
	require.NoError(t, err)
	require.Empty(t, asl.Validate(m))
	require.Contains(t, m.States, "classify")

	out := filepath.Join(t.TempDir(), "triage.asl.json")
	te2 := newTestEnv(nil)
	require.Equal(t, 0, run(ctx, []string{"compile", "-o", out, triage}, te2.env()))
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, te.stdout.String(), string(written), "-o writes what stdout shows")

	te = newTestEnv(nil)
	require.Equal(t, 0, run(ctx, []string{"graph", triage}, te.env()))
	require.Contains(t, te.stdout.String(), "flowchart TD\n")
	require.Contains(t, te.stdout.String(), "s_route -->|otherwise| s_done")
}

func TestValidateReportsEveryErrorLocated(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`name: bad
input:
  type: object
  required: [message]
  properties:
    message: {type: string}
steps:
  - id: classify
    ai:
      model: m
      prompt: "{{ input.mesage }}"
  - id: reply
    ai:
      model: m
      promt: hello
`), 0o644))
	te := newTestEnv(nil)
	require.Equal(t, 1, run(context.Background(), []string{"validate", bad, triage}, te.env()))
	errs := te.stderr.String()
	require.Contains(t, errs, bad+`:11:19: error: input has no field "mesage" (step "classify")`)
	require.Contains(t, errs, `hint: did you mean "message"?`)
	require.Contains(t, errs, bad+`:15:7: error: unknown field "promt" in ai step "reply" (step "reply")`)
	require.Contains(t, te.stdout.String(), triage+": ok", "the other files are still checked")

	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"validate"}, te.env()))
	require.Equal(t, 1, run(context.Background(), []string{"compile", bad}, te.env()))
	require.Equal(t, 1, run(context.Background(), []string{"graph", filepath.Join(t.TempDir(), "missing.yaml")}, te.env()))
}
