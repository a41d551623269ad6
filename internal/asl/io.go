package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ProcessingError reports a failure of a state's input and output
// processing at run time. Name is the States error name that a Retry or
// Catch matches: ErrorRuntime for InputPath and OutputPath,
// ErrorParameterPathFailure for payload templates, ErrorIntrinsicFailure
// for intrinsic functions and ErrorResultPathMatchFailure for ResultPath.
type ProcessingError struct {
	Name string
	// Field names the field that failed, such as "InputPath" or
	// "Parameters.MyDetails.size.$".
	Field string
	Err   error
}

// Error returns the error name, the field and the cause.
func (e *ProcessingError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Name, e.Field, e.Err)
}

// Unwrap returns the cause, often a *PathError.
func (e *ProcessingError) Unwrap() error { return e.Err }

// SetResult combines a state's raw input with its result as ResultPath
// says: an absent ResultPath (nil, the same as "$") makes the result the
// output; JSON null keeps the input and discards the result; a Reference
// Path such as "$.a.b" places the result there in a deep copy of the
// input, replacing what is there and creating missing intervening
// objects. A path that is not a Reference Path into the input, that steps
// through a value that is not an object (or not an array, for an index),
// or whose index is out of range returns a *ProcessingError named
// ErrorResultPathMatchFailure. A negative index counts from the end.
func SetResult(input any, resultPath *NullablePath, result any) (any, error) {
	if resultPath == nil {
		return result, nil
	}
	if resultPath.Null {
		return input, nil
	}
	fail := func(err error) error {
		return &ProcessingError{Name: ErrorResultPathMatchFailure, Field: "ResultPath", Err: err}
	}
	p, err := parsePathMemo(resultPath.Path)
	if err != nil {
		return nil, fail(err)
	}
	if p.Root != RootInput || !p.IsReference() {
		return nil, fail(fmt.Errorf("%s is not a Reference Path into the input", p))
	}
	out, err := setResultAt(deepCopyJSON(input), p, 0, result)
	if err != nil {
		return nil, fail(err)
	}
	return out, nil
}

// setResultAt places result at p.Segments[i:] inside v, which it may
// modify, and returns the new v.
func setResultAt(v any, p Path, i int, result any) (any, error) {
	if i == len(p.Segments) {
		return result, nil
	}
	s := p.Segments[i]
	at := Path{Root: p.Root, Segments: p.Segments[:i]}
	switch s.Kind {
	case SegmentField:
		m, ok := AsObject(v)
		if !ok {
			return nil, fmt.Errorf("setting %s: %s is %s, not an object", p, at, JSONTypeName(v))
		}
		child, ok := m.Get(s.Name)
		if !ok {
			child = NewObject(1)
		}
		nv, err := setResultAt(child, p, i+1, result)
		if err != nil {
			return nil, err
		}
		m.Set(s.Name, nv)
		return m, nil
	case SegmentIndex:
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("setting %s: %s is %s, not an array", p, at, JSONTypeName(v))
		}
		idx, ok := arrayIndex(s.Index, len(a))
		if !ok {
			return nil, fmt.Errorf("setting %s: index %d is out of range for %s of length %d", p, s.Index, at, len(a))
		}
		nv, err := setResultAt(a[idx], p, i+1, result)
		if err != nil {
			return nil, err
		}
		a[idx] = nv
		return a, nil
	}
	return nil, fmt.Errorf("setting %s: only member names and indexes can be set", p)
}

// deepCopyJSON copies the objects and arrays of a decoded JSON value;
// objects come out as *Object.
func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case *Object:
		m := NewObject(t.Len())
		for k, e := range t.All() {
			m.Set(k, deepCopyJSON(e))
		}
		return m
	case map[string]any:
		m := NewObject(len(t))
		for _, k := range sortedKeys(t) {
			m.Set(k, deepCopyJSON(t[k]))
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = deepCopyJSON(e)
		}
		return a
	}
	return v
}

