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

// TestValidateReadsTheCatalogsBesideTheFile: mcp-catalog.json and
// service-catalog.json beside a definition are both read, and --catalog
// may hold both kinds.
func TestValidateReadsTheCatalogsBesideTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	def := filepath.Join(dir, "calls.yaml")
	require.NoError(t, os.WriteFile(def, []byte(`name: calls
input: {type: object, required: [id], properties: {id: {type: integer}}}
steps:
  - id: order
    mcp: {server: shop, tool: get_order, arguments: {order_id: "{{ input.id }}"}}
  - id: note
    service:
      service: desk
      path: "/v1/incidents/{{ input.id }}/note"
`), 0o644))
	const servers = `"servers": {"shop": {"tools": [{"name": "get_order", "inputSchema": {"type": "object", "properties": {"order_id": {"type": "string"}}}}]}}`
	const services = `"services": {"desk": {"versions": [{"version": "1.0.0", "operations": [{"name": "add_note", "method": "POST", "path": "/v1/incidents/{id}/notes"}]}]}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mcp-catalog.json"), []byte("{"+servers+"}"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "service-catalog.json"), []byte("{"+services+"}"), 0o644))
	both := filepath.Join(t.TempDir(), "catalog.json")
	require.NoError(t, os.WriteFile(both, []byte("{"+servers+", "+services+"}"), 0o644))

	for _, args := range [][]string{{"validate", def}, {"validate", "--catalog", both, def}} {
		te := newTestEnv(nil)
		require.Equal(t, 1, run(context.Background(), args, te.env()))
		errs := te.stderr.String()
		require.Contains(t, errs, def+`:5:68: error: arguments.order_id is integer (input.id), but must be string (step "order")`)
		require.Contains(t, errs, def+`:9:14: error: the service "desk" (version 1.0.0) has no operation matching POST /v1/incidents/{{ input.id }}/note (step "note")`)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "service-catalog.json"), []byte(`{"services": {"desk": {"versions": [{"version": "one"}]}}}`), 0o644))
	te := newTestEnv(nil)
	require.Equal(t, 1, run(context.Background(), []string{"validate", def}, te.env()))
	require.Contains(t, te.stderr.String(), `service-catalog.json: reading the catalog: services.desk.versions[0].version: "one" is not a semantic version`)
}
