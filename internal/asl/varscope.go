package asl

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// variableScopes reports variables that a nested scope (a Parallel
// branch or a Map state's item processor) assigns although an enclosing
// scope assigns them too: Step Functions refuses such definitions, since
// an inner scope may read but never change an outer variable.
func (v *validator) variableScopes(prefix string, states map[string]*State, outer map[string]bool) {
	own := map[string]bool{}
	for _, name := range sortedStateNames(states) {
		for _, a := range stateAssigns(states[name]) {
			for k := range a {
				own[strings.TrimSuffix(k, ".$")] = true
			}
		}
	}
	for _, name := range sortedStateNames(states) {
		st := states[name]
		path := joinPath(prefix+"States", name)
		if len(outer) > 0 {
			for _, a := range stateAssigns(st) {
				keys := make([]string, 0, len(a))
				for k := range a {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if outer[strings.TrimSuffix(k, ".$")] {
						v.fail(path+".Assign."+k, "assigns variable %q, which an enclosing scope assigns; a nested scope can read it but not assign it", strings.TrimSuffix(k, ".$"))
					}
				}
			}
		}
		if st.Type != TypeParallel && st.Type != TypeMap {
			continue
		}
		inner := make(map[string]bool, len(outer)+len(own))
		for k := range outer {
			inner[k] = true
		}
		for k := range own {
			inner[k] = true
		}
		for i, b := range st.Branches {
			v.variableScopes(path+".Branches["+strconv.Itoa(i)+"].", b.States, inner)
		}
		if p := st.ItemProcessor; p != nil {
			v.variableScopes(path+".ItemProcessor.", p.States, inner)
		} else if p := st.Iterator; p != nil {
			v.variableScopes(path+".Iterator.", p.States, inner)
		}
	}
}

// stateAssigns returns the Assign blocks of a state, its Choice rules
// and its catchers.
func stateAssigns(st *State) []map[string]json.RawMessage {
	var out []map[string]json.RawMessage
	if st.Assign != nil {
		out = append(out, st.Assign)
	}
	for _, r := range st.Choices {
		if r.Assign != nil {
			out = append(out, r.Assign)
		}
	}
	for _, c := range st.Catch {
		if c.Assign != nil {
			out = append(out, c.Assign)
		}
	}
	return out
}

func sortedStateNames(states map[string]*State) []string {
	names := make([]string, 0, len(states))
	for n, st := range states {
		if st != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
