package workflow

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aiflow/aiflow/internal/pathtemplate"
	"github.com/aiflow/aiflow/internal/workflow/expr"
)

// matchedOp is an operation a service step may call, in one version of a
// service.
type matchedOp struct {
	sv serviceVersion
	op *CatalogOperation
}

func (m matchedOp) String() string {
	return fmt.Sprintf("%s (%s %s)", m.sv, m.op.Method, m.op.Path)
}

// pathSegments reads a step's path template into segments, each
// {{ expression }} unknown; false when the template does not parse (the
// checks of templates report it).
func pathSegments(t *Template) ([]pathtemplate.Segment, bool) {
	if t == nil {
		return nil, false
	}
	pt, err := expr.ParseTemplate(t.Src)
	if err != nil {
		return nil, false
	}
	parts := make([]string, len(pt.Parts))
	unknown := make([]bool, len(pt.Parts))
	for i, p := range pt.Parts {
		parts[i], unknown[i] = p.Text, p.IsPath
	}
	return pathtemplate.Segments(parts, unknown), true
}

// serviceShape types a service step's output. When the catalog knows the
// service (or the capability), the step's method and path must match an
// operation of the versions it may call, and the operations' response
// schema types the output: a declared output_schema must agree with it,
// and without one the operations must answer alike. Otherwise the output
// is the declared output_schema's, or any value.
func (c *checker) serviceShape(s *Step) *shape {
	sv := s.Service
	declared := anyShape
	if sv.OutputSchema != nil {
		declared = c.declaredShape(s, sv.OutputSchema)
	}
	versions, known := c.catalog.serviceVersions(sv)
	if !known {
		return declared
	}
	if len(versions) == 0 {
		var all []string
		for _, v := range c.catalog.Services[sv.Service].Versions {
			all = append(all, v.Version)
		}
		c.r.errorf(sv.VersionPos, s.ID, "its versions in the catalog: "+strings.Join(all, ", "),
			"the service %q has no version satisfying %q", sv.Service, sv.Version)
		return declared
	}
	segs, ok := pathSegments(sv.Path)
	if !ok {
		return declared
	}
	var ops []matchedOp
	for _, v := range versions {
		if op := operationOf(v.v, sv.Method, segs); op != nil {
			ops = append(ops, matchedOp{v, op})
		}
	}
	if len(ops) == 0 {
		hint := "its operations: " + operationList(versions)
		if sv.Service != "" {
			var vs []string
			for _, v := range versions {
				vs = append(vs, v.v.Version)
			}
			label := "version "
			if len(vs) > 1 {
				label = "versions "
			}
			c.r.errorf(sv.Path.Pos, s.ID, hint, "the service %q (%s%s) has no operation matching %s %s",
				sv.Service, label, strings.Join(vs, ", "), sv.Method, sv.Path.Src)
		} else {
			hint = "their operations: " + operationList(versions)
			c.r.errorf(sv.Path.Pos, s.ID, hint, "no service offering %q (%s) has an operation matching %s %s",
				sv.Capability, versionList(versions), sv.Method, sv.Path.Src)
		}
		return declared
	}
	c.serviceOps[s.ID] = ops

	// The distinct response schemas, in order; an empty one answers any
	// JSON.
	var answers []matchedOp
	seen := map[string]bool{}
	for _, m := range ops {
		k := canonicalJSON(m.op.ResponseSchema)
		if !seen[k] {
			seen[k] = true
			answers = append(answers, m)
		}
	}
	if sv.OutputSchema != nil {
		for _, m := range answers {
			if resp := c.catalogSchema(s, m, m.op.ResponseSchema, "response"); resp != nil {
				c.compatible(s, sv.OutputSchema, declared, resp, "", m)
			}
		}
		return declared
	}
	if len(answers) > 1 {
		what := fmt.Sprintf("the service %q", sv.Service)
		if sv.Service == "" {
			what = fmt.Sprintf("the services offering %q", sv.Capability)
		}
		var names []string
		for _, m := range answers {
			names = append(names, m.String())
		}
		narrow := "narrow the version"
		if sv.Service == "" {
			narrow = "name one service and version"
		}
		c.r.errorf(sv.ServicePos, s.ID, "declare the output_schema the step relies on, or "+narrow,
			"the operations %s may call answer with different response schemas: %s", what, strings.Join(names, "; "))
		return anyShape
	}
	if resp := c.catalogSchema(s, answers[0], answers[0].op.ResponseSchema, "response"); resp != nil {
		return resp
	}
	return anyShape
}

// catalogSchema compiles an operation's request or response schema from
// the catalog; nil when it is empty (any JSON) or not valid (reported).
func (c *checker) catalogSchema(s *Step, m matchedOp, raw []byte, what string) *shape {
	if len(raw) == 0 {
		return nil
	}
	sh, err := compileSchema(raw)
	if err != nil {
		c.r.errorf(s.Service.ServicePos, s.ID, "", "the catalog's %s schema of %s is %v", what, m, err)
		return nil
	}
	return sh
}

// compatible reports where a step's declared output_schema disagrees with
// an operation's response schema: each field it declares must be in the
// response, with a type the response's values fit, and required when the
// declaration requires it.
func (c *checker) compatible(s *Step, sc *Schema, decl, resp *shape, path string, m matchedOp) {
	if decl.isAny() || resp.isAny() {
		return
	}
	name := "the output"
	if path != "" {
		name = fmt.Sprintf("field %q", path)
	}
	if !fits(resp, decl) {
		c.r.errorf(sc.fieldPos(path), s.ID, "make output_schema agree with the service's response, or drop it to use the catalog's",
			"output_schema gives %s as %s, but the response schema of %s has %s", name, decl, m, resp)
		return
	}
	if decl.props != nil && resp.props != nil && resp.types["object"] {
		for _, k := range slices.Sorted(maps.Keys(decl.props)) {
			fp := joinField(path, k)
			rp, ok := resp.props[k]
			if !ok {
				hint := "its fields: " + strings.Join(slices.Sorted(maps.Keys(resp.props)), ", ")
				if cl := closest(k, slices.Collect(maps.Keys(resp.props))); cl != "" {
					hint = fmt.Sprintf("did you mean %q?", cl)
				}
				c.r.errorf(sc.fieldPos(fp), s.ID, hint, "output_schema declares field %q, which the response schema of %s does not have", fp, m)
				continue
			}
			if decl.required[k] && !resp.required[k] {
				c.r.errorf(sc.fieldPos(fp), s.ID, "make it optional in output_schema",
					"output_schema requires field %q, which the response schema of %s does not require", fp, m)
			}
			c.compatible(s, sc, decl.props[k], rp, fp, m)
		}
	}
	if decl.items != nil && resp.items != nil {
		c.compatible(s, sc, decl.items, resp.items, path+"[]", m)
	}
}

// checkServiceBody checks a service step's body: its templates, and its
// shape against the request schema of each operation it may call.
func (c *checker) checkServiceBody(s *Step, e *env) {
	var wants []*shape
	seen := map[string]bool{}
	for _, m := range c.serviceOps[s.ID] {
		k := canonicalJSON(m.op.RequestSchema)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if sh := c.catalogSchema(s, m, m.op.RequestSchema, "request"); sh != nil {
			wants = append(wants, sh)
		}
	}
	if len(wants) == 0 {
		c.checkValue(s.Service.Body, e, "body")
		return
	}
	body := s.Service.Body
	if body == nil {
		body = &Value{Pos: s.Pos, Kind: "object"}
	}
	for _, w := range wants {
		c.checkValueAgainst(body, e, "body", w)
	}
}
