package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// This file runs a JSONata state (its QueryLanguage, or its state
// machine's, is "JSONata") for TestState. Its expressions see
// $states.input, $states.context (the request's context, or the one of a
// test execution), $states.result in Output and Assign after a Task, Map
// or Parallel state's work, $states.errorOutput in a Catcher, and the
// variables given. The inspection data are those the API reference gives
// a JSONata state: input, afterArguments, result, variables, and for a
// Map state afterItemSelector and its settings; afterInputPath,
// afterParameters, afterResultSelector, afterResultPath and
// afterItemsPath are "not populated when QueryLanguage is JSONata".

// jsonata reports whether the tested state uses JSONata.
func (tc *testCase) jsonata() bool { return asl.UsesJSONata(tc.ql, tc.st) }

// jsonataEnv is what the tested state's expressions see.
func (tc *testCase) jsonataEnv(token string) asl.JSONataEnv {
	return asl.JSONataEnv{
		States:  map[string]any{"input": tc.input, "context": tc.contextObject(token)},
		Vars:    tc.vars,
		Effects: asl.JSONataEffects{NowFunc: tc.e.now, RandomFunc: tc.e.randomInt, UUIDFunc: tc.e.uuid},
	}
}

// queryFailure is the States.QueryEvaluationError of a failed
// expression; a test has no history, so its cause is the expression's.
func queryFailure(err error) failure {
	var je *asl.JSONataError
	if !errors.As(err, &je) {
		return failureOf(err)
	}
	return failure{Error: asl.ErrorQueryEvaluationError, Cause: je.Error()}
}

// runJSONata runs the tested JSONata state.
func (tc *testCase) runJSONata(ctx context.Context) sfn.TestStateOutput {
	st := tc.st
	token := ""
	if st.Type == asl.TypeTask && strings.HasSuffix(st.Resource, ".waitForTaskToken") {
		token = tc.e.newToken(tc.x.rec.ARN)
	}
	jenv := tc.jsonataEnv(token)
	switch st.Type {
	case asl.TypeFail:
		return tc.runFailJSONata(jenv)
	case asl.TypeChoice:
		return tc.runChoiceJSONata(jenv)
	case asl.TypeWait:
		if f := tc.checkWaitJSONata(jenv); f != nil {
			return tc.failed(*f)
		}
		return tc.completeJSONata("", st.Output, st.Assign, tc.input, jenv, st.Next)
	case asl.TypePass:
		return tc.completeJSONata("", st.Output, st.Assign, tc.input, jenv, st.Next)
	case asl.TypeSucceed:
		return tc.completeJSONata("", st.Output, nil, tc.input, jenv, "")
	}
	eff := tc.input
	if st.Arguments != nil && (st.Type == asl.TypeTask || st.Type == asl.TypeParallel) {
		v, err := asl.EvalJSONata("Arguments", st.Arguments, jenv)
		if err != nil {
			return tc.failed(queryFailure(err))
		}
		eff = v
		tc.insp.AfterArguments = text(eff)
	}
	if st.Type == asl.TypeMap {
		if f := tc.inspectMapJSONata(jenv); f != nil {
			return tc.failed(*f)
		}
	}
	if st.Type == asl.TypeTask && st.TimeoutSecondsExpr != "" && tc.in.Mock == nil {
		v, err := asl.EvalJSONataString("TimeoutSeconds", st.TimeoutSecondsExpr, jenv)
		n, ok := asFloat(v)
		if err == nil && (!ok || n != float64(int64(n)) || n < 1 || n > asl.MaxSeconds) {
			err = &asl.JSONataError{Field: "TimeoutSeconds", Expression: asl.JSONataSource(st.TimeoutSecondsExpr), Err: fmt.Errorf("returned %s, not an integer from 1 to %v", text(v), asl.MaxSeconds)}
		}
		if err != nil {
			return tc.failed(queryFailure(err))
		}
		timed := *st
		timed.TimeoutSeconds = new(int(n))
		tc.st = &timed
	}
	result, f := tc.result(ctx, eff, token)
	if f != nil {
		return tc.failed(*f)
	}
	tc.insp.Result = text(result)
	return tc.completeJSONata("", st.Output, st.Assign, result, jenv.With("result", result), st.Next)
}

