package services_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/examples/services/incidentdesk"
	"github.com/aiflow/aiflow/examples/services/threatintel"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/catalog"
	"github.com/aiflow/aiflow/internal/workflow"
)

var update = flag.Bool("update", false, "rewrite examples/service-catalog.json from the services' registrations")

// TestCatalogFile keeps examples/service-catalog.json, which types the
// examples' service steps in aiflow validate, equal to what the example
// services register: the file is written from them (go test -update),
// never by hand.
func TestCatalogFile(t *testing.T) {
	t.Parallel()
	// The file holds services only; mcp-catalog.json beside it has the
	// MCP servers.
	want, err := catalog.File([]registry.Service{threatintel.Service(), incidentdesk.Service()})
	require.NoError(t, err)
	const file = "../service-catalog.json"
	if *update {
		require.NoError(t, os.WriteFile(file, want, 0o644))
	}
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	parsed, err := workflow.ParseCatalog(got)
	require.NoError(t, err, "the checker reads the file")
	require.NotNil(t, parsed.Services["threat-intel"])
	if !bytes.Equal(want, got) {
		require.JSONEq(t, string(want), string(got), "examples/service-catalog.json differs from the services' registrations: go test ./examples/services -update")
		require.Equal(t, string(want), string(got), "examples/service-catalog.json is not formatted as written: go test ./examples/services -update")
	}
}
