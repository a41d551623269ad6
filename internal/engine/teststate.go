package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// testStateName is the name a state tested on its own runs under: the
// name its Context Object shows.
const testStateName = "TestState"

// testStateTimeout bounds a tested state's task, as TestState's five
// minutes do on AWS; its TimeoutSeconds, when shorter, wins.
const testStateTimeout = 5 * time.Minute

// TestState runs one state on its own, as Step Functions' TestState does:
// its input and output processing, its task (a Lambda function, or an
// SQS message, sent for real through the engine's functions and queues;
// or the mock), its Choice rules, its Retry and Catch (RETRIABLE and
// CAUGHT_ERROR), and, at the DEBUG and TRACE levels, each step's data.
// A Wait state does not wait. Activity and .waitForTaskToken tasks, Map
// and Parallel states need a mock, as on AWS; nothing is recorded.
func (e *Engine) TestState(ctx context.Context, in sfn.TestStateInput) (sfn.TestStateOutput, error) {
	if err := e.checkOpen(); err != nil {
		return sfn.TestStateOutput{}, err
	}
	tc, err := e.newTestCase(in)
	if err != nil {
		return sfn.TestStateOutput{}, err
	}
	out := tc.run(ctx)
	if in.InspectionLevel == "" || in.InspectionLevel == sfn.InspectionInfo {
		out.InspectionData = nil
	}
	return out, nil
}

// testCase is one TestState call.
type testCase struct {
	e        *Engine
	x        *execution // for the helpers of a running state; records nothing
	in       sfn.TestStateInput
	name     string
	ql       string // the state machine's QueryLanguage
	st       *asl.State
	input    any
	vars     map[string]any
	context  any
	insp     *sfn.InspectionData
	retryCnt int
}

func (e *Engine) newTestCase(in sfn.TestStateInput) (*testCase, error) {
	switch in.InspectionLevel {
	case "", sfn.InspectionInfo, sfn.InspectionDebug, sfn.InspectionTrace:
	default:
		return nil, errorf(sfn.CodeValidation, "inspectionLevel must be INFO, DEBUG or TRACE, not %q", in.InspectionLevel)
	}
	if in.RoleARN != "" && !strings.HasPrefix(in.RoleARN, "arn:") {
		return nil, errorf(sfn.CodeInvalidArn, "invalid role ARN %q", in.RoleARN)
	}
	name, ql, st, err := testedState(in.Definition, in.StateName)
	if err != nil {
		return nil, err
	}
	tc := &testCase{e: e, in: in, name: name, ql: ql, st: st, insp: &sfn.InspectionData{}}
	tc.x = &execution{e: e, rec: ExecutionRecord{ARN: e.executionARN("TestStateMachine", "test-state"), StateMachineARN: e.stateMachineARN("TestStateMachine"), StartDate: e.now()}, smName: "TestStateMachine", roleARN: in.RoleARN}
	if err := tc.checkMock(); err != nil {
		return nil, err
	}
	raw := in.Input
	if strings.TrimSpace(raw) == "" {
		raw = "{}"
	}
	if tc.input, err = decodeJSON(raw); err != nil {
		return nil, errorf(sfn.CodeInvalidExecutionInput, "the input is not JSON: %v", err)
	}
	tc.insp.Input = text(tc.input)
	if strings.TrimSpace(in.Variables) != "" {
		v, err := decodeJSON(in.Variables)
		obj, ok := asl.AsObject(v)
		if err != nil || !ok {
			return nil, errorf(sfn.CodeValidation, "variables must be a JSON object of variable names and values")
		}
		tc.vars = map[string]any{}
		for k, val := range obj.All() {
			tc.vars[k] = val
		}
	}
	if c := in.StateConfiguration; c != nil && c.RetrierRetryCount != nil {
		if *c.RetrierRetryCount < 0 {
			return nil, errorf(sfn.CodeValidation, "stateConfiguration.retrierRetryCount must not be negative")
		}
		tc.retryCnt = *c.RetrierRetryCount
	}
	if strings.TrimSpace(in.Context) != "" {
		if tc.context, err = decodeJSON(in.Context); err != nil {
			return nil, errorf(sfn.CodeValidation, "context is not JSON: %v", err)
		}
	}
	return tc, nil
}

