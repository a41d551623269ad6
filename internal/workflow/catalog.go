package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aiflow/aiflow/internal/pathtemplate"
	"github.com/aiflow/aiflow/internal/semver"
)

// Catalog is what the checker knows of the world a workflow calls: MCP
// servers' tools (per server, per tool, the input and output schemas: the
// shape of MCP's tools/list) and registered services' operations (per
// service, per version, each operation's request and response schemas:
// the shape of the service registry). See the package comment for the
// file's shape. Without servers (a nil map, as when the file has no
// "servers" key) mcp steps are not typed; a service the catalog does not
// know is not typed either.
type Catalog struct {
	Servers  map[string]CatalogServer  `json:"servers"`
	Services map[string]CatalogService `json:"services,omitempty"`
}

// CatalogServer is one server's tools.
type CatalogServer struct {
	Tools []CatalogTool `json:"tools"`
}

// CatalogTool is one tool as tools/list describes it.
type CatalogTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
}

// CatalogService is one service's registered versions.
type CatalogService struct {
	Versions []CatalogServiceVersion `json:"versions"`
}

// CatalogServiceVersion is one version of a service: the fields of the
// registry's Service that type a step, under the same JSON names.
type CatalogServiceVersion struct {
	Version      string             `json:"version"`
	Description  string             `json:"description,omitempty"`
	Capabilities []string           `json:"capabilities,omitempty"`
	Operations   []CatalogOperation `json:"operations"`
}

// CatalogOperation is one operation of a service version, with the
// registry's Operation's fields and JSON names, so that a registered
// operation marshals into one.
type CatalogOperation struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Path is a path template (/v1/ip/{ip}/reputation); see
	// internal/pathtemplate.
	Path           string          `json:"path"`
	Idempotent     *bool           `json:"idempotent,omitempty"`
	RequestSchema  json.RawMessage `json:"request_schema,omitempty"`
	ResponseSchema json.RawMessage `json:"response_schema,omitempty"`
	TimeoutSeconds int             `json:"timeout_seconds,omitempty"`
}

// ParseCatalog reads a catalog file: {"servers": {...}, "services": {...}},
// either key optional. Unknown fields are refused, and so is a service
// version or operation the registry would refuse to route by (a version
// that is not semantic, a method or a path template that does not parse);
// the error names the field.
func ParseCatalog(src []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	return &c, nil
}

func (c *Catalog) validate() error {
	for _, name := range slices.Sorted(maps.Keys(c.Services)) {
		for i, v := range c.Services[name].Versions {
			at := fmt.Sprintf("services.%s.versions[%d]", name, i)
			if _, err := semver.Parse(v.Version); err != nil {
				return fmt.Errorf("%s.version: %v", at, err)
			}
			for j, op := range v.Operations {
				oat := fmt.Sprintf("%s.operations[%d]", at, j)
				if !httpMethods[op.Method] {
					return fmt.Errorf("%s.method: %q is not one of GET, POST, PUT, PATCH, DELETE", oat, op.Method)
				}
				if _, err := pathtemplate.Parse(op.Path); err != nil {
					return fmt.Errorf("%s.path: %v", oat, err)
				}
			}
		}
	}
	return nil
}

// MergeCatalogs returns one catalog holding every server and service of
// cs, nil ones skipped. A server named in two is the later one's; a
// service's versions are merged, a version in two being the later one's.
// The catalogs are not changed.
func MergeCatalogs(cs ...*Catalog) *Catalog {
	out := &Catalog{}
	for _, c := range cs {
		if c == nil {
			continue
		}
		if c.Servers != nil && out.Servers == nil {
			out.Servers = map[string]CatalogServer{}
		}
		for name, s := range c.Servers {
			out.Servers[name] = s
		}
		if c.Services != nil && out.Services == nil {
			out.Services = map[string]CatalogService{}
		}
		for name, s := range c.Services {
			merged := slices.Clone(out.Services[name].Versions)
			for _, v := range s.Versions {
				i := slices.IndexFunc(merged, func(m CatalogServiceVersion) bool { return m.Version == v.Version })
				if i >= 0 {
					merged[i] = v
				} else {
					merged = append(merged, v)
				}
			}
			out.Services[name] = CatalogService{Versions: merged}
		}
	}
	return out
}

// typesTools reports whether the catalog knows MCP servers, and so types
// mcp steps.
func (c *Catalog) typesTools() bool { return c != nil && c.Servers != nil }

func (c *Catalog) tool(server, name string) (*CatalogTool, []string, bool) {
	if !c.typesTools() {
		return nil, nil, false
	}
	s, ok := c.Servers[server]
	if !ok {
		return nil, nil, false
	}
	var names []string
	for i := range s.Tools {
		if s.Tools[i].Name == name {
			return &s.Tools[i], nil, true
		}
		names = append(names, s.Tools[i].Name)
	}
	return nil, names, true
}

// serviceVersion is one version of a service in the catalog.
type serviceVersion struct {
	service string
	v       *CatalogServiceVersion
}

func (sv serviceVersion) String() string { return sv.service + " " + sv.v.Version }

// serviceVersions returns the versions a service step may call: by name,
// the versions satisfying its constraint (every version without one); by
// capability, every version of every service offering it. known reports
// whether the catalog knows the service or the capability at all.
func (c *Catalog) serviceVersions(s *ServiceStep) (out []serviceVersion, known bool) {
	if c == nil {
		return nil, false
	}
	if s.Service != "" {
		svc, ok := c.Services[s.Service]
		if !ok {
			return nil, false
		}
		var vc *semver.Constraint
		if s.Version != "" {
			var err error
			if vc, err = semver.ParseConstraint(s.Version); err != nil {
				return nil, false // the decoder reported it
			}
		}
		for i := range svc.Versions {
			if vc == nil || semver.Satisfies(vc, svc.Versions[i].Version) {
				out = append(out, serviceVersion{s.Service, &svc.Versions[i]})
			}
		}
		return out, true
	}
	for _, name := range slices.Sorted(maps.Keys(c.Services)) {
		svc := c.Services[name]
		for i := range svc.Versions {
			if slices.Contains(svc.Versions[i].Capabilities, s.Capability) {
				out = append(out, serviceVersion{name, &svc.Versions[i]})
			}
		}
	}
	return out, len(out) > 0
}

// operationOf finds the operation of v a step's method and path call: of
// those whose method is the step's and whose template surely fits the
// path, the one with the most literal segments.
func operationOf(v *CatalogServiceVersion, method string, segs []pathtemplate.Segment) *CatalogOperation {
	var best *CatalogOperation
	bestLiterals := -1
	for i := range v.Operations {
		op := &v.Operations[i]
		if op.Method != method {
			continue
		}
		t, err := pathtemplate.Parse(op.Path)
		if err != nil || !t.MatchSegments(segs) {
			continue
		}
		if n := t.Literals(); n > bestLiterals {
			best, bestLiterals = op, n
		}
	}
	return best
}

// operationList names the operations of the versions (method and path),
// each once, in order.
func operationList(versions []serviceVersion) string {
	var names []string
	for _, v := range versions {
		for _, op := range v.v.Operations {
			if n := op.Method + " " + op.Path; !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// versionList names the versions ("threat-intel 1.2.0, threat-intel
// 1.3.0"), sorted.
func versionList(versions []serviceVersion) string {
	var names []string
	for _, v := range versions {
		names = append(names, v.String())
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// canonicalJSON rewrites a JSON document with sorted keys and no spaces,
// so that two schemas that differ only in layout compare equal.
func canonicalJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(out)
}
