package asl

import (
	"errors"
	"fmt"
)

// ErrPathNotFound is what a *PathError wraps when a path selects nothing
// from a value: a missing member, an index out of range, or a step through
// a value of the wrong JSON type.
var ErrPathNotFound = errors.New("path not found")

// ErrPathUnsupported is what a *PathError wraps when a path uses a feature
// that Lookup does not evaluate: script expressions, and filters that do
// not parse.
var ErrPathUnsupported = errors.New("path feature not supported")

// PathError reports a path that could not be evaluated. Err is
// ErrPathNotFound or ErrPathUnsupported.
type PathError struct {
	// Path is the path in canonical spelling.
	Path string
	// Reason says what went wrong, and where.
	Reason string
	Err    error
}

// Error returns the path and the reason.
func (e *PathError) Error() string {
	return fmt.Sprintf("path %s: %s", e.Path, e.Reason)
}

// Unwrap returns ErrPathNotFound or ErrPathUnsupported.
func (e *PathError) Unwrap() error { return e.Err }

// Env is the context argument of Lookup, and of everything that calls it
// (ApplyTemplate, ProcessInput, ProcessOutput, ...), when paths may read
// workflow variables: Context is the Context Object ("$$") and Vars the
// variables in scope ("$name").
type Env struct {
	Context any
	Vars    map[string]any
}

// Lookup evaluates p against input (for "$" paths) or context (for "$$"
// paths, the Context Object), values decoded from JSON as map[string]any,
// []any, json.Number, string, bool and nil. It follows the Jayway JSONPath
// semantics that Step Functions uses:
//
//   - A definite path (fields and single indexes only, optionally ending in
//     a union of member names) returns one value, or a *PathError wrapping
//     ErrPathNotFound when there is none. A negative index counts from the
//     end of the array. A union of member names at the end of a path
//     returns an object with the members that exist.
//   - Any other path (wildcards, slices, unions of indexes, "..") returns a
//     []any of every match, which may be empty; misses below the first
//     indefinite segment are skipped, misses above it are errors.
//
// Object members are visited in order: an *Object's own, a
// map[string]any's sorted by key. A filter, [?(expression)], selects the
// elements of an array (or an object itself) for which the expression
// holds, and with ".." every such value of the subtree; see filterExpr
// for the expressions. Script expressions return a *PathError wrapping
// ErrPathUnsupported.
//
// Variables ("$name" paths) are read from an Env passed as context; with
// any other context, and for a name the Env does not hold, a variable
// path selects nothing.
func Lookup(p Path, input, context any) (any, error) {
	var vars map[string]any
	if env, ok := context.(Env); ok {
		context, vars = env.Context, env.Vars
	}
	var root any
	switch p.Root {
	case RootInput:
		root = input
	case RootContext:
		root = context
	case RootVariable:
		v, ok := vars[p.Variable]
		if !ok {
			return nil, notFound(p, nil, "no variable named "+p.Variable)
		}
		root = v
	default:
		return nil, unsupported(p, "the path has no root")
	}
	if v, handled, err := lookupMembers(p, root); handled {
		return v, err
	}
	return lookupNodes(p, root, input, context, vars)
}

