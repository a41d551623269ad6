package workflow

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Default timeouts injected into task steps that set none; the compiled
// state machine shows them.
var defaultTimeouts = map[string]time.Duration{
	KindAI:       5 * time.Minute,
	KindMCP:      time.Minute,
	KindService:  time.Minute,
	KindApproval: 24 * time.Hour,
}

// idRE is what a step id may be: it names a Step Functions state and is
// read in paths (steps.<id>.output), so it is a plain identifier.
var idRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// nameRE is what a workflow name may be: a Step Functions state machine
// name.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// flow is one list of steps: the workflow's, a parallel branch's, or a map's
// sub-flow. Transitions stay inside their flow.
type flow struct {
	steps  []*Step
	parent *Step // nil for the workflow's own flow
	byID   map[string]*Step
}

// graph is the checked shape of a workflow: every flow and step.
type graph struct {
	flows  []*flow
	step   map[string]*Step
	flowOf map[string]*flow
	// succ are a step's normal successors; catchSucc the targets of its
	// catches.
	succ      map[string][]string
	catchSucc map[string][]string
}

// checkStructure checks names, transitions, reachability and ways out, and
// injects default task timeouts. It returns the graph for the data checks.
func checkStructure(r *reporter, wf *Workflow) *graph {
	g := &graph{step: map[string]*Step{}, flowOf: map[string]*flow{}, succ: map[string][]string{}, catchSucc: map[string][]string{}}
	if wf.Name != "" && !nameRE.MatchString(wf.Name) {
		r.errorf(wf.NamePos, "", "letters, digits, - and _, at most 80", "the workflow name %q is not a valid state machine name", wf.Name)
	}
	g.addFlow(r, wf.Steps, nil)
	for _, f := range g.flows {
		g.link(r, f)
	}
	for _, f := range g.flows {
		g.reach(r, f)
	}
	return g
}

func (g *graph) addFlow(r *reporter, steps []*Step, parent *Step) {
	f := &flow{steps: steps, parent: parent, byID: map[string]*Step{}}
	g.flows = append(g.flows, f)
	for _, s := range steps {
		switch {
		case s.ID == "":
			// reported by the parser
		case !idRE.MatchString(s.ID):
			hint := "a letter, then letters, digits or _, at most 64"
			// Fix: suggest the id the user most likely meant.
			if fixed := strings.NewReplacer("-", "_", " ", "_", ".", "_").Replace(s.ID); fixed != s.ID && idRE.MatchString(fixed) {
				hint = fmt.Sprintf("did you mean %q? %s", fixed, hint)
			}
			r.errorf(s.Pos, s.ID, hint, "the step id %q is not valid", s.ID)
		case g.step[s.ID] != nil:
			first := g.step[s.ID]
			r.errorf(s.Pos, s.ID, fmt.Sprintf("the first is at line %d", first.Pos.Line), "duplicate step id %q", s.ID)
			continue
		}
		if s.ID == "" {
			continue
		}
		g.step[s.ID] = s
		g.flowOf[s.ID] = f
		f.byID[s.ID] = s
		if s.IsTask() {
			timeout := "timeout"
			if s.Timeout == 0 {
				s.Timeout = defaultTimeouts[s.Kind]
				timeout = fmt.Sprintf("the default timeout of an %s step", s.Kind)
			}
			// Fix: these errors pointed at the step, not the field, and
			// printed "5m0s"; and a 1s timeout left a heartbeat of 0s, which
			// made an invalid state machine.
			switch {
			case s.Timeout < 2*time.Second:
				r.errorf(s.TimeoutPos, s.ID, "the heartbeat must be at least 1s and shorter than the timeout", "a task's timeout must be at least 2s")
			case s.Heartbeat >= s.Timeout && s.Heartbeat != 0:
				r.errorf(s.HeartbeatPos, s.ID, fmt.Sprintf("the heartbeat is how long the worker may go silent; make it shorter than %s, or raise the timeout", shortDuration(s.Timeout)),
					"heartbeat (%s) must be shorter than %s (%s)", shortDuration(s.Heartbeat), timeout, shortDuration(s.Timeout))
			}
			if s.Heartbeat == 0 {
				s.Heartbeat = defaultHeartbeat(s)
			}
		}
		switch {
		case s.Parallel != nil:
			for _, b := range s.Parallel.Branches {
				g.addFlow(r, b, s)
			}
		case s.Map != nil:
			g.addFlow(r, s.Map.Steps, s)
		}
	}
}

