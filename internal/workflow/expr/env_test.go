package expr

import (
	"errors"
	"fmt"
	"strings"
)

// mapEnv is an Env built from canonical paths. Below a path of unknown
// type every path resolves, with the unknown type (and its Optional).
// Context paths resolve with ContextType. Paths under steps.broken fail
// with an error that is not a *LookupError.
type mapEnv map[string]Type

func (e mapEnv) Lookup(p Path) (Type, error) {
	if t, ok := e[p.String()]; ok {
		return t, nil
	}
	if t, ok := ContextType(p); ok {
		return t, nil
	}
	if strings.HasPrefix(p.String(), "steps.broken") {
		return Type{}, errors.New("schema unavailable")
	}
	for i := len(p.Segments) - 1; i >= 0; i-- {
		parent := Path{Root: p.Root, Segments: p.Segments[:i]}
		if t, ok := e[parent.String()]; ok && t.IsAny() {
			return t, nil
		}
	}
	if strings.HasPrefix(p.String(), "steps.clasify") {
		return Type{}, &LookupError{Path: p, Msg: `step "clasify" does not exist`, Hint: `did you mean "classify"?`}
	}
	return Type{}, &LookupError{Path: p}
}

var testEnv = mapEnv{
	"input.amount":                   TypeOf(Number),
	"input.count":                    TypeOf(Integer),
	"input.message":                  TypeOf(String),
	"input.flag":                     TypeOf(Boolean),
	"input.maybe_flag":               TypeOf(Boolean, Null),
	"input.note":                     TypeOf(String, Null),
	"input.tags":                     TypeOf(Array),
	"input.meta":                     {},
	"input.opt":                      {Kinds: KindsOf(Number), Optional: true},
	"input.mixed":                    TypeOf(String, Number),
	"input.never":                    TypeOf(Null),
	"steps.classify.output.category": TypeOf(String),
	"steps.classify.output.score":    TypeOf(Number, Null),
	"steps.maybe.output":             {Kinds: KindsOf(String), Optional: true},
	"steps.maybe2.output":            {Kinds: KindsOf(Object), Optional: true},
	"steps.maybe2.output.name":       {Kinds: KindsOf(String), Optional: true},
	"steps.obj.output":               TypeOf(Object),
	"steps.obj.output.name":          TypeOf(String),
	"steps.obj.output.items":         TypeOf(Array),
	"steps.raw.output":               {},
	"steps.late.output":              {Optional: true},
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
