package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

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
	// names are the variables the expression reads, so that an
	// evaluation binds only the functions of jsonataFuncs it calls.
	names map[string]bool
}

var jsonataMemo memo[string, *jsonataProgram]

// compileJSONata parses a JSONata expression (without its {% %}); a
// syntax error is a *jsonataLibError.
func compileJSONata(src string) (prog *jsonataProgram, err error) {
	if p, ok := jsonataMemo.get(src); ok {
		return p, nil
	}
	defer func() {
		// The library's parser panics on some inputs (found by
		// FuzzJSONata); such an expression does not parse.
		if r := recover(); r != nil {
			prog, err = nil, &jsonataLibError{Code: "S0201", Message: fmt.Sprintf("Syntax error: %v", r)}
		}
	}()
	src2 := stripJSONataComments(src)
	root, err := jparse.Parse(src2)
	if err != nil {
		return nil, libError(err)
	}
	tree := struct{ Root jparse.Node }{root}
	if rewriteTree(reflect.ValueOf(&tree).Elem()) {
		src2 = tree.Root.String()
	}
	e, err := jsonata.Compile(src2)
	if err != nil {
		return nil, libError(err)
	}
	p := &jsonataProgram{expr: e, names: map[string]bool{}}
	variableNames(reflect.ValueOf(tree.Root), p.names)
	jsonataMemo.put(src, p)
	return p, nil
}

// jsonataEvalMu makes evaluations take turns: the library records the
// name and context of each function call in the function itself, and
// its built-in functions are shared by every expression, so two
// evaluations at once would race on them.
var jsonataEvalMu sync.Mutex

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
	if err := e.RegisterExts(fns.extensions(p.names)); err != nil {
		return nil, false, fmt.Errorf("binding functions: %w", err)
	}
	v, err := evalLocked(&e, input)
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

