package asl

import "bytes"

// contextUseMemo remembers MayReadContext's answer for each state parsed.
// States are parsed once per state machine or version and never changed,
// so a state's answer holds for as long as it exists; the keys keep their
// states alive until the memo starts again.
var contextUseMemo memo[*State, bool]

// MayReadContext reports whether st's definition, its branches and item
// processor included, spells "$$" or an escaped character (\u): a
// JSONPath state reads the Context Object only through a path that starts
// with "$$", which its definition must then spell, plainly or escaped
// ("\u0024"). A state that does not may be run without one: a compiled
// workflow's input and output mappings read none, where its steps do.
func MayReadContext(st *State) bool {
	if may, ok := contextUseMemo.get(st); ok {
		return may
	}
	raw, err := st.MarshalJSON()
	may := err != nil || bytes.Contains(raw, []byte("$$")) || bytes.Contains(raw, []byte(`\u`))
	contextUseMemo.put(st, may)
	return may
}