// testedState reads the state to test: the definition of one state, or
// the state stateName of a whole state machine (whose QueryLanguage it
// also returns).
func testedState(def, stateName string) (string, string, *asl.State, error) {
	if strings.TrimSpace(def) == "" {
		return "", "", nil, errorf(sfn.CodeInvalidDefinition, "the definition is empty")
	}
	if stateName != "" {
		sm, err := parseDefinition(def)
		if err != nil {
			return "", "", nil, err
		}
		st, ok := sm.States[stateName]
		if !ok {
			return "", "", nil, errorf(sfn.CodeValidation, "the state machine has no top-level state %q", stateName)
		}
		return stateName, sm.QueryLanguage, st, nil
	}
	var st asl.State
	if err := json.Unmarshal([]byte(def), &st); err != nil {
		return "", "", nil, errorf(sfn.CodeInvalidDefinition, "%v", err)
	}
	// Validate the state in a machine of its own, where the states it
	// leads to are stand-ins.
	sm := &asl.StateMachine{StartAt: testStateName, States: map[string]*asl.State{testStateName: &st}}
	for _, next := range stateTargets(&st) {
		if _, ok := sm.States[next]; !ok && next != "" {
			sm.States[next] = &asl.State{Type: asl.TypeSucceed}
		}
	}
	if problems := asl.Validate(sm); len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return "", "", nil, errorf(sfn.CodeInvalidDefinition, "%s", strings.Join(msgs, "; "))
	}
	return testStateName, "", &st, nil
}

// stateTargets are the states a state can lead to.
func stateTargets(st *asl.State) []string {
	out := []string{st.Next, st.Default}
	for _, c := range st.Choices {
		out = append(out, c.Next)
	}
	for _, c := range st.Catch {
		out = append(out, c.Next)
	}
	return out
}

// checkMock applies TestState's rules on mocks: only Task, Map and
// Parallel states take one, and those AWS cannot run for a test (an
// activity, the callback and .sync patterns, Map and Parallel) need one.
func (tc *testCase) checkMock() error {
	st, m := tc.st, tc.in.Mock
	if m != nil {
		if st.Type != asl.TypeTask && st.Type != asl.TypeMap && st.Type != asl.TypeParallel {
			return errorf(sfn.CodeValidation, "a mock can only be given for a Task, Map or Parallel state, not a %s state", st.Type)
		}
		if (m.Result == "") == (m.ErrorOutput == nil) {
			return errorf(sfn.CodeValidation, "a mock has either a result or an errorOutput")
		}
		if m.ErrorOutput != nil && m.ErrorOutput.Error == "" {
			return errorf(sfn.CodeValidation, "mock.errorOutput needs an error")
		}
		if m.Result != "" {
			if _, err := decodeJSON(m.Result); err != nil {
				return errorf(sfn.CodeValidation, "mock.result is not JSON: %v", err)
			}
		}
		switch m.FieldValidationMode {
		case "", "STRICT", "PRESENT", "NONE":
		default:
			return errorf(sfn.CodeValidation, "mock.fieldValidationMode must be STRICT, PRESENT or NONE")
		}
		return nil
	}
	if tc.in.Context != "" {
		return errorf(sfn.CodeValidation, "context can only be given with a mock")
	}
	switch st.Type {
	case asl.TypeMap, asl.TypeParallel:
		return errorf(sfn.CodeValidation, "TestState runs a %s state only with a mock of its result", st.Type)
	case asl.TypeTask:
		if strings.HasPrefix(st.Resource, "arn:aws:states:") && strings.Contains(st.Resource, ":activity:") {
			return errorf(sfn.CodeValidation, "TestState runs an activity task only with a mock of its result")
		}
		if strings.HasSuffix(st.Resource, ".waitForTaskToken") || strings.HasSuffix(st.Resource, ".sync") || strings.Contains(st.Resource, ".sync:") {
			return errorf(sfn.CodeValidation, "TestState runs the .waitForTaskToken and .sync patterns only with a mock of their result")
		}
	}
	return nil
}