// evalLocked evaluates e while it holds jsonataEvalMu, which it releases
// however the library returns (a panic included).
func evalLocked(e *jsonata.Expr, input any) (any, error) {
	jsonataEvalMu.Lock()
	defer jsonataEvalMu.Unlock()
	return e.Eval(input)
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
	case *Object:
		m := make(map[string]any, t.Len())
		for k, e := range t.All() {
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

// extensions returns the functions of f that names holds.
func (f jsonataFuncs) extensions(names map[string]bool) map[string]jsonata.Extension {
	all := f.all()
	for name := range all {
		if !names[name] {
			delete(all, name)
		}
	}
	return all
}

func (f jsonataFuncs) all() map[string]jsonata.Extension {
	whenUndefined := jtypes.ArgUndefined(0)
	depth := 0
	return map[string]jsonata.Extension{
		// The calls boundLambdas puts around every function body.
		enterFunc: {Func: func() (bool, error) {
			if depth++; depth > maxJSONataDepth {
				return false, &jsonataLibError{Message: "Stack overflow error: Check for non-terminating recursive function. Consider rewriting as tail-recursive."}
			}
			return true, nil
		}},
		leaveFunc: {
			Func: func(_ bool, v reflect.Value) any {
				depth--
				return v.Interface()
			},
			UndefinedHandler: func(argv []reflect.Value) bool {
				if len(argv) == 2 && !argv[1].IsValid() {
					depth-- // the body returned nothing, and so does the call
					return true
				}
				return false
			},
		},
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
		"single": {
			Func: func(array reflect.Value, test jtypes.OptionalCallable) (any, error) {
				return jsonataSingle(array, test)
			},
			UndefinedHandler: whenUndefined,
		},
		"assert": {Func: func(cond bool, msg jtypes.OptionalString) (bool, error) {
			if cond {
				return true, nil
			}
			return false, &jsonataLibError{Code: "D3141", Message: orString(msg.String, "$assert() statement failed")}
		}},
		"encodeUrlComponent": {
			Func:             jsonataEncodeURIComponent,
			UndefinedHandler: whenUndefined,
		},
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

// jsonataSingle is $single(array[, test]): the one value of array that
// passes test (every value, without one), an error when there are
// none or several.
func jsonataSingle(array reflect.Value, test jtypes.OptionalCallable) (any, error) {
	array = jtypes.Resolve(array)
	var values []reflect.Value
	if array.Kind() == reflect.Slice {
		for i := 0; i < array.Len(); i++ {
			values = append(values, array.Index(i))
		}
	} else {
		values = []reflect.Value{array}
	}
	var found []reflect.Value
	for i, v := range values {
		if test.IsSet() {
			args := []reflect.Value{v, reflect.ValueOf(float64(i)), array}[:min(3, max(1, test.Callable.ParamCount()))]
			ok, err := test.Callable.Call(args)
			if err != nil {
				return nil, err
			}
			if b, isBool := jtypes.Resolve(ok).Interface().(bool); !ok.IsValid() || !isBool || !b {
				continue
			}
		}
		found = append(found, v)
	}
	switch {
	case len(found) > 1:
		return nil, &jsonataLibError{Code: "D3138", Message: "The $single() function expected exactly 1 matching result.  Instead it matched more."}
	case len(found) == 0:
		return nil, &jsonataLibError{Code: "D3139", Message: "The $single() function expected exactly 1 matching result.  Instead it matched 0."}
	}
	return found[0].Interface(), nil
}

func orString(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// The library evaluates a function call with a Go call, so a recursion
// that never ends would overflow the Go stack and end the process.
// rewriteTree puts $__enter() and $__leave() around the body of every
// function an expression defines, and the evaluation fails once
// maxJSONataDepth calls are nested, as jsonata-js fails on a stack
// overflow.
const (
	enterFunc       = "__enter"
	leaveFunc       = "__leave"
	maxJSONataDepth = 1000
)

var (
	lambdaNodeType = reflect.TypeOf(&jparse.LambdaNode{})
	nodeType       = reflect.TypeOf((*jparse.Node)(nil)).Elem()
)

// rewriteTree rewrites the syntax tree at v (reached through pointers,
// so settable) before it is compiled again from its String, and reports
// whether it changed anything:
//
//   - the body B of every function becomes $__leave($__enter(), B);
//   - x ~> $f(a) becomes $f(x, a), which it means: the library evaluates
//     the first by adding x to the call's arguments in the tree itself,
//     so that a compiled expression would go wrong (and race) on its
//     second evaluation.
func rewriteTree(v reflect.Value) bool {
	changed := false
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return false
		}
		changed = rewriteTree(v.Elem())
		if v.Type() == lambdaNodeType {
			l := v.Interface().(*jparse.LambdaNode)
			l.Body = &jparse.FunctionCallNode{Func: &jparse.VariableNode{Name: leaveFunc}, Args: []jparse.Node{
				&jparse.FunctionCallNode{Func: &jparse.VariableNode{Name: enterFunc}}, l.Body,
			}}
			changed = true
		}
	case reflect.Interface:
		if v.IsNil() {
			return false
		}
		changed = rewriteTree(v.Elem())
		if app, ok := v.Interface().(*jparse.FunctionApplicationNode); ok && v.CanSet() && v.Type() == nodeType {
			if call, ok := app.RHS.(*jparse.FunctionCallNode); ok {
				v.Set(reflect.ValueOf(&jparse.FunctionCallNode{Func: call.Func, Args: append([]jparse.Node{app.LHS}, call.Args...)}))
				changed = true
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && rewriteTree(v.Field(i)) {
				changed = true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if rewriteTree(v.Index(i)) {
				changed = true
			}
		}
	}
	return changed
}

var variableNodeType = reflect.TypeOf(&jparse.VariableNode{})

// variableNames adds the name of every variable the syntax tree at v
// reads to names.
func variableNames(v reflect.Value, names map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type() == variableNodeType {
			names[v.Interface().(*jparse.VariableNode).Name] = true
			return
		}
		variableNames(v.Elem(), names)
	case reflect.Interface:
		if !v.IsNil() {
			variableNames(v.Elem(), names)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				variableNames(v.Field(i), names)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			variableNames(v.Index(i), names)
		}
	}
}
