package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// defaultMapConcurrency bounds a Map state without MaxConcurrency, as
// Step Functions runs at most about 40 inline iterations at once.
const defaultMapConcurrency = 40

func appendScope(scope []scopeStep, s scopeStep) []scopeStep {
	out := make([]scopeStep, len(scope), len(scope)+1)
	copy(out, scope)
	return append(out, s)
}

func (x *execution) spawn(t *thread, info spawnInfo) {
	b := x.batch()
	if b.Spawn == nil {
		b.Spawn = map[int]spawnInfo{}
	}
	info.Gen = t.Gen
	b.Spawn[t.ID] = info
}

func (x *execution) runParallel(t *thread, st *asl.State) (string, any) {
	env := x.env(t, x.contextObject(t, "", nil))
	eff, err := x.stateInput(t, st, env)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	if s := text(eff); tooBig(s) {
		return x.fail(t, st, dataLimit("state input after Parameters", len(s)))
	}
	n := len(st.Branches)
	t.Phase, t.Effective, t.MaxConc = phaseChildren, eff, n
	t.Gen++
	t.kids = &kids{results: make([]any, n), done: make([]bool, n)}
	x.spawn(t, spawnInfo{Slots: n})
	x.event(t, "ParallelStateStarted", sfn.HistoryEvent{})
	x.pump(t)
	return "", nil
}

func (x *execution) runMap(t *thread, st *asl.State) (string, any) {
	env := x.env(t, x.contextObject(t, "", nil))
	eff, err := x.stateInput(t, st, env)
	if err != nil {
		return x.fail(t, st, failureOf(err))
	}
	itemsValue := eff
	if st.ItemsPath != "" {
		if itemsValue, err = lookupPath(st.ItemsPath, eff, env); err != nil {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("ItemsPath %s: %v", st.ItemsPath, err)})
		}
	}
	if x.jsonata(st) {
		if itemsValue, err = x.jsonataItems(t, st, env); err != nil {
			return x.fail(t, st, failureOf(err))
		}
	}
	items, ok := itemsValue.([]any)
	if !ok {
		return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("Map state %q: the items (ItemsPath %q) are %s, not an array", t.State, st.ItemsPath, asl.JSONTypeName(itemsValue))})
	}
	maxConc := defaultMapConcurrency
	switch {
	case st.MaxConcurrency != nil && *st.MaxConcurrency > 0:
		maxConc = *st.MaxConcurrency
	case st.MaxConcurrencyPath != "":
		v, err := lookupPath(st.MaxConcurrencyPath, eff, env)
		n, ok := asInt(v)
		if err != nil || !ok || n < 0 {
			return x.fail(t, st, failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("MaxConcurrencyPath %s does not select a non-negative integer", st.MaxConcurrencyPath)})
		}
		if n > 0 {
			maxConc = int(n)
		}
	case st.MaxConcurrencyExpr != "":
		n, err := x.jsonataNumber(t, "MaxConcurrency", st.MaxConcurrencyExpr, env, true, 0, math.MaxInt32)
		if err != nil {
			return x.fail(t, st, failureOf(err))
		}
		if n > 0 {
			maxConc = int(n)
		}
	}
	tolerated, f := x.tolerance(t, st, eff, env, len(items))
	if f != nil {
		return x.fail(t, st, *f)
	}
	if st.ItemBatcher != nil {
		if items, f = x.batchItems(t, st, eff, env, items); f != nil {
			return x.fail(t, st, *f)
		}
		tolerated, _ = x.tolerance(t, st, eff, env, len(items))
	}
	t.Phase, t.Effective, t.MaxConc = phaseChildren, eff, maxConc
	t.Gen++
	t.kids = &kids{items: items, results: make([]any, len(items)), done: make([]bool, len(items)), tolerated: tolerated}
	x.spawn(t, spawnInfo{Slots: len(items), Items: items})
	x.event(t, "MapStateStarted", sfn.HistoryEvent{MapStateStarted: &sfn.MapStateStartedDetails{Length: len(items)}})
	if isDistributed(st) {
		x.startMapRun(t, st, eff, env, len(items))
	}
	x.pump(t)
	return "", nil
}

// tolerance returns whether a number of failed iterations is tolerated,
// from ToleratedFailureCount and ToleratedFailurePercentage (or their
// paths); nil when the state tolerates no failure.
func (x *execution) tolerance(t *thread, st *asl.State, eff any, env asl.Env, total int) (func(int) bool, *failure) {
	count, pct, f := x.toleranceValues(t, st, eff, env)
	if f != nil {
		return nil, f
	}
	return toleranceFunc(count, pct, total), nil
}

// toleranceValues resolves ToleratedFailureCount and
// ToleratedFailurePercentage (or their paths); -1 stands for absent.
func (x *execution) toleranceValues(t *thread, st *asl.State, eff any, env asl.Env) (int, float64, *failure) {
	count, pct := -1, -1.0
	if st.ToleratedFailureCount != nil {
		count = *st.ToleratedFailureCount
	} else if st.ToleratedFailureCountPath != "" {
		v, err := lookupPath(st.ToleratedFailureCountPath, eff, env)
		n, ok := asInt(v)
		if err != nil || !ok || n < 0 {
			return 0, 0, &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("ToleratedFailureCountPath %s does not select a non-negative integer", st.ToleratedFailureCountPath)}
		}
		count = int(n)
	} else if st.ToleratedFailureCountExpr != "" {
		n, err := x.jsonataNumber(t, "ToleratedFailureCount", st.ToleratedFailureCountExpr, env, true, 0, math.MaxInt32)
		if err != nil {
			ff := failureOf(err)
			return 0, 0, &ff
		}
		count = int(n)
	}
	if st.ToleratedFailurePercentage != nil {
		pct = *st.ToleratedFailurePercentage
	} else if st.ToleratedFailurePercentagePath != "" {
		v, err := lookupPath(st.ToleratedFailurePercentagePath, eff, env)
		f, ok := asFloat(v)
		if err != nil || !ok || f < 0 || f > 100 {
			return 0, 0, &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("ToleratedFailurePercentagePath %s does not select a number from 0 to 100", st.ToleratedFailurePercentagePath)}
		}
		pct = f
	} else if st.ToleratedFailurePercentageExpr != "" {
		f, err := x.jsonataNumber(t, "ToleratedFailurePercentage", st.ToleratedFailurePercentageExpr, env, false, 0, 100)
		if err != nil {
			ff := failureOf(err)
			return 0, 0, &ff
		}
		pct = f
	}
	return count, pct, nil
}