// contextObject is "$$" for the tested state: the request's context, or
// one made up for a test execution.
func (tc *testCase) contextObject(token string) any {
	if tc.context != nil {
		return tc.context
	}
	now := formatTime(tc.e.now())
	c := map[string]any{
		"Execution": map[string]any{
			"Id": tc.x.rec.ARN, "Input": tc.input, "Name": "test-state", "RoleArn": tc.in.RoleARN,
			"StartTime": now, "RedriveCount": json.Number("0"),
		},
		"State":        map[string]any{"EnteredTime": now, "Name": tc.name, "RetryCount": json.Number(strconv.Itoa(tc.retryCnt))},
		"StateMachine": map[string]any{"Id": tc.x.rec.StateMachineARN, "Name": tc.x.smName},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	return c
}

func (tc *testCase) env(token string) asl.Env {
	return asl.Env{Context: tc.contextObject(token), Vars: tc.vars}
}

// run runs the state and reports its outcome.
func (tc *testCase) run(ctx context.Context) sfn.TestStateOutput {
	st := tc.st
	if tc.jsonata() {
		return tc.runJSONata(ctx)
	}
	if st.Type == asl.TypeFail {
		return tc.runFail()
	}
	token := ""
	if st.Type == asl.TypeTask && strings.HasSuffix(st.Resource, ".waitForTaskToken") {
		token = tc.e.newToken(tc.x.rec.ARN)
	}
	env := tc.env(token)
	intr := tc.x.intrinsic
	noParams := *st
	noParams.Parameters = nil
	afterInputPath, err := asl.ProcessInput(&noParams, tc.input, env, intr)
	if err != nil {
		return tc.failed(failureOf(err))
	}
	tc.insp.AfterInputPath = text(afterInputPath)
	eff := afterInputPath
	if st.Type != asl.TypeMap && st.Parameters != nil {
		if eff, err = asl.ApplyTemplate(st.Parameters, afterInputPath, env, intr); err != nil {
			return tc.failed(failureOf(prefixed(err, "Parameters")))
		}
		tc.insp.AfterParameters = text(eff)
	}
	switch st.Type {
	case asl.TypeChoice:
		return tc.runChoice(eff, env)
	case asl.TypeWait:
		if f := tc.checkWait(eff, env); f != nil {
			return tc.failed(*f)
		}
		return tc.complete(eff, eff, env, st.Next, st.Assign, false)
	case asl.TypeSucceed:
		return tc.complete(eff, eff, env, "", nil, false)
	case asl.TypePass:
		result := eff
		if st.Result != nil {
			if result, err = decodeJSON(string(st.Result)); err != nil {
				return tc.failed(failure{Error: asl.ErrorRuntime, Cause: "decoding Result: " + err.Error()})
			}
		}
		return tc.complete(result, eff, env, st.Next, st.Assign, true)
	case asl.TypeMap:
		if f := tc.inspectMap(afterInputPath, env); f != nil {
			return tc.failed(*f)
		}
	}
	result, f := tc.result(ctx, eff, token)
	if f != nil {
		return tc.failed(*f)
	}
	return tc.complete(result, eff, env, st.Next, st.Assign, true)
}

// result is what the Task, Map or Parallel state's work gives: the mock,
// or the task run for real.
func (tc *testCase) result(ctx context.Context, eff any, token string) (any, *failure) {
	if m := tc.in.Mock; m != nil {
		if m.ErrorOutput != nil {
			return nil, &failure{Error: m.ErrorOutput.Error, Cause: m.ErrorOutput.Cause}
		}
		v, _ := decodeJSON(m.Result)
		return v, nil
	}
	st := tc.st
	kind, _, _, _, ok := parseResource(st.Resource)
	if !ok {
		return nil, &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("The resource %q is not supported by the local engine; it runs arn:aws:states:::sqs:sendMessage, arn:aws:states:::lambda:invoke and Lambda function ARNs, and any resource with a mock.", st.Resource)}
	}
	params := text(eff)
	if tooBig(params) {
		return nil, &failure{Error: asl.ErrorDataLimitExceeded, Cause: dataLimit("state input after Parameters", len(params)).Cause}
	}
	timeout := testStateTimeout
	if st.TimeoutSeconds != nil && time.Duration(*st.TimeoutSeconds)*time.Second < timeout {
		timeout = time.Duration(*st.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	call := &taskCall{Kind: kind, Resource: st.Resource, Params: eff, paramsJSON: params}
	if kind == kindSQS {
		p, f := sendMessageParams(eff, "", "")
		if f == nil && tc.e.queues == nil {
			f = &failure{Error: "SQS.QueueDoesNotExistException", Cause: fmt.Sprintf("the local engine has no queues; no queue %s", p.QueueURL)}
		}
		if f != nil {
			return nil, f
		}
		msgID, err := tc.e.queues.SendMessage(ctx, p)
		if err != nil {
			return nil, &failure{Error: errorName(err, "SQS.AmazonSQSException"), Cause: err.Error()}
		}
		return sendMessageResult(msgID, md5Hex(p.Body)), nil
	}
	out, _, f := tc.e.callFunction(ctx, call)
	if ctx.Err() != nil && f != nil {
		return nil, &failure{Error: asl.ErrorTimeout, Cause: "The task did not finish within its timeout."}
	}
	return out, f
}

// inspectMap shows a Map state's items and settings: afterItemsPath,
// afterItemSelector, the tolerated failures and the concurrency. The
// items of an ItemReader are stateConfiguration's mapItemReaderData (a
// JSON array); its mapIterationFailureCount failed iterations fail the
// state when its tolerance does not cover them.
func (tc *testCase) inspectMap(eff any, env asl.Env) *failure {
	st := tc.st
	conf := tc.in.StateConfiguration
	if conf == nil {
		conf = &sfn.TestStateConfiguration{}
	}
	items := eff
	switch {
	case conf.MapItemReaderData != "":
		v, err := decodeJSON(conf.MapItemReaderData)
		if err != nil {
			return &failure{Error: asl.ErrorItemReaderFailed, Cause: "stateConfiguration.mapItemReaderData is not a JSON array: " + err.Error()}
		}
		items = v
	case st.ItemReader != nil:
		return &failure{Error: asl.ErrorItemReaderFailed, Cause: "the local engine reads no items with an ItemReader; give them in stateConfiguration.mapItemReaderData"}
	case st.ItemsPath != "":
		v, err := lookupPath(st.ItemsPath, eff, env)
		if err != nil {
			return &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("ItemsPath %s: %v", st.ItemsPath, err)}
		}
		items = v
	}
	tc.insp.AfterItemsPath = text(items)
	arr, ok := items.([]any)
	if !ok {
		return &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("the items (ItemsPath %q) are %s, not an array", st.ItemsPath, asl.JSONTypeName(items))}
	}
	if st.ItemSelector != nil || st.Parameters != nil {
		selected := make([]any, len(arr))
		for i, item := range arr {
			c := tc.itemContext(i, item)
			v, err := asl.ProcessItem(st, eff, item, asl.Env{Context: c, Vars: tc.vars}, tc.x.intrinsic)
			if err != nil {
				return new(failureOf(err))
			}
			selected[i] = v
		}
		tc.insp.AfterItemSelector = text(selected)
	}
	tc.inspectMapLimits(st)
	if n := conf.MapIterationFailureCount; n != nil && *n > 0 {
		count, pct, f := tc.x.toleranceValues(&thread{Vars: tc.vars}, st, eff, env)
		if f != nil {
			return f
		}
		if tol := toleranceFunc(count, pct, len(arr)); tol == nil || !tol(*n) {
			return &failure{Error: asl.ErrorExceedToleratedFailureThreshold, Cause: fmt.Sprintf("The number of failed items (%d of %d) exceeds the tolerated failure threshold of the Map state %q.", *n, len(arr), tc.name)}
		}
	}
	return nil
}

