package control_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/workflow"
)

// TestPublishChecksServiceStepsAgainstTheLiveCatalog: the services'
// catalog is asked at every publish and merged over the static one, so a
// service registered after start types the steps that call it.
func TestPublishChecksServiceStepsAgainstTheLiveCatalog(t *testing.T) {
	t.Parallel()
	static, err := workflow.ParseCatalog([]byte(`{"servers": {"shop": {"tools": [{"name": "get_order", "inputSchema": {"type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "integer"}}}}]}}}`))
	require.NoError(t, err)
	var live atomic.Pointer[workflow.Catalog]
	var fail atomic.Bool
	svc := control.New(control.Options{Catalog: static, ServiceCatalogFunc: func(context.Context) (*workflow.Catalog, error) {
		if fail.Load() {
			return nil, errors.New("the registry is down")
		}
		return live.Load(), nil
	}})
	const def = `name: calls
input: {type: object, required: [id], properties: {id: {type: string}}}
steps:
  - id: order
    mcp: {server: shop, tool: get_order, arguments: {order_id: 7}}
  - id: status
    service:
      service: desk
      method: GET
      path: "/v1/incidents/{{ input.id }}"
`
	publish := func() error {
		_, err := svc.Publish(context.Background(), control.PublishParams{Definition: []byte(def), DryRun: true})
		return err
	}
	require.NoError(t, publish(), "a service the catalog does not know is not typed")

	desk, err := workflow.ParseCatalog([]byte(`{"services": {"desk": {"versions": [{"version": "1.0.0", "operations": [{"name": "note", "method": "POST", "path": "/v1/incidents/{id}/notes"}]}]}}}`))
	require.NoError(t, err)
	live.Store(desk)
	ce := requireCode(t, publish(), control.CodeInvalidDefinition)
	require.Equal(t, []control.Field{{Param: control.ParamDefinition, Location: "definition.yaml:10:14",
		Detail: `the service "desk" (version 1.0.0) has no operation matching GET /v1/incidents/{{ input.id }} (step "status"); hint: its operations: POST /v1/incidents/{id}/notes`}}, ce.Fields)

	desk.Services["desk"].Versions[0].Operations = append(desk.Services["desk"].Versions[0].Operations,
		workflow.CatalogOperation{Name: "get", Method: "GET", Path: "/v1/incidents/{id}"})
	require.NoError(t, publish(), "the catalog is asked again at each publish, and the static one's tools still type the mcp step")

	fail.Store(true)
	err = publish()
	require.ErrorContains(t, err, "reading the service catalog: the registry is down")
}
