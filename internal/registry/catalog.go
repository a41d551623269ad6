package registry

import (
	"slices"

	"github.com/aiflow/aiflow/internal/workflow"
)

// CatalogOf returns the type checker's view of services: per name, each
// version's capabilities and operations with their schemas, versions in
// ascending order. The API's live catalog at publish and `aiflow service
// catalog` both build it here, so a workflow checked against a file
// written by one is checked as the other would check it.
func CatalogOf(services []Service) *workflow.Catalog {
	c := &workflow.Catalog{Services: map[string]workflow.CatalogService{}}
	sorted := slices.Clone(services)
	slices.SortStableFunc(sorted, func(a, b Service) int { return CompareVersions(a.Version, b.Version) })
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