func (tc *testCase) runChoice(eff any, env asl.Env) sfn.TestStateOutput {
	st := tc.st
	resolve := resolver(eff, env)
	var rule *asl.ChoiceRule
	for i := range st.Choices {
		ok, err := asl.EvalChoice(st.Choices[i], resolve)
		if err != nil {
			return tc.failed(failureOf(err))
		}
		if ok {
			rule = &st.Choices[i]
			break
		}
	}
	next, block := st.Default, st.Assign
	if rule != nil {
		next, block = rule.Next, rule.Assign
	}
	if next == "" {
		return tc.failed(failure{Error: reported(asl.ErrorNoChoiceMatched), Cause: fmt.Sprintf("States.NoChoiceMatched: no Choice rule matched and there is no Default (state %q)", tc.name)})
	}
	return tc.complete(eff, eff, env, next, block, false)
}

// checkWait checks a Wait state's time as the engine would before it
// waits; a tested Wait state does not wait.
func (tc *testCase) checkWait(eff any, env asl.Env) *failure {
	st := tc.st
	switch {
	case st.Timestamp != "":
		if _, err := time.Parse(time.RFC3339, st.Timestamp); err != nil {
			return &failure{Error: asl.ErrorRuntime, Cause: "Timestamp: " + err.Error()}
		}
	case st.SecondsPath != "":
		v, err := lookupPath(st.SecondsPath, eff, env)
		if err != nil {
			return &failure{Error: asl.ErrorRuntime, Cause: "SecondsPath: " + err.Error()}
		}
		if n, ok := asInt(v); !ok || n < 0 {
			return &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("SecondsPath %s selects %s, not a non-negative integer", st.SecondsPath, text(v))}
		}
	case st.TimestampPath != "":
		v, err := lookupPath(st.TimestampPath, eff, env)
		if err != nil {
			return &failure{Error: asl.ErrorRuntime, Cause: "TimestampPath: " + err.Error()}
		}
		s, _ := v.(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return &failure{Error: asl.ErrorRuntime, Cause: fmt.Sprintf("TimestampPath %s selects %s, not an RFC 3339 timestamp", st.TimestampPath, text(v))}
		}
	}
	return nil
}

