package catalog_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/catalog"
	"github.com/aiflow/aiflow/internal/workflow"
)

// TestOf writes a catalog the checker's own reader accepts, with
// every version of a name under it in ascending order.
func TestOf(t *testing.T) {
	t.Parallel()
	yes := true
	op := registry.Operation{Name: "lookup", Method: "GET", Path: "/v1/cve/{id}", Idempotent: &yes,
		ResponseSchema: json.RawMessage(`{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}`), TimeoutSeconds: 5}
	c := catalog.Of([]registry.Service{
		{Name: "intel", Version: "1.10.0", Capabilities: []string{"cve.lookup"}, Operations: []registry.Operation{op}},
		{Name: "intel", Version: "1.9.2", Operations: []registry.Operation{op}},
		{Name: "desk", Version: "1.0.0", Description: "incidents", Operations: []registry.Operation{{Name: "note", Method: "POST", Path: "/v1/notes"}}},
	})
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	back, err := workflow.ParseCatalog(raw)
	require.NoError(t, err)
	require.Equal(t, []string{"1.9.2", "1.10.0"}, []string{back.Services["intel"].Versions[0].Version, back.Services["intel"].Versions[1].Version})
	require.Equal(t, []string{"cve.lookup"}, back.Services["intel"].Versions[1].Capabilities)
	require.Equal(t, "/v1/cve/{id}", back.Services["intel"].Versions[0].Operations[0].Path)
	require.Equal(t, 5, back.Services["intel"].Versions[0].Operations[0].TimeoutSeconds)
	require.JSONEq(t, string(op.ResponseSchema), string(back.Services["intel"].Versions[0].Operations[0].ResponseSchema))
	require.Equal(t, "incidents", back.Services["desk"].Versions[0].Description)
	require.Nil(t, back.Servers, "no MCP servers: mcp steps stay untyped")
}
