// Package catalog writes the services of the registry as the workflow
// checker's catalog (workflow.Catalog): the API's live catalog at publish
// and the file `aiflow service catalog` writes. It is apart from package
// registry so that what routes service calls (the step workers, through
// registry/router) does not link the workflow compiler, the Amazon States
// Language checker and JSONata.
package catalog

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/semver"
	"github.com/aiflow/aiflow/internal/workflow"
)

// Of returns the type checker's view of services: per name, each
// version's capabilities and operations with their schemas, versions in
// ascending order. The API's live catalog at publish and `aiflow service
// catalog` both build it here, so a workflow checked against a file
// written by one is checked as the other would check it.
func Of(services []registry.Service) *workflow.Catalog {
	c := &workflow.Catalog{Services: map[string]workflow.CatalogService{}}
	sorted := slices.Clone(services)
	slices.SortStableFunc(sorted, func(a, b registry.Service) int { return semver.Compare(a.Version, b.Version) })
	for _, s := range sorted {
		v := workflow.CatalogServiceVersion{Version: s.Version, Description: s.Description, Capabilities: slices.Clone(s.Capabilities)}
		for _, op := range s.Operations {
			v.Operations = append(v.Operations, workflow.CatalogOperation{
				Name: op.Name, Method: op.Method, Path: op.Path, Idempotent: op.Idempotent,
				RequestSchema: op.RequestSchema, ResponseSchema: op.ResponseSchema, TimeoutSeconds: op.TimeoutSeconds,
			})
		}
		cs := c.Services[s.Name]
		cs.Versions = append(cs.Versions, v)
		c.Services[s.Name] = cs
	}
	return c
}

// File returns the catalog of services as a file holds it, the one
// `aiflow service catalog` writes and examples/service-catalog.json is:
// {"services": ...}, indented, ending in a newline. It has no "servers"
// key, since a catalog that names MCP servers (even none) makes the
// checker type mcp steps by it.
func File(services []registry.Service) ([]byte, error) {
	data, err := json.MarshalIndent(struct {
		Services map[string]workflow.CatalogService `json:"services"`
	}{Of(services).Services}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the catalog: %w", err)
	}
	return append(data, '\n'), nil
}
