package engine

import (
	"strings"

	"github.com/aiflow/aiflow/internal/asl"
)

// Context use: building the Context Object ("$$") for every state costs a
// few maps and formatted times per transition, and most state machines
// never read it. A JSONPath state reads it only through a path that starts
// with "$$", which its definition must then spell, as "$$" or with an
// escaped dollar sign ("\u0024"); a JSONata state reads it as
// $states.context, so it always gets one.

// Values of execution.ctxUse.
const (
	ctxUseUnknown int8 = iota
	ctxUseNever        // the definition spells neither "$$" nor JSONata
	ctxUseJSONata      // only its JSONata states read it
	ctxUseMaybe
)

// needsContext reports whether thread t's current state may read the
// Context Object: a JSONata state, or a state of a definition that may
// name it whose own definition may name it. A definition with an escaped
// character (\u) is read as one that may name it, and may use JSONata.
func (x *execution) needsContext(t *thread) bool {
	if x.ctxUse == ctxUseUnknown {
		switch d := x.definition; {
		case d == "" || x.sm == nil || strings.Contains(d, "$$") || strings.Contains(d, `\u`):
			x.ctxUse = ctxUseMaybe
		case strings.Contains(d, asl.QueryLanguageJSONata):
			x.ctxUse = ctxUseJSONata
		default:
			x.ctxUse = ctxUseNever
		}
	}
	switch x.ctxUse {
	case ctxUseNever:
		return false
	case ctxUseJSONata:
		st := t.states[t.State]
		return st == nil || x.jsonata(st)
	}
	st := t.states[t.State]
	return st == nil || x.jsonata(st) || asl.MayReadContext(st)
}
