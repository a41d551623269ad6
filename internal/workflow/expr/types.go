package expr

import (
	"fmt"
	"strings"
)

// Kind is one kind of JSON value as the type checker sees it.
type Kind uint8

// The kinds of values. Any means "unknown": the checker accepts it wherever
// some kind is needed. Integer is a Number known to be whole; the two
// compare with each other.
const (
	Any Kind = iota
	String
	Number
	Integer
	Boolean
	Object
	Array
	Null
	numKinds
)

var kindNames = [...]string{
	Any:     "any",
	String:  "string",
	Number:  "number",
	Integer: "integer",
	Boolean: "boolean",
	Object:  "object",
	Array:   "array",
	Null:    "null",
}

// String returns the kind's lowercase name, as used in error messages.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// KindSet is a set of kinds: a value that "is a string or null" has the set
// {String, Null}. The empty set, like a set holding Any, means unknown.
type KindSet uint16

// KindsOf returns the set of the given kinds.
func KindsOf(kinds ...Kind) KindSet {
	var s KindSet
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in s. It does not interpret Any: an unknown set
// has only the kinds explicitly added to it.
func (s KindSet) Has(k Kind) bool { return k < numKinds && s&(1<<k) != 0 }

// IsAny reports whether s says nothing about the value: it is empty or
// holds Any.
func (s KindSet) IsAny() bool { return s == 0 || s.Has(Any) }

// String lists the kinds in s joined by " or ", like "string or null".
func (s KindSet) String() string {
	if s.IsAny() {
		return "any"
	}
	var names []string
	for k := String; k < numKinds; k++ {
		if s.Has(k) {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, " or ")
}

// normalize folds Integer into Number, since they compare with each other.
func (s KindSet) normalize() KindSet {
	if s.Has(Integer) {
		s = s&^KindsOf(Integer) | KindsOf(Number)
	}
	return s
}

// Type is what the checker knows about a value: which kinds it may have and
// whether it may be absent. The zero Type is an unknown, present value.
type Type struct {
	// Kinds is the set of kinds the value may have; empty means unknown.
	Kinds KindSet
	// Optional says the value may be absent. Reading an absent value fails
	// a Step Functions execution, so a condition must guard it with
	// exists(path) and a template may not read it.
	Optional bool
}

// TypeOf returns the present Type whose value has one of kinds.
func TypeOf(kinds ...Kind) Type { return Type{Kinds: KindsOf(kinds...)} }

// IsAny reports whether nothing is known about the kinds of t.
func (t Type) IsAny() bool { return t.Kinds.IsAny() }

// String describes t, like "string or null" or "optional number".
func (t Type) String() string {
	if t.Optional {
		return "optional " + t.Kinds.String()
	}
	return t.Kinds.String()
}

// Env tells the checker the types of the values paths refer to. The caller
// implements it from the workflow: the input schema, the outputs of steps
// that run before the expression and the context object.
type Env interface {
	// Lookup returns the type of the value at p. It returns a *LookupError
	// when p names nothing: an unknown field, a step that does not exist or
	// has not run yet, a context path that is not available here. Other
	// errors are reported with their text.
	Lookup(p Path) (Type, error)
}

// LookupError is the error an Env returns for a path that names nothing.
type LookupError struct {
	// Path is the path that was looked up.
	Path Path
	// Msg says what is wrong, like `step "clasify" does not exist`.
	Msg string
	// Hint says how to fix it, like `did you mean "classify"?`; optional.
	Hint string
}

// Error returns Msg, followed by Hint when there is one.
func (e *LookupError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = fmt.Sprintf("unknown path %s", e.Path)
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}