// complete finishes a state that did its work: ResultSelector and
// ResultPath (for states with a result), OutputPath, Assign.
func (tc *testCase) complete(result, eff any, env asl.Env, next string, assign map[string]json.RawMessage, hasResult bool) sfn.TestStateOutput {
	st := tc.st
	intr := tc.x.intrinsic
	combined := eff
	if hasResult {
		tc.insp.Result = text(result)
		selected := result
		if st.ResultSelector != nil {
			var err error
			if selected, err = asl.ApplyTemplate(st.ResultSelector, result, env, intr); err != nil {
				return tc.failed(failureOf(prefixed(err, "ResultSelector")))
			}
			tc.insp.AfterResultSelector = text(selected)
		}
		var err error
		if combined, err = asl.SetResult(tc.input, st.ResultPath, selected); err != nil {
			return tc.failed(failureOf(err))
		}
		tc.insp.AfterResultPath = text(combined)
	}
	out, err := asl.ProcessOutput(&asl.State{Type: st.Type, OutputPath: st.OutputPath}, nil, combined, env, intr)
	if err != nil {
		return tc.failed(failureOf(err))
	}
	// Assign sees the raw result, or a state's effective input.
	assignInput := eff
	if hasResult {
		assignInput = result
	}
	if f := tc.assign(assign, assignInput, env); f != nil {
		return tc.failed(*f)
	}
	s := text(out)
	if tooBig(s) {
		return tc.failed(dataLimit("state output", len(s)))
	}
	if st.End {
		next = ""
	}
	return sfn.TestStateOutput{Status: sfn.TestStatusSucceeded, Output: s, NextState: next, InspectionData: tc.insp}
}

// assign evaluates an Assign block and shows the variables after it.
func (tc *testCase) assign(block map[string]json.RawMessage, input any, env asl.Env) *failure {
	t := &thread{Vars: tc.vars}
	if _, err := tc.x.assign(t, block, input, env); err != nil {
		return new(failureOf(err))
	}
	tc.vars = t.Vars
	if len(tc.vars) > 0 {
		tc.insp.Variables = text(tc.vars)
	}
	return nil
}

func (tc *testCase) runFail() sfn.TestStateOutput {
	st := tc.st
	env := tc.env("")
	f := failure{Error: st.Error, Cause: st.Cause}
	pick := func(field, expr string) (string, error) {
		var v any
		var err error
		if strings.HasPrefix(expr, "States.") {
			v, err = tc.x.intrinsic(expr, tc.input, env)
		} else {
			v, err = lookupPath(expr, tc.input, env)
		}
		if err != nil {
			return "", err
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s %s selects %s, not a string", field, expr, asl.JSONTypeName(v))
		}
		return s, nil
	}
	var err error
	if st.ErrorPath != "" {
		f.Error, err = pick("ErrorPath", st.ErrorPath)
	}
	if err == nil && st.CausePath != "" {
		f.Cause, err = pick("CausePath", st.CausePath)
	}
	if err != nil {
		f = failure{Error: asl.ErrorRuntime, Cause: err.Error()}
	}
	return sfn.TestStateOutput{Status: sfn.TestStatusFailed, Error: f.Error, Cause: f.Cause, InspectionData: tc.insp}
}

