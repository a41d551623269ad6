package engine

import (
	"reflect"

	"github.com/aiflow/aiflow/internal/asl"
)

// A value passes through several events as it is: a task's result is its
// TaskSucceeded output, its state's StateExited output, the next state's
// StateEntered input and, at the end, the execution's output. Values are
// never changed in place (asl copies a value before it writes into it),
// so the same value always has the same encoding: textMemo keeps the last
// one an execution made.

// textMemo is the last value an execution encoded and its encoding.
type textMemo struct {
	v any
	s string
	// own is whether s is text(v)'s own output, not a text v was read
	// from (see textOfOwn).
	own bool
}

// textOf returns text(v), reusing the encoding of the last value x
// encoded when v is that value; x.mu is held.
func (x *execution) textOf(v any) string {
	s, _ := x.textOfOwn(v)
	return s
}

// textOfOwn is textOf, and whether the text is what text(v) writes
// (compact, strings escaped as asl.AppendJSON escapes them) rather than
// the text v was read from, which holds the same value written another
// way (white space, other escapes); x.mu is held.
func (x *execution) textOfOwn(v any) (string, bool) {
	if sameValue(x.text.v, v) {
		return x.text.s, x.text.own
	}
	s := text(v)
	x.text = textMemo{v: v, s: s, own: true}
	return s, true
}

// knownText notes that s is text(v), which textOf then gives without
// encoding v; x.mu is held.
func (x *execution) knownText(v any, s string) { x.text = textMemo{v: v, s: s} }

// sameValue reports whether a and b are the same JSON object or array (the
// same *asl.Object or map, the same elements of an array): only values
// whose identity is cheap to compare are recognised.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case *asl.Object:
		o, ok := b.(*asl.Object)
		return ok && a != nil && a == o
	case map[string]any:
		m, ok := b.(map[string]any)
		return ok && a != nil && m != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(m).UnsafePointer()
	case []any:
		s, ok := b.([]any)
		return ok && len(a) > 0 && len(a) == len(s) && &a[0] == &s[0]
	}
	return false
}
