package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// This file runs JSONata states (QueryLanguage "JSONata"): their input
// is $states.input, Arguments replaces InputPath and Parameters, Output
// replaces ResultSelector, ResultPath and OutputPath, and expressions
// fail with States.QueryEvaluationError. The JSONPath paths in exec.go,
// task.go and children.go call in here where a JSONata state differs.

// jsonata reports whether st, a state of x's state machine, uses JSONata.
func (x *execution) jsonata(st *asl.State) bool { return asl.UsesJSONata(x.sm.QueryLanguage, st) }

// jsonataEnv is what the expressions of thread t's state see: $states
// with input and context (the Context Object of env), and the variables.
func (x *execution) jsonataEnv(t *thread, env asl.Env, input any) asl.JSONataEnv {
	return asl.JSONataEnv{
		States:  map[string]any{"input": input, "context": env.Context},
		Vars:    env.Vars,
		Effects: asl.JSONataEffects{NowFunc: x.e.now, RandomFunc: x.e.randomInt, UUIDFunc: x.e.uuid},
	}
}

// queryFailure is the failure of an expression of thread t's state, with
// the cause Step Functions gives it in an execution.
func (x *execution) queryFailure(t *thread, err error) failure {
	var je *asl.JSONataError
	if !errors.As(err, &je) {
		return failureOf(err)
	}
	return failure{Error: asl.ErrorQueryEvaluationError,
		Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", t.State, t.EnteredEvent, je.Error())}
}

// queryError wraps queryFailure for the callers that pass errors to
// failureOf.
func (x *execution) queryError(t *thread, err error) error {
	return &failureError{f: x.queryFailure(t, err)}
}

// stateInput is the effective input of thread t's state: for a JSONPath
// state InputPath and Parameters applied to its input; for a JSONata
// Task or Parallel state its Arguments (by default its input), and for
// any other JSONata state its input.
func (x *execution) stateInput(t *thread, st *asl.State, env asl.Env) (any, error) {
	if !x.jsonata(st) {
		return asl.ProcessInput(st, t.Input, envArg(env), x.intrinsics())
	}
	if st.Arguments == nil || st.Type != asl.TypeTask && st.Type != asl.TypeParallel {
		return t.Input, nil
	}
	v, err := asl.EvalJSONata("Arguments", st.Arguments, x.jsonataEnv(t, env, t.Input))
	if err != nil {
		return nil, x.queryError(t, err)
	}
	return v, nil
}

// processItem is the input of iteration i of Map thread p: its
// ItemSelector (or, for a JSONPath state, legacy Parameters) evaluated
// with the item in the Context Object, or the item itself.
func (x *execution) processItem(p *thread, st *asl.State, item any, ctx any) (any, error) {
	env := x.env(p, ctx)
	if !x.jsonata(st) {
		return asl.ProcessItem(st, p.Effective, item, env, x.intrinsic)
	}
	if st.ItemSelector == nil {
		return item, nil
	}
	v, err := asl.EvalJSONata("ItemSelector", st.ItemSelector, x.jsonataEnv(p, env, p.Input))
	if err != nil {
		return nil, x.queryError(p, err)
	}
	return v, nil
}

// jsonataItems evaluates a JSONata Map state's Items (by default its
// input, which must then be an array).
func (x *execution) jsonataItems(t *thread, st *asl.State, env asl.Env) (any, error) {
	if st.Items == nil {
		return t.Input, nil
	}
	v, err := asl.EvalJSONata("Items", st.Items, x.jsonataEnv(t, env, t.Input))
	if err == nil {
		if _, ok := v.([]any); !ok {
			src, verb := exprSource(st.Items), "returned"
			if src == "" {
				verb = "is"
			}
			err = &asl.JSONataError{Field: "Items", Expression: src, Err: fmt.Errorf("%s %s, not an array", verb, asl.JSONTypeName(v))}
		}
	}
	if err != nil {
		return nil, x.queryError(t, err)
	}
	return v, nil
}

// exprSource is the expression of a field whose value is an expression
// string, for messages.
func exprSource(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && asl.IsJSONataExpression(s) {
		return asl.JSONataSource(s)
	}
	return ""
}

// jsonataNumber evaluates a number field given as an expression
// (TimeoutSeconds, MaxConcurrency, ...) and checks it is an integer from
// lo up, or any number from lo to hi when whole is not set.
func (x *execution) jsonataNumber(t *thread, field, expr string, env asl.Env, whole bool, lo, hi float64) (float64, error) {
	v, err := asl.EvalJSONataString(field, expr, x.jsonataEnv(t, env, t.Input))
	if err != nil {
		return 0, x.queryError(t, err)
	}
	f, ok := asFloat(v)
	if !ok || whole && f != float64(int64(f)) || f < lo || f > hi {
		want := fmt.Sprintf("an integer from %v to %v", lo, hi)
		if !whole {
			want = fmt.Sprintf("a number from %v to %v", lo, hi)
		}
		return 0, x.queryError(t, &asl.JSONataError{Field: field, Expression: asl.JSONataSource(expr), Err: fmt.Errorf("returned %s, not %s", text(v), want)})
	}
	return f, nil
}

// jsonataTimeouts resolves a JSONata Task state's TimeoutSeconds and
// HeartbeatSeconds given as expressions; the numbers given as numbers
// come in as timeout and heartbeat.
func (x *execution) jsonataTimeouts(t *thread, st *asl.State, env asl.Env, timeout, heartbeat int64) (int64, int64, error) {
	if !x.jsonata(st) {
		return timeout, heartbeat, nil
	}
	if st.TimeoutSecondsExpr != "" {
		f, err := x.jsonataNumber(t, "TimeoutSeconds", st.TimeoutSecondsExpr, env, true, 1, asl.MaxSeconds)
		if err != nil {
			return 0, 0, err
		}
		timeout = int64(f)
	}
	if st.HeartbeatSecondsExpr != "" {
		f, err := x.jsonataNumber(t, "HeartbeatSeconds", st.HeartbeatSecondsExpr, env, true, 1, asl.MaxSeconds)
		if err != nil {
			return 0, 0, err
		}
		heartbeat = int64(f)
	}
	return timeout, heartbeat, nil
}

// completeJSONata finishes a JSONata state: Output (by default the
// result of a Task, Parallel or Map state, else the input) and Assign,
// both against the variables as they were, then the exit.
func (x *execution) completeJSONata(t *thread, st *asl.State, result any, env asl.Env) (string, any) {
	jenv := x.jsonataEnv(t, env, t.Input)
	out := t.Input
	switch st.Type {
	case asl.TypeTask, asl.TypeParallel, asl.TypeMap:
		jenv = jenv.With("result", result)
		out = result
	}
	out, assigned, err := x.outputAndAssign(t, "", st.Output, st.Assign, out, jenv)
	if err != nil {
		return x.fail(t, st, x.queryFailure(t, err))
	}
	return x.exit(t, st, out, st.Next, assigned)
}

// outputAndAssign evaluates an Output (out when absent) and an Assign
// block, naming their fields under prefix ("Choices[0]/", "Catch[1]/"),
// and sets the variables.
func (x *execution) outputAndAssign(t *thread, prefix string, output json.RawMessage, assign map[string]json.RawMessage, out any, jenv asl.JSONataEnv) (any, map[string]string, error) {
	if output != nil {
		v, err := asl.EvalJSONata(prefix+"Output", output, jenv)
		if err != nil {
			return nil, nil, err
		}
		out = v
	}
	if len(assign) == 0 {
		return out, nil, nil
	}
	vals, err := asl.EvalJSONataAssign(prefix+"Assign", assign, jenv)
	if err != nil {
		return nil, nil, err
	}
	vars := make(map[string]any, len(t.Vars)+len(vals))
	for k, v := range t.Vars {
		vars[k] = v
	}
	assigned := make(map[string]string, len(vals))
	for k, v := range vals {
		vars[k] = v
		assigned[k] = text(v)
	}
	t.Vars = vars
	return out, assigned, nil
}

// runJSONata runs the JSONata states that share nothing with their
// JSONPath form: Pass, Choice, Wait, Succeed and Fail. ok is false for
// the others, which run through the JSONPath path with the JSONata
// steps it calls.
func (x *execution) runJSONata(t *thread, st *asl.State) (next string, out any, ok bool) {
	env := x.env(t, x.contextObject(t, "", nil))
	switch st.Type {
	case asl.TypePass:
		next, out = x.completeJSONata(t, st, nil, env)
	case asl.TypeSucceed:
		next, out = x.completeJSONata(t, st, nil, env)
	case asl.TypeChoice:
		next, out = x.runChoiceJSONata(t, st, env)
	case asl.TypeWait:
		next, out = x.runWaitJSONata(t, st, env)
	case asl.TypeFail:
		next, out = x.runFailJSONata(t, st, env)
	default:
		return "", nil, false
	}
	return next, out, true
}

// choiceHolds evaluates the Condition of st's i-th Choice rule: whether
// it holds, with the rule's field ("Choices[i]/") for the errors of its
// Output and Assign; a JSONata error naming the field when the condition
// fails or is not a boolean.
func choiceHolds(st *asl.State, i int, jenv asl.JSONataEnv) (field string, holds bool, err error) {
	r := &st.Choices[i]
	field = fmt.Sprintf("Choices[%d]/", i)
	v, err := asl.EvalJSONata(field+"Condition", r.Condition, jenv)
	if err != nil {
		return field, false, err
	}
	b, isBool := v.(bool)
	if !isBool {
		return field, false, &asl.JSONataError{Field: field + "Condition", Expression: exprSource(r.Condition), Err: fmt.Errorf("returned %s, not a boolean", text(v))}
	}
	return field, b, nil
}

func (x *execution) runChoiceJSONata(t *thread, st *asl.State, env asl.Env) (string, any) {
	jenv := x.jsonataEnv(t, env, t.Input)
	for i := range st.Choices {
		r := &st.Choices[i]
		field, holds, err := choiceHolds(st, i, jenv)
		if err != nil {
			return x.fail(t, st, x.queryFailure(t, err))
		}
		if holds {
			out, assigned, err := x.outputAndAssign(t, field, r.Output, r.Assign, t.Input, jenv)
			if err != nil {
				return x.fail(t, st, x.queryFailure(t, err))
			}
			return x.exit(t, st, out, r.Next, assigned)
		}
	}
	if st.Default == "" {
		return x.fail(t, st, failure{Error: reported(asl.ErrorNoChoiceMatched), Cause: fmt.Sprintf("States.NoChoiceMatched: no Choice rule matched and there is no Default (state %q)", t.State)})
	}
	out, assigned, err := x.outputAndAssign(t, "", st.Output, st.Assign, t.Input, jenv)
	if err != nil {
		return x.fail(t, st, x.queryFailure(t, err))
	}
	return x.exit(t, st, out, st.Default, assigned)
}

func (x *execution) runWaitJSONata(t *thread, st *asl.State, env asl.Env) (string, any) {
	now := x.now()
	var due time.Time
	switch {
	case st.Seconds != nil:
		due = now.Add(time.Duration(*st.Seconds) * time.Second)
	case st.SecondsExpr != "":
		n, err := x.jsonataNumber(t, "Seconds", st.SecondsExpr, env, true, 0, asl.MaxSeconds)
		if err != nil {
			return x.fail(t, st, failureOf(err))
		}
		due = now.Add(time.Duration(n) * time.Second)
	default:
		v, err := asl.EvalJSONataString("Timestamp", st.Timestamp, x.jsonataEnv(t, env, t.Input))
		if err != nil {
			return x.fail(t, st, x.queryFailure(t, err))
		}
		s, _ := v.(string)
		if due, err = time.Parse(time.RFC3339, s); err != nil {
			err = &asl.JSONataError{Field: "Timestamp", Expression: asl.JSONataSource(st.Timestamp), Err: fmt.Errorf("returned %s, not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z", text(v))}
			return x.fail(t, st, x.queryFailure(t, err))
		}
	}
	t.Phase, t.Due = phaseWait, due
	t.Gen++
	x.dirty(t)
	x.armWait(t)
	return "", nil
}

func (x *execution) runFailJSONata(t *thread, st *asl.State, env asl.Env) (string, any) {
	jenv := x.jsonataEnv(t, env, t.Input)
	f, err := jsonataFailure(st, jenv)
	if err != nil {
		f = x.queryFailure(t, err)
	}
	x.endThread(t, nil, &f)
	return "", nil
}

// catchJSONata leads thread t to catcher c of its JSONata state after
// failure f: the catcher's Output (by default the error output) and
// Assign see it as $states.errorOutput.
func (x *execution) catchJSONata(t *thread, st *asl.State, i int, f failure) (string, any) {
	c := &st.Catch[i]
	errOut := map[string]any{"Error": f.Error, "Cause": f.Cause}
	env := x.env(t, x.contextObject(t, "", nil))
	jenv := x.jsonataEnv(t, env, t.Input).With("errorOutput", errOut)
	out, assigned, err := x.outputAndAssign(t, fmt.Sprintf("Catch[%d]/", i), c.Output, c.Assign, errOut, jenv)
	if err != nil {
		ff := x.queryFailure(t, err)
		x.endThread(t, nil, &ff)
		return "", nil
	}
	s := text(out)
	if tooBig(s) {
		ff := dataLimit("state output", len(s))
		x.endThread(t, nil, &ff)
		return "", nil
	}
	x.event(t, exitedEvent(st.Type), sfn.HistoryEvent{StateExited: &sfn.StateExitedDetails{Name: t.State, Output: s, AssignedVariables: assigned}})
	return c.Next, out
}

// jsonataFailure evaluates a JSONata Fail state's Error and Cause, for a
// run and for TestState; err is the first of them that fails or gives no
// string.
func jsonataFailure(st *asl.State, jenv asl.JSONataEnv) (failure, error) {
	var f failure
	for _, fld := range []struct {
		name, value string
		dst         *string
	}{{"Error", st.Error, &f.Error}, {"Cause", st.Cause, &f.Cause}} {
		v, err := asl.EvalJSONataString(fld.name, fld.value, jenv)
		if err != nil {
			return f, err
		}
		s, isString := v.(string)
		if !isString {
			return f, &asl.JSONataError{Field: fld.name, Expression: asl.JSONataSource(fld.value), Err: fmt.Errorf("returned %s, not a string", text(v))}
		}
		*fld.dst = s
	}
	return f, nil
}