// failed applies the state's Retry and Catch to a failure: RETRIABLE
// when a retrier matches with attempts left (stateConfiguration's
// retrierRetryCount says how many it made), CAUGHT_ERROR when a catcher
// matches, FAILED otherwise.
func (tc *testCase) failed(f failure) sfn.TestStateOutput {
	st := tc.st
	out := sfn.TestStateOutput{Status: sfn.TestStatusFailed, Error: f.Error, Cause: f.Cause, InspectionData: tc.insp}
	for i, r := range st.Retry {
		if !matches(r.ErrorEquals, f.Error) {
			continue
		}
		maxAttempts := 3
		if r.MaxAttempts != nil {
			maxAttempts = *r.MaxAttempts
		}
		if tc.retryCnt >= maxAttempts {
			break
		}
		r.JitterStrategy = "" // the interval shown is the one without jitter
		backoff := int(tc.x.backoff(r, tc.retryCnt+1) / time.Second)
		tc.insp.ErrorDetails = &sfn.InspectionErrorDetails{RetryIndex: new(i), RetryBackoffIntervalSeconds: new(backoff)}
		out.Status = sfn.TestStatusRetriable
		return out
	}
	for i, c := range st.Catch {
		if !matches(c.ErrorEquals, f.Error) {
			continue
		}
		if tc.jsonata() {
			return tc.catchJSONata(i, f)
		}
		errOut := errorOutput(f.Error, f.Cause)
		caught, err := asl.SetResult(tc.input, c.ResultPath, errOut)
		if err != nil {
			return sfn.TestStateOutput{Status: sfn.TestStatusFailed, Error: asl.ErrorResultPathMatchFailure, Cause: err.Error(), InspectionData: tc.insp}
		}
		if ff := tc.assign(c.Assign, errOut, tc.env("")); ff != nil {
			return sfn.TestStateOutput{Status: sfn.TestStatusFailed, Error: ff.Error, Cause: ff.Cause, InspectionData: tc.insp}
		}
		tc.insp.ErrorDetails = &sfn.InspectionErrorDetails{CatchIndex: new(i)}
		out.Status, out.Output, out.NextState = sfn.TestStatusCaughtError, text(caught), c.Next
		return out
	}
	return out
}

// prefixed names the template field of a payload template's error.
func prefixed(err error, field string) error {
	pe, ok := err.(*asl.ProcessingError)
	if !ok {
		return err
	}
	if pe.Field == "" {
		pe.Field = field
	} else {
		pe.Field = field + "." + pe.Field
	}
	return pe
}

// itemContext is the Context object of item i of a tested Map state: the
// test's, with $$.Map.Item.
func (tc *testCase) itemContext(i int, item any) *asl.Object {
	ctxObj, _ := asl.AsObject(tc.contextObject(""))
	c := asl.NewObject(ctxObj.Len() + 1)
	for k, v := range ctxObj.All() {
		c.Set(k, v)
	}
	c.Set("Map", map[string]any{"Item": map[string]any{"Index": json.Number(strconv.Itoa(i)), "Value": item}})
	return c
}

// inspectMapLimits copies a tested Map state's fixed concurrency and
// tolerated failures into the inspection data.
func (tc *testCase) inspectMapLimits(st *asl.State) {
	if st.MaxConcurrency != nil {
		tc.insp.MaxConcurrency = new(*st.MaxConcurrency)
	}
	if st.ToleratedFailureCount != nil {
		tc.insp.ToleratedFailureCount = new(*st.ToleratedFailureCount)
	}
	if st.ToleratedFailurePercentage != nil {
		tc.insp.ToleratedFailurePercentage = new(*st.ToleratedFailurePercentage)
	}
}
