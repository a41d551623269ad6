package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	jsonata "github.com/blues/jsonata-go"
	"github.com/blues/jsonata-go/jlib"
	"github.com/blues/jsonata-go/jparse"
	"github.com/blues/jsonata-go/jtypes"
)

// This file is the only one that knows the JSONata library,
// github.com/blues/jsonata-go (a Go port of jsonata-js): replacing the
// library means rewriting this file alone. The rest of the package sees
// compileJSONata, jsonataProgram.eval and *jsonataLibError.

// jsonataProgram is a compiled JSONata expression. It is shared (see
// jsonataMemo) and never changed: each evaluation works on a copy.
type jsonataProgram struct {
	expr *jsonata.Expr
}

var jsonataMemo memo[*jsonataProgram]

// compileJSONata parses a JSONata expression (without its {% %}); a
// syntax error is a *jsonataLibError.
func compileJSONata(src string) (*jsonataProgram, error) {
	if p, ok := jsonataMemo.getString(src); ok {
		return p, nil
	}
	e, err := jsonata.Compile(src)
	if err != nil {
		return nil, libError(err)
	}
	p := &jsonataProgram{expr: e}
	jsonataMemo.put(src, p)
	return p, nil
}

// jsonataNull is how the library spells JSON null in data: the type of
// its null literal. A plain nil would read as "undefined".
var jsonataNull *any

// eval evaluates p with $ bound to input (nil: undefined, as Step
// Functions evaluates its expressions), the variables bound as $name
// and the functions of fns added to (or replacing) the built-in ones.
// Values in and out are JSON values as encoding/json decodes them
// (numbers as json.Number or float64). defined is false when the
// expression returns nothing (undefined).
func (p *jsonataProgram) eval(input any, vars map[string]any, fns jsonataFuncs) (out any, defined bool, err error) {
	defer func() {
		// The library is not ours; a panic in it is an evaluation
		// failure of this expression, not of the engine.
		if r := recover(); r != nil {
			out, defined, err = nil, false, &jsonataLibError{Message: fmt.Sprintf("the expression could not be evaluated: %v", r)}
		}
	}()
	e := *p.expr // a copy, so that the registrations stay private
	bound := make(map[string]any, len(vars))
	for k, v := range vars {
		bound[k] = toJSONataValue(v)
	}
	if err := e.RegisterVars(bound); err != nil {
		return nil, false, fmt.Errorf("binding variables: %w", err)
	}
	if err := e.RegisterExts(fns.extensions()); err != nil {
		return nil, false, fmt.Errorf("binding functions: %w", err)
	}
	v, err := e.Eval(input)
	if errors.Is(err, jsonata.ErrUndefined) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, libError(err)
	}
	out, err = fromJSONataValue(v)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// toJSONataValue turns a decoded JSON value into the library's form:
// numbers as float64 (JSONata's numbers are IEEE doubles, as in
// JavaScript) and null as jsonataNull.
func toJSONataValue(v any) any {
	switch t := v.(type) {
	case nil:
		return jsonataNull
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return t.String()
		}
		return f
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = toJSONataValue(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = toJSONataValue(e)
		}
		return a
	}
	return v
}

// fromJSONataValue turns a result into a JSON value with json.Number
// numbers; a value JSON cannot hold (a function, NaN) is an error.
func fromJSONataValue(v any) (any, error) {
	if _, ok := v.(jtypes.Callable); ok {
		return nil, &jsonataLibError{Message: "the expression returned a function, which is not a JSON value"}
	}
	out, err := jsonValue(v, false)
	if err != nil {
		return nil, &jsonataLibError{Message: fmt.Sprintf("the result is not a JSON value: %v", err)}
	}
	return out, nil
}

// jsonataFuncs are the functions Step Functions adds to JSONata, and
// those it evaluates differently from the library, bound for one
// evaluation.
type jsonataFuncs struct {
	fx JSONataEffects
	// nowMillis is the time of the evaluation: $now() and $millis()
	// return the same instant however often they are called in it.
	nowMillis int64
}