// lookupNodes is Lookup's general evaluation of p from root, with the
// list of the nodes each segment selects.
func lookupNodes(p Path, root, input, context any, vars map[string]any) (any, error) {
	filters := map[int]filterExpr{}
	for i, s := range p.Segments {
		switch s.Kind {
		case SegmentFilter:
			f, err := parseFilterMemo(s.Expr)
			if err != nil {
				return nil, &PathError{Path: p.String(), Reason: err.Error(), Err: ErrPathUnsupported}
			}
			filters[i] = f
		case SegmentScript:
			return nil, unsupported(p, "script expressions are not supported")
		}
	}
	fc := filterContext{root: input, context: context}
	if vars != nil {
		fc.context = Env{Context: context, Vars: vars}
	}

	nodes := []any{root}
	upstreamDefinite := true
	for i, s := range p.Segments {
		leaf := i == len(p.Segments)-1
		var next []any
		for _, n := range nodes {
			if f, ok := filters[i]; ok {
				next = append(next, selectFilter(f, fc, n, s.Descendant)...)
				continue
			}
			if s.Descendant {
				walkJSON(n, func(v any) {
					out, _ := selectSegment(s, v, false)
					next = append(next, out...)
				})
				continue
			}
			out, miss := selectSegment(s, n, leaf)
			if miss != "" && upstreamDefinite {
				return nil, notFound(p, p.Segments[:i+1], miss)
			}
			next = append(next, out...)
		}
		nodes = next
		upstreamDefinite = upstreamDefinite && segmentDefinite(s, leaf)
	}
	if upstreamDefinite {
		if len(nodes) == 0 {
			return nil, notFound(p, p.Segments, "no value")
		}
		return nodes[0], nil
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, nil
}

// lookupMembers follows p from root when its segments are all member
// names (no "..", no index, wildcard, slice, union or filter), the most
// common path, with no list of nodes: the value, or the error, Lookup's
// general evaluation (lookupNodes) gives for such a path. handled is
// false for any other path, which that evaluation takes.
func lookupMembers(p Path, root any) (v any, handled bool, err error) {
	for _, s := range p.Segments {
		if s.Kind != SegmentField || s.Descendant {
			return nil, false, nil
		}
	}
	v = root
	for i, s := range p.Segments {
		val, found, isObject := member(v, s.Name)
		switch {
		case !isObject:
			return nil, true, notFound(p, p.Segments[:i+1], fmt.Sprintf("expected an object with member %q, found %s", s.Name, JSONTypeName(v)))
		case !found:
			return nil, true, notFound(p, p.Segments[:i+1], fmt.Sprintf("no member %q", s.Name))
		}
		v = val
	}
	return v, true, nil
}

// selectFilter applies a filter segment to v: the elements of an array
// that match, or an object itself when it matches (as Jayway does); with
// "..", every value below v that matches, parents before children.
func selectFilter(f filterExpr, fc filterContext, v any, descendant bool) []any {
	var out []any
	match := func(item any) {
		fc.item = item
		if f.eval(fc) {
			out = append(out, item)
		}
	}
	if descendant {
		first := true
		walkJSON(v, func(n any) {
			if first { // the value itself is not below itself
				first = false
				return
			}
			match(n)
		})
		return out
	}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			match(e)
		}
	case *Object, map[string]any:
		match(t)
	}
	return out
}

func unsupported(p Path, reason string) error {
	return &PathError{Path: p.String(), Reason: reason, Err: ErrPathUnsupported}
}

func notFound(p Path, at []Segment, reason string) error {
	prefix := Path{Root: p.Root, Variable: p.Variable, Segments: at}
	return &PathError{
		Path:   p.String(),
		Reason: fmt.Sprintf("%s at %s", reason, prefix.String()),
		Err:    ErrPathNotFound,
	}
}

// segmentDefinite reports whether s selects at most one value, as Jayway
// decides it: a union of member names merges into one object only at the
// end of a path.
func segmentDefinite(s Segment, leaf bool) bool {
	if s.Descendant {
		return false
	}
	switch s.Kind {
	case SegmentField, SegmentIndex:
		return true
	case SegmentUnion:
		return leaf && len(s.Union) > 0 && s.Union[0].Kind == SegmentField
	}
	return false
}

