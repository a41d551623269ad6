package engine

import (
	"bytes"
	"strings"
	"sync"

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
	return st == nil || x.jsonata(st) || stateMayReadContext(st)
}

// stateContextLimit bounds stateContext's memory: when it is full it
// starts again empty, as asl's memos do.
const stateContextLimit = 4096

// stateContext remembers, for each state of the definitions the process
// runs, whether its own definition may name the Context Object. States
// are parsed once per state machine or version and never changed, so a
// state's answer holds for as long as it exists. The keys keep their
// states alive until the memo starts again.
var stateContext struct {
	mu sync.RWMutex
	m  map[*asl.State]bool
}

// stateMayReadContext reports whether st's definition spells "$$" or an
// escaped character, with its branches and processors: a compiled
// workflow's first and last states (its input and output mappings) read
// no context, where its steps do, and building it for them cost every
// execution a few maps and formatted times.
func stateMayReadContext(st *asl.State) bool {
	stateContext.mu.RLock()
	may, ok := stateContext.m[st]
	stateContext.mu.RUnlock()
	if ok {
		return may
	}
	raw, err := st.MarshalJSON()
	may = err != nil || bytes.Contains(raw, []byte("$$")) || bytes.Contains(raw, []byte(`\u`))
	stateContext.mu.Lock()
	if stateContext.m == nil || len(stateContext.m) >= stateContextLimit {
		stateContext.m = make(map[*asl.State]bool, 64)
	}
	stateContext.m[st] = may
	stateContext.mu.Unlock()
	return may
}
