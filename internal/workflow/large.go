package workflow

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/workflow/expr"
)

// large reads a step's large field: only ai, mcp and service steps have
// one, since only their workers store results in the blob store.
func (o *obj) large(s *Step) bool {
	if !o.has("large") {
		return false
	}
	v, ok := o.boolean("large")
	if ok && s.Kind != KindAI && s.Kind != KindMCP && s.Kind != KindService {
		o.d.r.errorf(o.keyPos("large"), s.ID, "", "a %s step has no large; only ai, mcp and service steps do", s.Kind)
		return false
	}
	return v
}

// mayBeReference reports whether steps.<id>.output may be a blob
// reference, or hold some: the step is large, or it is a map whose
// sub-flow's last step (each item's result) may be one.
func (c *checker) mayBeReference(id string) bool {
	s := c.g.step[id]
	switch {
	case s == nil:
		return false
	case s.Large:
		return true
	case s.Kind == KindMap && s.Map != nil && len(s.Map.Steps) > 0:
		return c.mayBeReference(s.Map.Steps[len(s.Map.Steps)-1].ID)
	}
	return false
}

// referenceRead checks a path through steps.<id>.output, where the
// output may be a reference: it may be read only whole, where a worker
// or the API resolves references (e.refsOK).
func (e *env) referenceRead(p expr.Path, id string) (string, string, bool) {
	if !e.c.mayBeReference(id) {
		return "", "", true
	}
	why := fmt.Sprintf("step %q is large: true", id)
	if s := e.c.g.step[id]; s != nil && !s.Large {
		why = fmt.Sprintf("map step %q gives the results of a large step", id)
	}
	switch {
	case len(p.Segments) > 2:
		return fmt.Sprintf("%s cannot be read: %s, so steps.%s.output may be a blob reference, which a path cannot see into", p, why, id),
			"pass steps." + id + ".output whole to an ai, mcp or service step, which reads the value, or drop large: true", false
	case !e.refsOK:
		return fmt.Sprintf("steps.%s.output cannot be read here: %s, so it may be a blob reference, which only ai, mcp and service steps and the workflow's output resolve, each from a template that is the path alone", id, why),
			"pass it whole, as \"{{ steps." + id + ".output }}\", to an ai, mcp or service step, or drop large: true", false
	}
	return "", "", true
}

// resolving returns e, or a copy of it, with refsOK set to ok.
func (e *env) resolving(ok bool) *env {
	if e.refsOK == ok {
		return e
	}
	c := *e
	c.refsOK = ok
	return &c
}