// toleranceFunc says whether a number of failed items of total is
// tolerated; nil when neither a count nor a percentage is set (-1).
func toleranceFunc(count int, pct float64, total int) func(int) bool {
	if count < 0 && pct < 0 {
		return nil
	}
	return func(failed int) bool {
		if count >= 0 && failed <= count {
			return true
		}
		if pct >= 0 && total > 0 && float64(failed)*100/float64(total) <= pct+1e-9 {
			return true
		}
		return false
	}
}

// pump starts the children of a Parallel or Map thread that may run now,
// and completes the thread once all have ended. Children that end at once
// call back into childEnded, which leaves starting and completing to the
// pump that is running.
func (x *execution) pump(p *thread) {
	k := p.kids
	if k == nil || k.pumping {
		return
	}
	gen := p.Gen
	st := p.states[p.State]
	k.pumping = true
	for x.still(p, gen) && k.next < len(k.results) && k.running < p.MaxConc {
		i := k.next
		k.next++
		k.running++
		if !x.startChild(p, st, i) {
			return
		}
	}
	k.pumping = false
	if x.still(p, gen) && k.running == 0 && k.next >= len(k.results) {
		x.childrenDone(p)
	}
}

// still reports whether thread p still waits for the children it started
// in generation gen.
func (x *execution) still(p *thread, gen int64) bool {
	return !x.closed && x.threads[p.ID] == p && p.Phase == phaseChildren && p.Gen == gen
}

func jsonInt(i int) any { return json.Number(strconv.Itoa(i)) }

// childEnded records the end of child c of p.
func (x *execution) childEnded(p *thread, c *thread, end childEnd) {
	k := p.kids
	if p.Phase != phaseChildren || c.Index >= len(k.results) || k.done[c.Index] {
		return
	}
	st := p.states[p.State]
	k.running--
	k.done[c.Index] = true
	if !end.Failed {
		k.succeeded++
		k.results[c.Index] = end.Output
		if st.Type == asl.TypeMap {
			x.event(p, "MapIterationSucceeded", sfn.HistoryEvent{MapIterationSucceed: &sfn.MapIterationDetails{Name: p.State, Index: c.Index}})
		}
	} else {
		k.failed++
		f := failure{Error: end.Error, Cause: end.Cause}
		if st.Type == asl.TypeMap {
			x.event(p, "MapIterationFailed", sfn.HistoryEvent{MapIterationFailed: &sfn.MapIterationDetails{Name: p.State, Index: c.Index}})
			if k.tolerated != nil && k.tolerated(k.failed) {
				k.results[c.Index] = errorOutput(end.Error, end.Cause)
			} else {
				if k.tolerated != nil {
					f = failure{Error: asl.ErrorExceedToleratedFailureThreshold, Cause: fmt.Sprintf("The number of failed items (%d of %d) exceeds the tolerated failure threshold of the Map state %q.", k.failed, len(k.results), p.State)}
				}
				x.childrenFailed(p, f)
				return
			}
		} else {
			x.childrenFailed(p, f)
			return
		}
	}
	if !k.pumping {
		x.pump(p)
	}
}

// childrenFailed aborts p's remaining children and fails p's state.
func (x *execution) childrenFailed(p *thread, f failure) {
	st := p.states[p.State]
	p.fanOut = &fanOut{Gen: p.Gen, Effective: p.Effective, MaxConc: p.MaxConc}
	for _, c := range x.children(p.ID) {
		if st.Type == asl.TypeMap {
			x.event(p, "MapIterationAborted", sfn.HistoryEvent{MapIterationAborted: &sfn.MapIterationDetails{Name: p.State, Index: c.Index}})
		}
		x.abortThread(c)
	}
	x.endMapRun(p, &f)
	p.kids = nil
	p.Phase, p.Effective = "", nil
	if st.Type == asl.TypeMap {
		x.event(p, "MapStateFailed", sfn.HistoryEvent{})
	} else {
		x.event(p, "ParallelStateFailed", sfn.HistoryEvent{})
	}
	next, out := x.fail(p, st, f)
	x.drive(p, next, out)
}

// childrenDone completes p's state with its children's outputs.
func (x *execution) childrenDone(p *thread) {
	st := p.states[p.State]
	results := p.kids.results
	x.endMapRun(p, nil)
	p.kids = nil
	p.Phase, p.Effective = "", nil
	if st.Type == asl.TypeMap {
		x.event(p, "MapStateSucceeded", sfn.HistoryEvent{})
	} else {
		x.event(p, "ParallelStateSucceeded", sfn.HistoryEvent{})
	}
	env := x.env(p, x.contextObject(p, "", nil))
	next, out := x.complete(p, st, results, env)
	x.drive(p, next, out)
}
