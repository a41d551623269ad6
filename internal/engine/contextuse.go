package engine

import "strings"

// Context use: building the Context Object ("$$") for every state costs a
// few maps and formatted times per transition, and most state machines
// never read it. A JSONPath state reads it only through a path that starts
// with "$$", which its definition must then spell, as "$$" or with an
// escaped dollar sign ("\u0024"); a JSONata state reads it as
// $states.context, so it always gets one.

// Values of execution.ctxUse.
const (
	ctxUseUnknown int8 = iota
	ctxUseNever        // the definition spells no "$$"
	ctxUseMaybe
)

// needsContext reports whether thread t's current state may read the
// Context Object: a JSONata state, or any state of a definition that may
// name it.
func (x *execution) needsContext(t *thread) bool {
	if x.ctxUse == ctxUseUnknown {
		x.ctxUse = ctxUseMaybe
		if !strings.Contains(x.definition, "$$") && !strings.Contains(x.definition, `\u0024`) {
			x.ctxUse = ctxUseNever
		}
	}
	if x.ctxUse == ctxUseMaybe || x.sm == nil {
		return true
	}
	st := t.states[t.State]
	return st == nil || x.jsonata(st)
}