// selectSegment applies one segment to v. miss is non-empty when the
// segment cannot apply to v in a way that Jayway reports as an error on a
// definite path; soft misses (an index out of range, a wildcard on a
// scalar) return nothing and no miss.
func selectSegment(s Segment, v any, leaf bool) (out []any, miss string) {
	switch s.Kind {
	case SegmentField:
		val, ok, isObject := member(v, s.Name)
		if !isObject {
			return nil, fmt.Sprintf("expected an object with member %q, found %s", s.Name, JSONTypeName(v))
		}
		if !ok {
			return nil, fmt.Sprintf("no member %q", s.Name)
		}
		return []any{val}, ""
	case SegmentIndex:
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Sprintf("expected an array, found %s", JSONTypeName(v))
		}
		if i, ok := arrayIndex(s.Index, len(a)); ok {
			return []any{a[i]}, ""
		}
		return nil, ""
	case SegmentWildcard:
		if m, ok := AsObject(v); ok {
			out = append(out, m.vals...)
		} else if a, ok := v.([]any); ok {
			out = append(out, a...)
		}
		return out, ""
	case SegmentSlice:
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Sprintf("expected an array, found %s", JSONTypeName(v))
		}
		for _, i := range sliceIndexes(len(a), s.Start, s.End, s.Step) {
			out = append(out, a[i])
		}
		return out, ""
	case SegmentUnion:
		return selectUnion(s, v, leaf)
	}
	return nil, fmt.Sprintf("unknown segment kind %d", s.Kind)
}

func selectUnion(s Segment, v any, leaf bool) (out []any, miss string) {
	if len(s.Union) == 0 {
		return nil, ""
	}
	if s.Union[0].Kind == SegmentIndex {
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Sprintf("expected an array, found %s", JSONTypeName(v))
		}
		for _, u := range s.Union {
			if i, ok := arrayIndex(u.Index, len(a)); ok {
				out = append(out, a[i])
			}
		}
		return out, ""
	}
	m, ok := AsObject(v)
	if !ok {
		return nil, fmt.Sprintf("expected an object, found %s", JSONTypeName(v))
	}
	if leaf && !s.Descendant {
		merged := NewObject(len(s.Union))
		for _, u := range s.Union {
			if val, ok := m.Get(u.Name); ok {
				merged.Set(u.Name, val)
			}
		}
		return []any{merged}, ""
	}
	for _, u := range s.Union {
		if val, ok := m.Get(u.Name); ok {
			out = append(out, val)
		}
	}
	return out, ""
}

// arrayIndex resolves a possibly negative index into an array of length n.
func arrayIndex(index, n int) (int, bool) {
	if index < 0 {
		index += n
	}
	return index, index >= 0 && index < n
}

// sliceIndexes returns the indexes that [start:end:step] selects from an
// array of length n, with Python's rules for omitted and negative bounds,
// which agree with Jayway's for the step of 1 it supports.
func sliceIndexes(n int, startP, endP, stepP *int) []int {
	step := 1
	if stepP != nil && *stepP != 0 {
		step = *stepP
	}
	bound := func(p *int, def, lo, hi int) int {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
		}
		return max(lo, min(v, hi))
	}
	var out []int
	if step > 0 {
		start, end := bound(startP, 0, 0, n), bound(endP, n, 0, n)
		for i := start; i < end; i += step {
			out = append(out, i)
			if step >= end-i {
				break
			}
		}
		return out
	}
	start, end := bound(startP, n-1, -1, n-1), bound(endP, -1, -1, n-1)
	for i := start; i > end; i += step {
		out = append(out, i)
	}
	return out
}

// walkJSON calls visit for v and then every value nested in it, parents
// before children, object members in order (a map's in sorted key order).
func walkJSON(v any, visit func(any)) {
	visit(v)
	switch t := v.(type) {
	case *Object:
		for _, e := range t.vals {
			walkJSON(e, visit)
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			walkJSON(t[k], visit)
		}
	case []any:
		for _, e := range t {
			walkJSON(e, visit)
		}
	}
}

// JSONTypeName names the JSON type of a decoded value for messages: "an
// object", "a string", "null", ...
func JSONTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any, *Object:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// member returns the value of member name of v, whether v has it, and
// whether v is an object at all.
func member(v any, name string) (val any, ok, isObject bool) {
	switch t := v.(type) {
	case *Object:
		val, ok = t.Get(name)
		return val, ok, true
	case map[string]any:
		val, ok = t[name]
		return val, ok, true
	}
	return nil, false, false
}