// shortDuration writes a duration as it is written in a definition: 5m,
// not 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// defaultHeartbeat is how long a worker may go silent: a minute for model
// and tool calls (workers beat every 20s), and a second less than the
// timeout for an approval (a human does not beat).
func defaultHeartbeat(s *Step) time.Duration {
	if s.Kind == KindApproval {
		return s.Timeout - time.Second
	}
	return min(time.Minute, s.Timeout-time.Second)
}

// link resolves every transition of a flow's steps.
func (g *graph) link(r *reporter, f *flow) {
	where := "this flow"
	if f.parent != nil {
		where = fmt.Sprintf("the %s step %q", f.parent.Kind, f.parent.ID)
	}
	resolve := func(s *Step, target string, pos Pos) (string, bool) {
		if f.byID[target] != nil {
			return target, true
		}
		hint := ""
		if other := g.step[target]; other != nil {
			hint = fmt.Sprintf("%q is in another flow; a step may only go to steps of its own flow", target)
		} else {
			var ids []string
			for id := range f.byID {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			if c := closest(target, ids); c != "" {
				hint = fmt.Sprintf("did you mean %q?", c)
			}
		}
		r.errorf(pos, s.ID, hint, "no step %q in %s", target, where)
		return "", false
	}
	for i, s := range f.steps {
		if s.ID == "" {
			continue
		}
		var next []string
		switch s.Kind {
		case KindChoice:
			if s.Choice != nil {
				for _, c := range s.Choice.Cases {
					if t, ok := resolve(s, c.Next, c.NextPos); ok {
						next = append(next, t)
					}
				}
				if s.Choice.Default != "" {
					if t, ok := resolve(s, s.Choice.Default, s.Choice.DefaultPos); ok {
						next = append(next, t)
					}
				}
			}
		case KindSucceed, KindFail:
		default:
			if s.Next != "" {
				if t, ok := resolve(s, s.Next, s.NextPos); ok {
					next = append(next, t)
				}
			} else if i+1 < len(f.steps) && f.steps[i+1].ID != "" {
				next = append(next, f.steps[i+1].ID)
			}
		}
		g.succ[s.ID] = next
		for _, c := range s.Catch {
			if t, ok := resolve(s, c.Next, c.NextPos); ok {
				g.catchSucc[s.ID] = append(g.catchSucc[s.ID], t)
			}
		}
	}
}

// ends reports whether a step can end its flow: it has no successor (the
// flow ends after it) or it is succeed or fail.
func (g *graph) ends(s *Step) bool {
	switch s.Kind {
	case KindSucceed, KindFail:
		return true
	case KindChoice:
		return false
	}
	return len(g.succ[s.ID]) == 0
}

// reach reports steps no path reaches and loops no path leaves.
func (g *graph) reach(r *reporter, f *flow) {
	if len(f.steps) == 0 || f.steps[0].ID == "" {
		return
	}
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, n := range g.succ[id] {
			walk(n)
		}
		for _, n := range g.catchSucc[id] {
			walk(n)
		}
	}
	walk(f.steps[0].ID)
	for _, s := range f.steps {
		if s.ID != "" && !seen[s.ID] {
			r.errorf(s.Pos, s.ID, "remove it, or point a next, a choice or a catch at it", "the step %q is never reached", s.ID)
		}
	}
	// A way out: from every reachable step, some path leads to a step that
	// ends the flow.
	canEnd := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, s := range f.steps {
			if s.ID == "" || canEnd[s.ID] {
				continue
			}
			ok := g.ends(s)
			for _, n := range append(append([]string{}, g.succ[s.ID]...), g.catchSucc[s.ID]...) {
				ok = ok || canEnd[n]
			}
			if ok {
				canEnd[s.ID] = true
				changed = true
			}
		}
	}
	var stuck []string
	for _, s := range f.steps {
		if s.ID != "" && seen[s.ID] && !canEnd[s.ID] {
			stuck = append(stuck, s.ID)
		}
	}
	if len(stuck) > 0 {
		first := g.step[stuck[0]]
		r.errorf(first.Pos, first.ID, "give the loop a way out: a choice case or a catch that leads past it",
			"these steps loop with no way out: %s", strings.Join(stuck, ", "))
	}
}