// ApplyTemplate evaluates a payload template (Parameters, ItemSelector,
// ResultSelector) against input and context. In every object, however
// deeply nested and also inside arrays, a key ending in ".$" loses the
// suffix and takes the value its string names: a path ("$...", "$$...")
// evaluated with Lookup, or an intrinsic function ("States....") evaluated
// by intrinsic. Other values are copied as they are.
//
// A path that fails, or a ".$" value that is not a path or intrinsic
// function, returns a *ProcessingError named ErrorParameterPathFailure
// whose Field is the key; an error from intrinsic, or a nil intrinsic when
// one is needed, returns one named ErrorIntrinsicFailure. Invalid template
// JSON returns one named ErrorRuntime.
func ApplyTemplate(template json.RawMessage, input, context any, intrinsic func(expr string, input, context any) (any, error)) (any, error) {
	tmpl, err := decodeTemplateMemo(template)
	if err != nil {
		return nil, &ProcessingError{Name: ErrorRuntime, Err: fmt.Errorf("decoding payload template: %w", err)}
	}
	var at [8]pathSeg // deep enough for most templates, on the stack
	t := templateEval{input: input, context: context, intrinsic: intrinsic}
	return t.value(tmpl, at[:0])
}

// decodeTemplate decodes a payload template, keeping the order of its
// keys: Step Functions writes a template's output in the template's order.
func decodeTemplate(raw json.RawMessage) (any, error) {
	return DecodeJSON(raw)
}

type templateEval struct {
	input, context any
	intrinsic      func(expr string, input, context any) (any, error)
}

// pathSeg is a step of the location of a template value, from the top: a
// key of an object, or an index of an array (elem). The location's dotted
// form, what an error's Field names, is written only for an error (templateField).
type pathSeg struct {
	key  string
	elem bool
	i    int
}

// templateField is the dotted form of location at, as joinPath writes it.
func templateField(at []pathSeg) string {
	p := ""
	for _, s := range at {
		if s.elem {
			p += "[" + strconv.Itoa(s.i) + "]"
			continue
		}
		p = joinPath(p, s.key)
	}
	return p
}