// completeJSONata evaluates an Output (out when there is none) and an
// Assign block, both against the variables as they were, and leads to
// next.
func (tc *testCase) completeJSONata(prefix string, output json.RawMessage, assign map[string]json.RawMessage, out any, jenv asl.JSONataEnv, next string) sfn.TestStateOutput {
	v, f := tc.outputAndAssignJSONata(prefix, output, assign, out, jenv)
	if f != nil {
		return tc.failed(*f)
	}
	s := text(v)
	if tooBig(s) {
		return tc.failed(dataLimit("state output", len(s)))
	}
	if tc.st.End {
		next = ""
	}
	return sfn.TestStateOutput{Status: sfn.TestStatusSucceeded, Output: s, NextState: next, InspectionData: tc.insp}
}

// outputAndAssignJSONata evaluates an Output and an Assign block and
// shows the variables after them.
func (tc *testCase) outputAndAssignJSONata(prefix string, output json.RawMessage, assign map[string]json.RawMessage, out any, jenv asl.JSONataEnv) (any, *failure) {
	if output != nil {
		v, err := asl.EvalJSONata(prefix+"Output", output, jenv)
		if err != nil {
			return nil, new(queryFailure(err))
		}
		out = v
	}
	if len(assign) > 0 {
		vals, err := asl.EvalJSONataAssign(prefix+"Assign", assign, jenv)
		if err != nil {
			return nil, new(queryFailure(err))
		}
		vars := make(map[string]any, len(tc.vars)+len(vals))
		for k, v := range tc.vars {
			vars[k] = v
		}
		for k, v := range vals {
			vars[k] = v
		}
		tc.vars = vars
	}
	if len(tc.vars) > 0 {
		tc.insp.Variables = text(tc.vars)
	}
	return out, nil
}

func (tc *testCase) runChoiceJSONata(jenv asl.JSONataEnv) sfn.TestStateOutput {
	st := tc.st
	for i := range st.Choices {
		r := &st.Choices[i]
		field, holds, err := choiceHolds(st, i, jenv)
		if err != nil {
			return tc.failed(queryFailure(err))
		}
		if holds {
			return tc.completeJSONata(field, r.Output, r.Assign, tc.input, jenv, r.Next)
		}
	}
	if st.Default == "" {
		return tc.failed(failure{Error: reported(asl.ErrorNoChoiceMatched), Cause: fmt.Sprintf("States.NoChoiceMatched: no Choice rule matched and there is no Default (state %q)", tc.name)})
	}
	return tc.completeJSONata("", st.Output, st.Assign, tc.input, jenv, st.Default)
}

// checkWaitJSONata checks a Wait state's Seconds or Timestamp expression
// as the engine would before it waits; a tested Wait state does not wait.
func (tc *testCase) checkWaitJSONata(jenv asl.JSONataEnv) *failure {
	st := tc.st
	switch {
	case st.SecondsExpr != "":
		v, err := asl.EvalJSONataString("Seconds", st.SecondsExpr, jenv)
		if err == nil {
			if f, ok := asFloat(v); !ok || f != float64(int64(f)) || f < 0 || f > asl.MaxSeconds {
				err = &asl.JSONataError{Field: "Seconds", Expression: asl.JSONataSource(st.SecondsExpr), Err: fmt.Errorf("returned %s, not an integer from 0 to %v", text(v), asl.MaxSeconds)}
			}
		}
		if err != nil {
			return new(queryFailure(err))
		}
	case st.Timestamp != "":
		v, err := asl.EvalJSONataString("Timestamp", st.Timestamp, jenv)
		if err == nil {
			s, _ := v.(string)
			if _, perr := time.Parse(time.RFC3339, s); perr != nil {
				err = &asl.JSONataError{Field: "Timestamp", Expression: asl.JSONataSource(st.Timestamp), Err: fmt.Errorf("returned %s, not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z", text(v))}
			}
		}
		if err != nil {
			return new(queryFailure(err))
		}
	}
	return nil
}

