package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/workflow/expr"
)

// Checked is a workflow that passed every check, ready to compile.
type Checked struct {
	Workflow *Workflow
	// checker keeps what the checks learnt (the graph, the shapes, which
	// steps surely ran where) for the compiler.
	checker *checker
}

// Check checks a parsed workflow: its flow (see checkStructure), its
// schemas, and every template and condition against the types of the
// values they read and the steps that have surely run before them. catalog
// gives the MCP tools' schemas; nil means mcp steps are not typed. It
// returns Diagnostics listing every problem.
func Check(wf *Workflow, catalog *Catalog) (*Checked, error) {
	r := &reporter{file: wf.File}
	if n := countSteps(wf.Steps); n > MaxSteps {
		// The checks grow faster than the steps; a definition this large
		// is refused before they run.
		r.errorf(Pos{1, 1}, "", "split it into workflows of their own", "the workflow has %d steps, more than %d", n, MaxSteps)
		return nil, r.err()
	}
	g := checkStructure(r, wf)
	c := &checker{r: r, wf: wf, g: g, catalog: catalog, outputs: map[string]*shape{}, errors: map[string]bool{}, serviceOps: map[string][]matchedOp{}}
	c.inputs = anyShape
	if wf.Input != nil {
		if s, err := compileSchema(wf.Input.Raw); err != nil {
			r.errorf(wf.Input.Pos, "", "", "the input schema is %v", err)
		} else {
			c.inputs = s
			if !s.is("object") || s.isAny() {
				r.errorf(wf.Input.Pos, "", "input: {type: object, properties: {...}}", "the input schema must describe an object")
			}
		}
	}
	for _, s := range sortedSteps(g) {
		c.outputs[s.ID] = c.outputShape(s)
	}
	c.assign()
	for _, f := range g.flows {
		for _, s := range f.steps {
			if s.ID != "" {
				c.checkStep(s)
			}
		}
	}
	if wf.Output != nil {
		c.checkValue(wf.Output, c.env("", c.endAvail(g.flows[0])).resolving(true), "")
		if !c.canSucceed(g.flows[0]) {
			// Fix: the compiler's output state was then unreachable, which
			// Step Functions refuses.
			r.errorf(wf.Output.Pos, "", "remove the output, or give the workflow a way to end other than a fail step",
				"the output is never built: every way through the workflow ends in a fail step")
		}
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return &Checked{Workflow: wf, checker: c}, nil
}

// canSucceed reports whether some way through a flow ends other than in
// a fail step (a step that is reached and ends the flow).
func (c *checker) canSucceed(f *flow) bool {
	for _, s := range f.steps {
		if s.ID != "" && c.availIn[s.ID] != nil && c.g.ends(s) && s.Kind != KindFail {
			return true
		}
	}
	return false
}

// MaxSteps bounds the steps of a workflow, nested ones included.
const MaxSteps = 1000

func countSteps(steps []*Step) int {
	n := 0
	Walk(steps, func(*Step) { n++ })
	return n
}

func sortedSteps(g *graph) []*Step {
	var out []*Step
	for _, f := range g.flows {
		for _, s := range f.steps {
			if s.ID != "" && g.step[s.ID] == s {
				out = append(out, s)
			}
		}
	}
	return out
}

type checker struct {
	r       *reporter
	wf      *Workflow
	g       *graph
	catalog *Catalog
	inputs  *shape
	outputs map[string]*shape // nil: the step has no output
	errors  map[string]bool   // steps with a catch (their error may be read)
	// serviceOps are, per service step the catalog types, the operations
	// it may call.
	serviceOps map[string][]matchedOp
	// availIn is, per step, the steps whose output is surely set when it
	// starts; caughtIn the steps whose caught error is.
	availIn  map[string]set
	caughtIn map[string]set
}

type set map[string]bool

func (s set) with(id string) set {
	out := set{}
	for k := range s {
		out[k] = true
	}
	out[id] = true
	return out
}

func intersect(a, b set) set {
	if a == nil {
		return b
	}
	out := set{}
	for k := range a {
		if b[k] {
			out[k] = true
		}
	}
	return out
}

func union(a, b set) set {
	out := set{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// declaredShape is the shape of a step's output_schema, reporting a schema
// that is not valid.
func (c *checker) declaredShape(s *Step, schema *Schema) *shape {
	sh, err := compileSchema(schema.Raw)
	if err != nil {
		c.r.errorf(schema.Pos, s.ID, "", "output_schema is %v", err)
		return anyShape
	}
	return sh
}

// outputShape is what steps.<id>.output holds, or nil when a step has no
// output of its own.
func (c *checker) outputShape(s *Step) *shape {
	switch s.Kind {
	case KindAI:
		if s.AI != nil && s.AI.OutputSchema != nil {
			return c.declaredShape(s, s.AI.OutputSchema)
		}
		return typed("string")
	case KindMCP:
		if s.MCP == nil {
			return anyShape
		}
		tool, names, known := c.catalog.tool(s.MCP.Server, s.MCP.Tool)
		switch {
		case !c.catalog.typesTools():
			return anyShape
		case !known:
			var servers []string
			for k := range c.catalog.Servers {
				servers = append(servers, k)
			}
			sort.Strings(servers)
			c.r.errorf(s.Pos, s.ID, "servers in the catalog: "+strings.Join(servers, ", "), "the tool catalog has no MCP server %q", s.MCP.Server)
			return anyShape
		case tool == nil:
			hint := "its tools: " + strings.Join(names, ", ")
			if cl := closest(s.MCP.Tool, names); cl != "" {
				hint = fmt.Sprintf("did you mean %q?", cl)
			}
			c.r.errorf(s.MCP.ToolPos, s.ID, hint, "the MCP server %q has no tool %q", s.MCP.Server, s.MCP.Tool)
			return anyShape
		case len(tool.OutputSchema) == 0:
			return anyShape
		}
		sh, err := compileSchema(tool.OutputSchema)
		if err != nil {
			c.r.errorf(s.MCP.ToolPos, s.ID, "", "the catalog's output schema of %s/%s is %v", s.MCP.Server, s.MCP.Tool, err)
			return anyShape
		}
		return sh
	case KindService:
		if s.Service == nil {
			return anyShape
		}
		return c.serviceShape(s)
	case KindApproval:
		return objectShape(map[string]*shape{
			"approved": typed("boolean"), "approver": typed("string"), "comment": typed("string"),
		}, "approved", "approver", "comment")
	case KindSet:
		return anyShape // refined in checkStep, where the values' paths resolve
	case KindMap:
		a := typed("array")
		a.items = anyShape
		if s.Map != nil && len(s.Map.Steps) > 0 {
			last := s.Map.Steps[len(s.Map.Steps)-1]
			if o := c.outputs[last.ID]; o != nil {
				a.items = o
			}
		}
		return a
	}
	return nil
}

// assign computes, for every step, which steps have surely run before it
// (definite assignment), across choices, catches, loops and the branches
// of parallel steps.
func (c *checker) assign() {
	c.availIn = map[string]set{}
	c.caughtIn = map[string]set{}
	c.flowAssign(c.g.flows[0], set{}, set{})
}

// flowAssign solves one flow from the sets at its entry and returns what is
// surely set when it ends.
func (c *checker) flowAssign(f *flow, entry, entryCaught set) (set, set) {
	if len(f.steps) == 0 || f.steps[0].ID == "" {
		return entry, entryCaught
	}
	// Forward data flow: start with "everything" (nil) and intersect the
	// sets arriving on each edge until nothing changes.
	in := map[string]set{f.steps[0].ID: entry}
	caught := map[string]set{f.steps[0].ID: entryCaught}
	outOf := func(s *Step) (set, set) {
		avail, cg := in[s.ID], caught[s.ID]
		if avail == nil {
			return nil, nil
		}
		switch {
		case s.Kind == KindParallel && s.Parallel != nil:
			all := avail
			for _, b := range s.Parallel.Branches {
				bf := c.flowOfSteps(b)
				if bf == nil {
					continue
				}
				end, _ := c.flowAssign(bf, avail, cg)
				all = union(all, end)
			}
			return all, cg
		case s.Kind == KindMap && s.Map != nil:
			if mf := c.flowOfSteps(s.Map.Steps); mf != nil {
				c.flowAssign(mf, avail, cg)
			}
		}
		if c.outputs[s.ID] != nil {
			return avail.with(s.ID), cg
		}
		return avail, cg
	}
	for changed := true; changed; {
		changed = false
		for _, s := range f.steps {
			if s.ID == "" {
				continue
			}
			out, cg := outOf(s)
			if out == nil {
				continue
			}
			push := func(target string, a, k set) {
				// Sets only shrink, so a change shows in their sizes.
				na, nk := intersect(in[target], a), intersect(caught[target], k)
				if in[target] == nil || len(na) != len(in[target]) || len(nk) != len(caught[target]) {
					changed = true
				}
				in[target], caught[target] = na, nk
			}
			for _, n := range c.g.succ[s.ID] {
				push(n, out, cg)
			}
			for _, n := range c.g.catchSucc[s.ID] {
				push(n, in[s.ID], cg.with(s.ID))
			}
		}
	}
	for id, a := range in {
		c.availIn[id] = a
		c.caughtIn[id] = caught[id]
	}
	return c.endAvailOf(f, in, caught)
}

func (c *checker) flowOfSteps(steps []*Step) *flow {
	if len(steps) == 0 || steps[0].ID == "" {
		return nil
	}
	return c.g.flowOf[steps[0].ID]
}

// endAvailOf intersects what is set after each step that ends the flow.
func (c *checker) endAvailOf(f *flow, in, caught map[string]set) (set, set) {
	var end, endCaught set
	for _, s := range f.steps {
		if s.ID == "" || in[s.ID] == nil || !c.g.ends(s) || s.Kind == KindFail {
			continue
		}
		a := in[s.ID]
		if c.outputs[s.ID] != nil {
			a = a.with(s.ID)
		}
		if s.Kind == KindParallel && s.Parallel != nil {
			for _, b := range s.Parallel.Branches {
				if bf := c.flowOfSteps(b); bf != nil {
					e, _ := c.flowAssign(bf, in[s.ID], caught[s.ID])
					a = union(a, e)
				}
			}
		}
		end = intersect(end, a)
		endCaught = intersect(endCaught, caught[s.ID])
	}
	if end == nil {
		end = set{}
	}
	return end, endCaught
}

func (c *checker) endAvail(f *flow) set {
	in := map[string]set{}
	caught := map[string]set{}
	for _, s := range f.steps {
		if s.ID != "" {
			in[s.ID], caught[s.ID] = c.availIn[s.ID], c.caughtIn[s.ID]
		}
	}
	a, _ := c.endAvailOf(f, in, caught)
	return a
}

// env answers the type checker's lookups for an expression in step id.
type env struct {
	c       *checker
	step    string
	avail   set
	caught  set
	mapStep *Step // the map step whose sub-flow holds the step, if any
	// refsOK is set where a blob reference is resolved before the value
	// is used: a template that is one path alone, in the data of an ai,
	// mcp or service step or in the workflow's output (see large.go).
	refsOK bool
}

func (c *checker) env(step string, avail set) *env {
	e := &env{c: c, step: step, avail: avail, caught: c.caughtIn[step]}
	if step != "" {
		for f := c.g.flowOf[step]; f != nil && f.parent != nil; f = c.g.flowOf[f.parent.ID] {
			if f.parent.Kind == KindMap {
				e.mapStep = f.parent
				break
			}
		}
	}
	return e
}

func (e *env) Lookup(p expr.Path) (expr.Type, error) {
	lookupErr := func(msg, hint string) error { return &expr.LookupError{Path: p, Msg: msg, Hint: hint} }
	switch p.Root {
	case expr.RootInput:
		return walkShape(e.c.inputs, p, p.Segments, "input", false, lookupErr)
	case expr.RootContext:
		if len(p.Segments) >= 2 && p.Segments[0].Name == "map" {
			if e.mapStep == nil {
				return expr.Type{}, lookupErr("context.map is only set inside a map step", "")
			}
			if len(p.Segments) >= 3 && p.Segments[2].Name == "value" {
				items := anyShape
				if is, ok := e.c.itemsShape(e.mapStep); ok {
					items = is
				}
				return walkShape(items, p, p.Segments[3:], "context.map.item.value", false, lookupErr)
			}
		}
		t, ok := expr.ContextType(p)
		if !ok {
			return expr.Type{}, lookupErr(fmt.Sprintf("%s is not a context value", p), "context.execution.id, .name, .start_time; context.state.name, .entered_time, .retry_count; context.map.item.index, .value")
		}
		return t, nil
	case expr.RootSteps:
		if len(p.Segments) == 0 || p.Segments[0].IsIndex {
			return expr.Type{}, lookupErr("steps needs a step id, like steps.classify.output", "")
		}
		id := p.Segments[0].Name
		s := e.c.g.step[id]
		if s == nil {
			var ids []string
			for k := range e.c.g.step {
				ids = append(ids, k)
			}
			sort.Strings(ids)
			hint := ""
			if cl := closest(id, ids); cl != "" {
				hint = fmt.Sprintf("did you mean %q?", cl)
			}
			return expr.Type{}, lookupErr(fmt.Sprintf("there is no step %q", id), hint)
		}
		if len(p.Segments) < 2 {
			return expr.Type{}, lookupErr(fmt.Sprintf("read steps.%s.output, the step's result", id), "")
		}
		switch field := p.Segments[1].Name; {
		case field == "output":
			out := e.c.outputs[id]
			if out == nil {
				hint := ""
				if s.Kind == KindParallel {
					hint = "read the outputs of the steps in its branches"
				}
				return expr.Type{}, lookupErr(fmt.Sprintf("a %s step has no output", s.Kind), hint)
			}
			if id == e.step {
				return expr.Type{}, lookupErr(fmt.Sprintf("steps.%s.output is this step's own result", id), "")
			}
			if !e.avail[id] {
				// Fix: the hint used to suggest "a default on the other
				// paths", which the language cannot express; and a step in a
				// map's sub-flow, another branch or after a catch got the
				// same generic message.
				if msg, hint := e.c.whyNotSet(id, e.step, e.caught); msg != "" {
					return expr.Type{}, lookupErr(msg, hint)
				}
				return expr.Type{}, lookupErr(fmt.Sprintf("steps.%s.output may not be set here: some way to this point does not run step %q", id, id),
					fmt.Sprintf("read it only in steps that run after %q on every way to them", id))
			}
			if msg, hint, ok := e.referenceRead(p, id); !ok {
				return expr.Type{}, lookupErr(msg, hint)
			}
			return walkShape(out, p, p.Segments[2:], fmt.Sprintf("steps.%s.output", id), false, lookupErr)
		case field == "error":
			if !e.caught[id] {
				return expr.Type{}, lookupErr(fmt.Sprintf("steps.%s.error is only set on the way from its catch", id), "")
			}
			errShape := objectShape(map[string]*shape{"Error": typed("string"), "Cause": typed("string")}, "Error", "Cause")
			return walkShape(errShape, p, p.Segments[2:], fmt.Sprintf("steps.%s.error", id), false, lookupErr)
		default:
			return expr.Type{}, lookupErr(fmt.Sprintf("a step has output (and error, after a catch), not %q", field), "steps."+id+".output")
		}
	}
	return expr.Type{}, lookupErr(fmt.Sprintf("unknown root %q", p.Root), "")
}

// whyNotSet explains, when there is a specific reason, why steps.<id>.output
// cannot be read in step reader ("" for the output mapping): the step
// failed on the way here, or it runs where the reader cannot see it.
func (c *checker) whyNotSet(id, reader string, caught set) (msg, hint string) {
	if caught[id] {
		return fmt.Sprintf("steps.%s.output is not set on the way from its catch: the step failed", id),
			fmt.Sprintf("read steps.%s.error.Error and steps.%s.error.Cause here", id, id)
	}
	for f := c.g.flowOf[id]; f != nil && f.parent != nil; f = c.g.flowOf[f.parent.ID] {
		if p := f.parent; caught[p.ID] {
			return fmt.Sprintf("steps.%s.output may not be set on the way from the catch of %q: the %s step failed, maybe before %q ran", id, p.ID, p.Kind, id),
				fmt.Sprintf("read steps.%s.error.Error and steps.%s.error.Cause here", p.ID, p.ID)
		}
	}
	// inside reports whether the reader runs in one of p's branches.
	inside := func(p *Step) bool {
		for g := c.g.flowOf[reader]; g != nil && g.parent != nil; g = c.g.flowOf[g.parent.ID] {
			if g.parent == p {
				return true
			}
		}
		return false
	}
	holds := func(f *flow) bool {
		g := c.g.flows[0]
		if reader != "" {
			g = c.g.flowOf[reader]
		}
		for g != nil {
			if g == f {
				return true
			}
			if g.parent == nil {
				return false
			}
			g = c.g.flowOf[g.parent.ID]
		}
		return false
	}
	for f := c.g.flowOf[id]; f != nil && f.parent != nil; f = c.g.flowOf[f.parent.ID] {
		if holds(f) {
			return "", ""
		}
		p := f.parent
		switch {
		case p.Kind == KindMap:
			return fmt.Sprintf("step %q runs inside the map step %q, once per item", id, p.ID),
				fmt.Sprintf("after the map, read steps.%s.output: the list of each item's result", p.ID)
		case p.Kind == KindParallel && inside(p):
			return fmt.Sprintf("step %q runs in another branch of the parallel step %q, at the same time as this one", id, p.ID),
				fmt.Sprintf("read it after %q, where the branches' results are merged", p.ID)
		}
	}
	return "", ""
}

func (c *checker) itemsShape(m *Step) (*shape, bool) {
	if m.Map == nil || m.Map.Items == nil {
		return nil, false
	}
	t, err := expr.ParseTemplate(m.Map.Items.Src)
	if err != nil {
		return nil, false
	}
	p, ok := t.Single()
	if !ok {
		return nil, false
	}
	var sh *shape
	switch p.Root {
	case expr.RootInput:
		sh = c.inputs
	case expr.RootSteps:
		// steps.<id>.output.<path>: the output's shape is the step's.
		if len(p.Segments) < 2 || p.Segments[1].IsIndex || p.Segments[1].Name != "output" {
			return nil, false
		}
		sh = c.outputs[p.Segments[0].Name]
		p.Segments = p.Segments[2:]
	default:
		return nil, false
	}
	for _, seg := range p.Segments {
		if sh == nil {
			return nil, false
		}
		if seg.IsIndex {
			sh, _ = sh.index()
		} else {
			sh, _, _, _ = sh.field(seg.Name)
		}
	}
	if sh == nil {
		return nil, false
	}
	items, msg := sh.index()
	return items, msg == "" && items != nil
}

// walkShape follows segs through sh and returns the value's type.
func walkShape(sh *shape, p expr.Path, segs []expr.Segment, at string, optional bool, lookupErr func(string, string) error) (expr.Type, error) {
	for _, seg := range segs {
		// A null has no fields or items: below a value that may be null,
		// the path may be absent. Fix: reading input.a.b where a is
		// [object, null] passed the checker and failed at run time.
		if !sh.isAny() && sh.types["null"] {
			optional = true
		}
		if seg.IsIndex {
			items, msg := sh.index()
			if msg != "" {
				return expr.Type{}, lookupErr(fmt.Sprintf("%s %s", at, msg), "")
			}
			sh = items
			at = fmt.Sprintf("%s[%d]", at, seg.Index)
			optional = true // an index may be out of range
			continue
		}
		f, opt, msg, hint := sh.field(seg.Name)
		if msg != "" {
			return expr.Type{}, lookupErr(fmt.Sprintf("%s %s", at, msg), hint)
		}
		sh = f
		optional = optional || opt
		at += "." + seg.Name
	}
	return expr.Type{Kinds: kindsOf(sh), Optional: optional}, nil
}

func kindsOf(sh *shape) expr.KindSet {
	if sh.isAny() {
		return 0
	}
	var ks []expr.Kind
	for t := range sh.types {
		switch t {
		case "string":
			ks = append(ks, expr.String)
		case "number":
			ks = append(ks, expr.Number)
		case "integer":
			ks = append(ks, expr.Integer)
		case "boolean":
			ks = append(ks, expr.Boolean)
		case "object":
			ks = append(ks, expr.Object)
		case "array":
			ks = append(ks, expr.Array)
		case "null":
			ks = append(ks, expr.Null)
		}
	}
	return expr.KindsOf(ks...)
}

// at turns a byte offset in a template or condition into a file position.
// Offsets are exact for text on one line, as quoted and plain scalars are.
func at(base Pos, src string, offset int) Pos {
	line, col := base.Line, base.Col
	for i := 0; i < offset && i < len(src); i++ {
		if src[i] == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return Pos{line, col}
}

func (c *checker) reportExpr(locate func(offset int) Pos, step string, errs []*expr.TypeError) {
	for _, e := range errs {
		if e.Warning {
			continue
		}
		c.r.errorf(locate(e.Start), step, e.Hint, "%s", e.Msg)
	}
}

// template checks one template string and returns its parsed form.
func (c *checker) template(t *Template, e *env) (expr.Template, bool) {
	pt, err := expr.ParseTemplate(t.Src)
	if err != nil {
		var se *expr.SyntaxError
		if errors.As(err, &se) {
			c.r.errorf(t.at(se.Offset), e.step, se.Hint, "%s", se.Msg)
		} else {
			c.r.errorf(t.Pos, e.step, "", "%v", err)
		}
		return pt, false
	}
	if _, single := pt.Single(); !single && e.refsOK {
		// Text holding a path is made by the state machine, which cannot
		// see into a reference.
		e = e.resolving(false)
	}
	errs := expr.CheckTemplate(pt, e)
	c.reportExpr(t.at, e.step, errs)
	return pt, len(errs) == 0
}

// checkValue checks every template in a value; want, when set, is the JSON
// Schema shape the value must fit (an MCP tool's input).
func (c *checker) checkValue(v *Value, e *env, field string) *shape {
	return c.checkValueAgainst(v, e, field, nil)
}

func (c *checker) checkValueAgainst(v *Value, e *env, field string, want *shape) *shape {
	if v == nil {
		return anyShape
	}
	mismatch := func(got string) {
		c.r.errorf(v.Pos, e.step, "", "%s is %s, but must be %s", orValue(field), got, want)
	}
	switch v.Kind {
	case "object":
		props := map[string]*shape{}
		var req []string
		for _, f := range v.Object {
			var w *shape
			if want != nil && !want.isAny() && want.props != nil {
				fw, _, msg, hint := want.field(f.Key)
				if msg != "" {
					c.r.errorf(f.Value.Pos, e.step, hint, "%s %s", orValue(field), msg)
				}
				w = fw
			}
			props[f.Key] = c.checkValueAgainst(f.Value, e, joinField(field, f.Key), w)
			req = append(req, f.Key)
		}
		if want != nil && want.required != nil {
			var missing []string
			for k := range want.required {
				found := false
				for _, f := range v.Object {
					found = found || f.Key == k
				}
				if !found {
					missing = append(missing, k)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				c.r.errorf(v.Pos, e.step, "", "%s lacks required %s", orValue(field), strings.Join(missing, ", "))
			}
		}
		if want != nil && !want.is("object") {
			mismatch("an object")
		}
		return objectShape(props, req...)
	case "array":
		c.templatedList(v, e.step)
		var items *shape
		if want != nil {
			items, _ = want.index()
			if !want.is("array") {
				mismatch("an array")
			}
		}
		for i, el := range v.Array {
			c.checkValueAgainst(el, e, fmt.Sprintf("%s[%d]", field, i), items)
		}
		return typed("array")
	case "string":
		pt, ok := c.template(v.String, e)
		if !ok {
			return anyShape
		}
		if p, single := pt.Single(); single {
			t, err := e.Lookup(p)
			if err != nil {
				return anyShape
			}
			got := shapeOfKinds(t.Kinds)
			if want != nil && !want.isAny() && !got.isAny() && !fits(got, want) {
				c.r.errorf(v.String.at(p.Start), e.step, "",
					"%s is %s (%s), but must be %s", orValue(field), got, p, want)
			}
			return got
		}
		if want != nil && !want.is("string") {
			c.r.errorf(v.String.Pos, e.step, "pass a value of the right type with a single {{ path }}", "%s is text, but must be %s", orValue(field), want)
		}
		return typed("string")
	case "number":
		var f json.Number = json.Number(v.Raw)
		isInt := !strings.ContainsAny(string(f), ".eE")
		if want != nil && !want.is("number") && !(isInt && want.is("integer")) {
			mismatch("a number")
		} else if want != nil && !isInt && want.only("integer") {
			mismatch("a number with a fraction")
		}
		if isInt {
			return typed("integer")
		}
		return typed("number")
	case "bool":
		if want != nil && !want.is("boolean") {
			mismatch("a boolean")
		}
		return typed("boolean")
	default:
		if want != nil && !want.is("null") {
			mismatch("null")
		}
		return typed("null")
	}
}

func orValue(field string) string {
	if field == "" {
		return "the value"
	}
	return field
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func shapeOfKinds(k expr.KindSet) *shape {
	if k.IsAny() {
		return anyShape
	}
	s := &shape{types: map[string]bool{}}
	for _, kind := range []expr.Kind{expr.String, expr.Number, expr.Integer, expr.Boolean, expr.Object, expr.Array, expr.Null} {
		if k.Has(kind) {
			s.types[kind.String()] = true
		}
	}
	return s
}

// fits reports whether every value of got is allowed by want's type.
func fits(got, want *shape) bool {
	for t := range got.types {
		if want.is(t) {
			continue
		}
		if t == "integer" && want.is("number") {
			continue
		}
		return false
	}
	return true
}

func (c *checker) checkStep(s *Step) {
	e := c.env(s.ID, c.availIn[s.ID])
	if e.avail == nil {
		return // unreachable: reported already
	}
	if s.Kind == KindAI || s.Kind == KindMCP || s.Kind == KindService {
		e = e.resolving(true)
	}
	switch s.Kind {
	case KindAI:
		if s.AI == nil {
			return
		}
		if s.AI.System != nil {
			c.template(s.AI.System, e)
		}
		if s.AI.Prompt != nil {
			c.template(s.AI.Prompt, e)
		}
		for _, t := range s.AI.Tools {
			if !c.catalog.typesTools() {
				continue
			}
			if tool, _, known := c.catalog.tool(t.Server, t.Tool); !known || tool == nil {
				c.r.errorf(t.Pos, s.ID, "", "the tool catalog has no tool %s/%s", t.Server, t.Tool)
			}
		}
	case KindMCP:
		if s.MCP == nil {
			return
		}
		var want *shape
		if tool, _, _ := c.catalog.tool(s.MCP.Server, s.MCP.Tool); tool != nil && len(tool.InputSchema) > 0 {
			if sh, err := compileSchema(tool.InputSchema); err == nil {
				want = sh
			} else {
				c.r.errorf(s.MCP.ToolPos, s.ID, "", "the catalog's input schema of %s/%s is %v", s.MCP.Server, s.MCP.Tool, err)
			}
		}
		args := s.MCP.Arguments
		if args == nil {
			args = &Value{Pos: s.Pos, Kind: "object"}
		}
		c.checkValueAgainst(args, e, "arguments", want)
	case KindService:
		if s.Service == nil {
			return
		}
		if s.Service.Path != nil {
			c.template(s.Service.Path, e)
		}
		c.checkServiceBody(s, e)
	case KindChoice:
		if s.Choice == nil {
			return
		}
		for _, cs := range s.Choice.Cases {
			if cs.WhenPos == (Pos{}) {
				// No when was read, and the decoder said so. Fix: the
				// missing condition was also reported as empty, at 0:0.
				continue
			}
			n, err := expr.Parse(cs.When)
			if err != nil {
				var se *expr.SyntaxError
				if errors.As(err, &se) {
					c.r.errorf(at(cs.WhenPos, cs.When, se.Offset), s.ID, se.Hint, "%s", se.Msg)
				}
				continue
			}
			_, errs := expr.Check(n, e)
			locate := func(offset int) Pos { return at(cs.WhenPos, cs.When, offset) }
			c.reportExpr(locate, s.ID, errs)
			c.literalComparisons(n, locate, s.ID)
		}
	case KindMap:
		if s.Map == nil || s.Map.Items == nil {
			return
		}
		pt, ok := c.template(s.Map.Items, e)
		if !ok {
			return
		}
		p, single := pt.Single()
		if !single {
			c.r.errorf(s.Map.Items.Pos, s.ID, `items: "{{ input.documents }}"`, "items must be a single {{ path }} to an array")
			return
		}
		if t, err := e.Lookup(p); err == nil && !t.IsAny() && !t.Kinds.Has(expr.Array) {
			c.r.errorf(s.Map.Items.at(p.Start), s.ID, "", "items must be an array, but %s is %s", p, t)
		}
		if len(s.Map.Steps) > 0 {
			last := s.Map.Steps[len(s.Map.Steps)-1]
			if c.outputs[last.ID] == nil {
				c.r.errorf(last.Pos, s.ID, "end the sub-flow with a step that has an output (ai, mcp, service, set, ...)", "the last step of a map gives each item's result, and a %s step has none", last.Kind)
			} else if mf := c.flowOfSteps(s.Map.Steps); mf != nil && !c.endAvail(mf)[last.ID] {
				// Fix: an item that ended elsewhere (a succeed step, a next
				// that skips the last step) failed at run time reading the
				// last step's missing output.
				c.r.errorf(last.Pos, s.ID, "make every way through the sub-flow end at its last step; a fail step may end an item early",
					"each item's result is the output of %q, the sub-flow's last step, but some way through the sub-flow ends without running it", last.ID)
			}
		}
	case KindWait:
		if s.Wait != nil && s.Wait.Until != nil {
			pt, ok := c.template(s.Wait.Until, e)
			if ok {
				if p, single := pt.Single(); single {
					if t, err := e.Lookup(p); err == nil && !t.IsAny() && !t.Kinds.Has(expr.String) {
						c.r.errorf(s.Wait.Until.Pos, s.ID, "", "until must be a timestamp string, but %s is %s", p, t)
					}
				} else if lit, isLit := pt.Literal(); !isLit {
					c.r.errorf(s.Wait.Until.Pos, s.ID, "", "until must be a timestamp, or a single {{ path }} to one")
				} else if asl.ValidateTimestamp(lit) != nil {
					// Fix: any text passed, and the compiler made a Wait
					// state Step Functions refuses.
					c.r.errorf(s.Wait.Until.Pos, s.ID, `write it like "2026-12-01T09:00:00Z" (RFC 3339, with a time zone), or a single {{ path }} to one`,
						"until must be an RFC 3339 timestamp, not %q", lit)
				}
			}
		}
	case KindApproval:
		if s.Approval != nil && s.Approval.Message != nil {
			c.template(s.Approval.Message, e)
		}
	case KindSet:
		c.outputs[s.ID] = c.checkValue(s.Set, e, "")
	}
}

// literalComparisons reports each comparison of two literals in a
// condition. expr.Check only warns of one (it is always true or always
// false), but a Choice Rule compares a path: the compiler needs one side
// to be a path.
func (c *checker) literalComparisons(n expr.Node, locate func(int) Pos, step string) {
	switch t := n.(type) {
	case *expr.Paren:
		c.literalComparisons(t.X, locate, step)
	case *expr.Not:
		c.literalComparisons(t.X, locate, step)
	case *expr.Binary:
		if t.Op == expr.OpAnd || t.Op == expr.OpOr {
			c.literalComparisons(t.X, locate, step)
			c.literalComparisons(t.Y, locate, step)
			return
		}
		_, litX := unparen(t.X).(*expr.Literal)
		_, litY := unparen(t.Y).(*expr.Literal)
		if litX && litY {
			start, _ := t.Span()
			c.r.errorf(locate(start), step, "compare a path with a value, like input.amount > 100; write true or false for a constant",
				"a comparison of two literals does not read the data: %s", t)
		}
	}
}

// templatedList reports what a list whose strings are templates cannot
// hold. Step Functions builds such a list with States.Array, whose
// arguments are paths, strings, numbers, booleans, null and calls (a
// nested list is States.Array too), so it cannot hold a mapping.
func (c *checker) templatedList(v *Value, step string) {
	if !arrayNeedsIntrinsic(v) {
		return
	}
	var walk func(*Value)
	walk = func(v *Value) {
		for _, el := range v.Array {
			switch el.Kind {
			case "object":
				c.r.errorf(el.Pos, step, "build the mapping in a set step before, and put {{ steps.<id>.output }} in the list",
					"a list whose strings are templates cannot hold a mapping")
			case "array":
				if !arrayNeedsIntrinsic(el) {
					walk(el) // a list that needs States.Array reports its own
				}
			}
		}
	}
	walk(v)
}
