package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file evaluates the JSONata of JSONata states: "{% ... %}"
// strings in Arguments, Output, Assign, a Choice Rule's Condition, a Map
// state's Items and ItemSelector, and the fields that take a number, a
// timestamp or an error name (see docs/local-engine.md, "JSONata").

// IsJSONataExpression reports whether s is a JSONata expression string:
// one that starts with "{%" and ends with "%}", with nothing before or
// after. Any other string in a JSONata state is a literal.
func IsJSONataExpression(s string) bool {
	return len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}")
}

// JSONataSource is the expression inside an expression string's
// "{% ... %}", without the white space around it.
func JSONataSource(s string) string { return strings.TrimSpace(s[2 : len(s)-2]) }

// UsesJSONata reports whether state st of a state machine whose
// top-level QueryLanguage is machineQL uses JSONata: its own
// QueryLanguage, else the state machine's.
func UsesJSONata(machineQL string, st *State) bool {
	ql := st.QueryLanguage
	if ql == "" {
		ql = machineQL
	}
	return ql == QueryLanguageJSONata
}

// JSONataEnv is what the JSONata expressions of a state see.
type JSONataEnv struct {
	// States is the reserved variable $states: "input" and "context"
	// always, "result" in a Task, Parallel or Map state's Output and
	// Assign, "errorOutput" in a Catcher's Output and Assign.
	States map[string]any
	// Vars are the workflow variables in scope.
	Vars    map[string]any
	Effects JSONataEffects
}

// With returns a copy of env whose $states also holds name: value.
func (env JSONataEnv) With(name string, value any) JSONataEnv {
	states := make(map[string]any, len(env.States)+1)
	for k, v := range env.States {
		states[k] = v
	}
	states[name] = value
	env.States = states
	return env
}

// JSONataError is a JSONata expression that failed at run time: Step
// Functions fails the state with States.QueryEvaluationError, which a
// Retrier or Catcher can match.
type JSONataError struct {
	// Field locates the value, such as "Output/total" or
	// "Choices[0]/Condition".
	Field string
	// Expression is the expression without its "{% %}", or "" when the
	// field's value is a literal of the wrong type.
	Expression string
	// Undefined is set when the expression returned nothing.
	Undefined bool
	// Err is why it failed otherwise.
	Err error
}

// Error returns the sentence Step Functions gives as the failure's cause,
// such as "The JSONata expression '$x.y' specified for the field 'Output'
// returned nothing (undefined)."
func (e *JSONataError) Error() string {
	var b strings.Builder
	if e.Expression != "" {
		fmt.Fprintf(&b, "The JSONata expression '%s' specified for the field '%s'", e.Expression, e.Field)
	} else {
		fmt.Fprintf(&b, "The value of the field '%s'", e.Field)
	}
	var lib *jsonataLibError
	switch {
	case e.Undefined:
		b.WriteString(" returned nothing (undefined).")
	case errors.As(e.Err, &lib) && lib.Code != "":
		fmt.Fprintf(&b, " threw an error during evaluation. %s", lib.Error())
	case e.Expression != "" && errors.As(e.Err, &lib):
		fmt.Fprintf(&b, " threw an error during evaluation: %s", lib.Message)
	default:
		fmt.Fprintf(&b, " %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *JSONataError) Unwrap() error { return e.Err }

// EvalJSONata evaluates the value of a JSONata field: an expression
// string gives its result, and any other JSON value is copied with every
// expression string in it, at any depth, replaced by its result (object
// keys are never evaluated). An expression that fails or returns nothing
// is a *JSONataError naming field, extended by "/key" and "[i]" down to
// the string.
func EvalJSONata(field string, raw json.RawMessage, env JSONataEnv) (any, error) {
	tmpl, err := decodeTemplateMemo(raw)
	if err != nil {
		return nil, &JSONataError{Field: field, Err: fmt.Errorf("is not valid JSON: %w", err)}
	}
	return evalJSONataValue(field, tmpl, env)
}

// EvalJSONataString evaluates a string field (Error, Cause, Timestamp):
// an expression gives its result, any other string is itself.
func EvalJSONataString(field, s string, env JSONataEnv) (any, error) {
	if !IsJSONataExpression(s) {
		return s, nil
	}
	return evalJSONataExpression(field, s, env)
}

// EvalJSONataAssign evaluates an Assign block of a JSONata state: every
// value against the variables as they were before the state assigns any,
// as Step Functions evaluates them. It returns the new values by name.
func EvalJSONataAssign(field string, block map[string]json.RawMessage, env JSONataEnv) (map[string]any, error) {
	out := make(map[string]any, len(block))
	for _, name := range sortedKeys(block) {
		v, err := EvalJSONata(field+"/"+name, block[name], env)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func evalJSONataValue(field string, v any, env JSONataEnv) (any, error) {
	switch t := v.(type) {
	case string:
		if IsJSONataExpression(t) {
			return evalJSONataExpression(field, t, env)
		}
		return t, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			e, err := evalJSONataValue(field+"/"+k, t[k], env)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case *Object:
		out := NewObject(t.Len())
		for k, e := range t.All() {
			val, err := evalJSONataValue(field+"/"+k, e, env)
			if err != nil {
				return nil, err
			}
			out.Set(k, val)
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			val, err := evalJSONataValue(field+"["+strconv.Itoa(i)+"]", e, env)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	return v, nil
}

func evalJSONataExpression(field, s string, env JSONataEnv) (any, error) {
	src := JSONataSource(s)
	p, err := compileJSONata(src)
	if err != nil {
		return nil, &JSONataError{Field: field, Expression: src, Err: err}
	}
	vars := make(map[string]any, len(env.Vars)+1)
	for k, v := range env.Vars {
		vars[k] = v
	}
	vars["states"] = env.States
	out, defined, err := p.eval(nil, vars, jsonataFuncs{fx: env.Effects, nowMillis: env.Effects.nowMillis()})
	switch {
	case err != nil:
		return nil, &JSONataError{Field: field, Expression: src, Err: err}
	case !defined:
		return nil, &JSONataError{Field: field, Expression: src, Undefined: true}
	}
	return out, nil
}

// CheckJSONata parses the expression of an expression string, to refuse
// at creation a definition whose expression cannot run.
func CheckJSONata(s string) error {
	if !IsJSONataExpression(s) {
		return nil
	}
	src := JSONataSource(s)
	if src == "" {
		return fmt.Errorf("the JSONata expression %q is empty", s)
	}
	if _, err := compileJSONata(src); err != nil {
		return fmt.Errorf("the JSONata expression '%s' is not valid: %v", src, err)
	}
	if msg := unsupportedJSONata(src); msg != "" {
		return fmt.Errorf("the JSONata expression '%s' cannot run here: %s", src, msg)
	}
	return nil
}