func (f jsonataFuncs) extensions() map[string]jsonata.Extension {
	whenUndefined := jtypes.ArgUndefined(0)
	return map[string]jsonata.Extension{
		"now": {Func: func(picture, tz jtypes.OptionalString) (string, error) {
			return jlib.FromMillis(f.nowMillis, picture, tz)
		}},
		"millis": {Func: func() float64 { return float64(f.nowMillis) }},
		"string": {
			Func: func(v reflect.Value, prettify jtypes.OptionalBool) (string, error) {
				return jsonataString(v.Interface(), prettify.Bool)
			},
			UndefinedHandler:   whenUndefined,
			EvalContextHandler: jtypes.ArgCountEquals(0),
		},
		"partition": {Func: func(array []any, size float64) ([]any, error) {
			return jsonataPartition(array, size)
		}},
		"range": {Func: func(start, end, step float64) ([]any, error) {
			return jsonataRange(start, end, step)
		}},
		"hash": {Func: func(v reflect.Value, algorithm string) (string, error) {
			return jsonataHash(v.Interface(), algorithm)
		}},
		"random": {Func: func(seed jtypes.OptionalFloat64) float64 {
			return f.fx.random(seed.IsSet(), seed.Float64)
		}},
		"uuid": {Func: func() string { return f.fx.uuid() }},
		"parse": {
			Func: func(s string) (any, error) {
				v, err := jsonataParse(s)
				return toJSONataValue(v), err
			},
			UndefinedHandler: whenUndefined,
		},
	}
}

// jsonataLibError is an error of the JSONata library, with the code
// jsonata-js gives the same error (T0410, S0202, ...) where the library
// says which, so that the message reads as Step Functions writes it.
type jsonataLibError struct {
	Code    string
	Message string
}

func (e *jsonataLibError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// libError translates the library's errors into jsonata-js codes and
// sentences where the two correspond.
func libError(err error) error {
	var (
		argType  *jsonata.ArgTypeError
		argCount *jsonata.ArgCountError
		evalErr  *jsonata.EvalError
		parseErr *jparse.Error
		own      *jsonataLibError
	)
	switch {
	case errors.As(err, &own):
		return own
	case errors.As(err, &argType):
		return &jsonataLibError{Code: "T0410", Message: fmt.Sprintf("Argument %d of function %q does not match function signature", argType.Which, argType.Func)}
	case errors.As(err, &argCount):
		return &jsonataLibError{Code: "T0410", Message: fmt.Sprintf("Function %q takes %d argument(s), not %d", argCount.Func, argCount.Expected, argCount.Received)}
	case errors.As(err, &evalErr):
		return evalError(evalErr)
	case errors.As(err, &parseErr):
		return &jsonataLibError{Code: "S0201", Message: fmt.Sprintf("Syntax error at position %d: %s", parseErr.Position, parseErr.Error())}
	}
	return &jsonataLibError{Message: err.Error()}
}

func evalError(e *jsonata.EvalError) error {
	code, msg := "", e.Error()
	switch e.Type {
	case jsonata.ErrNonNumberLHS:
		code, msg = "T2001", fmt.Sprintf("The left side of the %q operator must evaluate to a number", e.Value)
	case jsonata.ErrNonNumberRHS:
		code, msg = "T2002", fmt.Sprintf("The right side of the %q operator must evaluate to a number", e.Value)
	case jsonata.ErrNonComparableLHS, jsonata.ErrNonComparableRHS:
		code, msg = "T2010", fmt.Sprintf("The expressions either side of operator %q must evaluate to numeric or string values", e.Value)
	case jsonata.ErrTypeMismatch:
		code, msg = "T2009", fmt.Sprintf("The values either side of the operator %q must be of the same data type", e.Value)
	case jsonata.ErrNonCallable, jsonata.ErrNonCallableApply, jsonata.ErrNonCallablePartial:
		code, msg = "T1006", "Attempted to invoke a non-function"
	case jsonata.ErrNumberInf, jsonata.ErrNumberNaN:
		code, msg = "D1001", "Number out of range"
	case jsonata.ErrIllegalKey:
		code, msg = "T1003", "Key in object structure must evaluate to a string"
	case jsonata.ErrDuplicateKey:
		code, msg = "D1009", fmt.Sprintf("Multiple key definitions evaluate to same key: %q", e.Value)
	case jsonata.ErrNonSortable, jsonata.ErrSortMismatch:
		code, msg = "T2008", "The expressions within an order-by clause must evaluate to numeric or string values"
	}
	return &jsonataLibError{Code: code, Message: msg}
}