func (tc *testCase) runFailJSONata(jenv asl.JSONataEnv) sfn.TestStateOutput {
	st := tc.st
	f, err := jsonataFailure(st, jenv)
	if err != nil {
		f = queryFailure(err)
	}
	return sfn.TestStateOutput{Status: sfn.TestStatusFailed, Error: f.Error, Cause: f.Cause, InspectionData: tc.insp}
}

// inspectMapJSONata shows a JSONata Map state's items after its
// ItemSelector and its settings, and applies stateConfiguration's
// mapIterationFailureCount to its tolerance.
func (tc *testCase) inspectMapJSONata(jenv asl.JSONataEnv) *failure {
	st := tc.st
	conf := tc.in.StateConfiguration
	if conf == nil {
		conf = &sfn.TestStateConfiguration{}
	}
	items := tc.input
	switch {
	case conf.MapItemReaderData != "":
		v, err := decodeJSON(conf.MapItemReaderData)
		if err != nil {
			return &failure{Error: asl.ErrorItemReaderFailed, Cause: "stateConfiguration.mapItemReaderData is not a JSON array: " + err.Error()}
		}
		items = v
	case st.ItemReader != nil:
		return &failure{Error: asl.ErrorItemReaderFailed, Cause: "the local engine reads no items with an ItemReader; give them in stateConfiguration.mapItemReaderData"}
	case st.Items != nil:
		v, err := asl.EvalJSONata("Items", st.Items, jenv)
		if err != nil {
			return new(queryFailure(err))
		}
		items = v
	}
	arr, ok := items.([]any)
	if !ok {
		return new(queryFailure(&asl.JSONataError{Field: "Items", Expression: exprSource(st.Items), Err: fmt.Errorf("is %s, not an array", asl.JSONTypeName(items))}))
	}
	if st.ItemSelector != nil {
		selected := make([]any, len(arr))
		for i, item := range arr {
			c := tc.itemContext(i, item)
			v, err := asl.EvalJSONata("ItemSelector", st.ItemSelector, jenv.With("context", c))
			if err != nil {
				return new(queryFailure(err))
			}
			selected[i] = v
		}
		tc.insp.AfterItemSelector = text(selected)
	}
	tc.inspectMapLimits(st)
	if n := conf.MapIterationFailureCount; n != nil && *n > 0 {
		t := &thread{State: tc.name, Input: tc.input, Vars: tc.vars}
		count, pct, f := tc.x.toleranceValues(t, st, tc.input, asl.Env{Context: jenv.States["context"], Vars: tc.vars})
		if f != nil {
			if f.Error == asl.ErrorQueryEvaluationError {
				// A test has no history: the cause names no event.
				if _, rest, ok := strings.Cut(f.Cause, "). "); ok {
					f.Cause = rest
				}
			}
			return f
		}
		if tol := toleranceFunc(count, pct, len(arr)); tol == nil || !tol(*n) {
			return &failure{Error: asl.ErrorExceedToleratedFailureThreshold, Cause: fmt.Sprintf("The number of failed items (%d of %d) exceeds the tolerated failure threshold of the Map state %q.", *n, len(arr), tc.name)}
		}
	}
	return nil
}

// catchJSONata leads the tested JSONata state to its catcher i after
// failure f: the catcher's Output (by default the error output) and
// Assign see it as $states.errorOutput.
func (tc *testCase) catchJSONata(i int, f failure) sfn.TestStateOutput {
	c := &tc.st.Catch[i]
	errOut := errorOutput(f.Error, f.Cause)
	jenv := tc.jsonataEnv("").With("errorOutput", errOut)
	out, ff := tc.outputAndAssignJSONata(fmt.Sprintf("Catch[%d]/", i), c.Output, c.Assign, errOut, jenv)
	if ff != nil {
		return sfn.TestStateOutput{Status: sfn.TestStatusFailed, Error: ff.Error, Cause: ff.Cause, InspectionData: tc.insp}
	}
	tc.insp.ErrorDetails = &sfn.InspectionErrorDetails{CatchIndex: new(i)}
	return sfn.TestStateOutput{Status: sfn.TestStatusCaughtError, Error: f.Error, Cause: f.Cause, Output: text(out), NextState: c.Next, InspectionData: tc.insp}
}