// value evaluates one template value, found at at.
func (t templateEval) value(v any, at []pathSeg) (any, error) {
	if m, ok := v.(map[string]any); ok {
		v, _ = AsObject(m)
	}
	switch tv := v.(type) {
	case *Object:
		out := NewObject(tv.Len())
		for k, tval := range tv.All() {
			child := append(at, pathSeg{key: k})
			name, dynamic := strings.CutSuffix(k, ".$")
			if !dynamic {
				val, err := t.value(tval, child)
				if err != nil {
					return nil, err
				}
				out.Set(k, val)
				continue
			}
			if _, clash := tv.Get(name); clash {
				return nil, &ProcessingError{Name: ErrorParameterPathFailure, Field: templateField(child),
					Err: fmt.Errorf("the template also has the key %q", name)}
			}
			val, err := t.dynamic(tval, child)
			if err != nil {
				return nil, err
			}
			out.Set(name, val)
		}
		return out, nil
	case []any:
		out := make([]any, len(tv))
		for i, e := range tv {
			val, err := t.value(e, append(at, pathSeg{elem: true, i: i}))
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	return v, nil
}

// dynamic evaluates the value of a ".$" key, found at at.
func (t templateEval) dynamic(v any, at []pathSeg) (any, error) {
	expr, ok := v.(string)
	switch {
	case ok && strings.HasPrefix(expr, "$"):
		p, err := parsePathMemo(expr)
		if err == nil {
			var val any
			if val, err = Lookup(p, t.input, t.context); err == nil {
				return val, nil
			}
		}
		return nil, &ProcessingError{Name: ErrorParameterPathFailure, Field: templateField(at), Err: err}
	case ok && strings.HasPrefix(expr, "States."):
		if t.intrinsic == nil {
			return nil, &ProcessingError{Name: ErrorIntrinsicFailure, Field: templateField(at),
				Err: fmt.Errorf("no evaluator for intrinsic function %q", expr)}
		}
		val, err := t.intrinsic(expr, t.input, t.context)
		if err != nil {
			return nil, &ProcessingError{Name: ErrorIntrinsicFailure, Field: templateField(at), Err: err}
		}
		return val, nil
	}
	return nil, &ProcessingError{Name: ErrorParameterPathFailure, Field: templateField(at),
		Err: fmt.Errorf("value %s is neither a path nor an intrinsic function", JSONTypeName(v))}
}

// ProcessInput returns a state's effective input: InputPath applied to
// the raw input (absent means "$", JSON null means {}), then Parameters
// applied to that. A Map state's Parameters (the legacy name of
// ItemSelector) applies to each item instead; see ProcessItem. Errors are
// *ProcessingError values: ErrorRuntime for InputPath, and those of
// ApplyTemplate with Field prefixed by "Parameters.".
func ProcessInput(st *State, input, context any, intrinsic func(expr string, input, context any) (any, error)) (any, error) {
	effective, err := selectNullablePath(st.InputPath, "InputPath", input, context)
	if err != nil {
		return nil, err
	}
	if st.Type == TypeMap || st.Parameters == nil {
		return effective, nil
	}
	out, err := ApplyTemplate(st.Parameters, effective, context, intrinsic)
	if err != nil {
		return nil, prefixField(err, "Parameters")
	}
	return out, nil
}

// ProcessItem returns the input of one iteration of a Map state: its
// ItemSelector (or legacy Parameters) evaluated with "$" as the Map
// state's effective input and "$$" as context, which should hold
// Map.Item.Index and Map.Item.Value; or item itself when the state has
// neither. Errors are those of ApplyTemplate with Field prefixed by the
// template's field name.
func ProcessItem(st *State, effectiveInput, item, context any, intrinsic func(expr string, input, context any) (any, error)) (any, error) {
	field, tmpl := "ItemSelector", st.ItemSelector
	if tmpl == nil {
		field, tmpl = "Parameters", st.Parameters
	}
	if tmpl == nil {
		return item, nil
	}
	out, err := ApplyTemplate(tmpl, effectiveInput, context, intrinsic)
	if err != nil {
		return nil, prefixField(err, field)
	}
	return out, nil
}

// ProcessOutput returns a state's output from its raw input and its
// result: ResultSelector applied to the result, then ResultPath combining
// that with the raw input (see SetResult), then OutputPath (absent means
// "$", JSON null means {}). For states without a result (Choice, Wait,
// Succeed, Fail) pass the effective input as result: with no ResultPath it
// becomes the output. Errors are *ProcessingError values: those of
// ApplyTemplate with Field prefixed by "ResultSelector.", of SetResult,
// and ErrorRuntime for OutputPath.
func ProcessOutput(st *State, rawInput, result, context any, intrinsic func(expr string, input, context any) (any, error)) (any, error) {
	if st.ResultSelector != nil {
		selected, err := ApplyTemplate(st.ResultSelector, result, context, intrinsic)
		if err != nil {
			return nil, prefixField(err, "ResultSelector")
		}
		result = selected
	}
	combined, err := SetResult(rawInput, st.ResultPath, result)
	if err != nil {
		return nil, err
	}
	return selectNullablePath(st.OutputPath, "OutputPath", combined, context)
}

// selectNullablePath applies InputPath or OutputPath to v.
func selectNullablePath(np *NullablePath, field string, v, context any) (any, error) {
	if np == nil {
		return v, nil
	}
	if np.Null {
		return NewObject(0), nil
	}
	p, err := parsePathMemo(np.Path)
	if err == nil {
		var out any
		if out, err = Lookup(p, v, context); err == nil {
			return out, nil
		}
	}
	return nil, &ProcessingError{Name: ErrorRuntime, Field: field, Err: err}
}

// prefixField puts the name of the template field before the key that a
// *ProcessingError from ApplyTemplate names.
func prefixField(err error, field string) error {
	var pe *ProcessingError
	if errors.As(err, &pe) {
		if pe.Field == "" {
			pe.Field = field
		} else {
			pe.Field = field + "." + pe.Field
		}
	}
	return err
}
