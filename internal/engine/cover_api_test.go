package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

const coverPassMachine = `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`

// TestStateMachineLifecycle: create (again with the same fields is the
// same machine, with others a conflict), update the definition or the
// role, list a page at a time in name order, delete; and each operation's
// refusals.
func TestStateMachineLifecycle(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	ctx := b.ctx
	e := b.e

	_, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "bad name", Definition: coverPassMachine})
	coverRequireCode(t, err, sfn.CodeInvalidName)
	_, err = e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "typed", Definition: coverPassMachine, Type: "BATCH"})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "broken", Definition: `{"StartAt":"Nowhere","States":{}}`})
	coverRequireCode(t, err, sfn.CodeInvalidDefinition)

	first, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "b", Definition: coverPassMachine})
	require.NoError(t, err)
	again, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "b", Definition: coverPassMachine})
	require.NoError(t, err)
	require.Equal(t, first, again, "creating again with the same fields returns the machine")
	_, err = e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "b", Definition: coverPassMachine, RoleARN: "arn:aws:iam::123456789012:role/other"})
	coverRequireCode(t, err, sfn.CodeStateMachineAlreadyExists)
	for _, name := range []string{"c", "a"} {
		_, err = e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: name, Definition: coverPassMachine})
		require.NoError(t, err)
	}

	// Update.
	role := "arn:aws:iam::123456789012:role/run"
	def := `{"StartAt":"B","States":{"B":{"Type":"Pass","Result":"v2","End":true}}}`
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: first.StateMachineARN})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: "arn:nope", RoleARN: &role})
	coverRequireCode(t, err, sfn.CodeInvalidArn)
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: strings.Replace(first.StateMachineARN, ":b", ":zz", 1), RoleARN: &role})
	coverRequireCode(t, err, sfn.CodeStateMachineDoesNotExist)
	bad := `{"StartAt":"X"}`
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: first.StateMachineARN, Definition: &bad})
	coverRequireCode(t, err, sfn.CodeInvalidDefinition)
	before, err := e.DescribeStateMachine(ctx, first.StateMachineARN)
	require.NoError(t, err)
	upd, err := e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: first.StateMachineARN, RoleARN: &role})
	require.NoError(t, err)
	require.NotEqual(t, before.RevisionID, upd.RevisionID)
	sm, err := e.DescribeStateMachine(ctx, first.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, role, sm.RoleARN)
	require.Equal(t, coverPassMachine, sm.Definition, "a role update keeps the definition")
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: first.StateMachineARN, Definition: &def})
	require.NoError(t, err)
	sm, err = e.DescribeStateMachine(ctx, first.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, def, sm.Definition)
	require.Equal(t, role, sm.RoleARN, "a definition update keeps the role")
	d := b.finish(b.start(first.StateMachineARN, `{}`))
	require.JSONEq(t, `"v2"`, d.Output, "new executions run the new definition")

	// List, one a page.
	var names []string
	next := ""
	for {
		page, err := e.ListStateMachines(ctx, sfn.ListStateMachinesInput{MaxResults: 1, NextToken: next})
		require.NoError(t, err)
		for _, m := range page.StateMachines {
			require.Empty(t, m.Definition, "a listing leaves definitions out")
			names = append(names, m.Name)
		}
		if next = page.NextToken; next == "" {
			break
		}
	}
	require.Equal(t, []string{"a", "b", "c"}, names)
	_, err = e.ListStateMachines(ctx, sfn.ListStateMachinesInput{MaxResults: 1001})
	coverRequireCode(t, err, sfn.CodeValidation)

	// Delete.
	coverRequireCode(t, e.DeleteStateMachine(ctx, "arn:nope"), sfn.CodeInvalidArn)
	require.NoError(t, e.DeleteStateMachine(ctx, first.StateMachineARN))
	_, err = e.DescribeStateMachine(ctx, first.StateMachineARN)
	coverRequireCode(t, err, sfn.CodeStateMachineDoesNotExist)
	_, err = e.DescribeStateMachine(ctx, "arn:nope")
	coverRequireCode(t, err, sfn.CodeInvalidArn)
	page, err := e.ListStateMachines(ctx, sfn.ListStateMachinesInput{})
	require.NoError(t, err)
	require.Len(t, page.StateMachines, 2)
}

// TestValidateStateMachineDefinition: every problem of a definition comes
// back with a JSON pointer to where it is; text that is not JSON is one
// INVALID_JSON_DESCRIPTION; only an empty definition is an error.
func TestValidateStateMachineDefinition(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	_, err := b.e.ValidateStateMachineDefinition(b.ctx, "  ")
	coverRequireCode(t, err, sfn.CodeValidation)

	out, err := b.e.ValidateStateMachineDefinition(b.ctx, coverPassMachine)
	require.NoError(t, err)
	require.Equal(t, sfn.ValidateOutput{Result: "OK"}, out)

	out, err = b.e.ValidateStateMachineDefinition(b.ctx, `{"StartAt":`)
	require.NoError(t, err)
	require.Equal(t, "FAIL", out.Result)
	require.Len(t, out.Diagnostics, 1)
	require.Equal(t, "INVALID_JSON_DESCRIPTION", out.Diagnostics[0].Code)

	out, err = b.e.ValidateStateMachineDefinition(b.ctx, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:F",
	  "Retry":[{"ErrorEquals":[]}],"End":true}}}`)
	require.NoError(t, err)
	require.Equal(t, "FAIL", out.Result)
	require.NotEmpty(t, out.Diagnostics)
	var where []string
	for _, d := range out.Diagnostics {
		require.Equal(t, "ERROR", d.Severity)
		require.Equal(t, "SCHEMA_VALIDATION_FAILED", d.Code)
		where = append(where, d.Location)
	}
	require.Contains(t, where, "/States/T/Retry/0/ErrorEquals")
}

// TestExecutionRequests: the refusals of StartExecution, StartSyncExecution,
// Wait, ListExecutions and StopExecution, and what they return.
func TestExecutionRequests(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	ctx, e := b.ctx, b.e
	std := b.machine("std", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	exp, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "exp", Type: sfn.TypeExpress, Definition: `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":true},"End":true}}}`})
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		in   sfn.StartExecutionInput
		code string
	}{
		"bad json":      {sfn.StartExecutionInput{StateMachineARN: std, Input: `{`}, sfn.CodeInvalidExecutionInput},
		"bad utf-8":     {sfn.StartExecutionInput{StateMachineARN: std, Input: "\"\xff\""}, sfn.CodeInvalidExecutionInput},
		"too big":       {sfn.StartExecutionInput{StateMachineARN: std, Input: `"` + strings.Repeat("x", sfn.MaxPayloadBytes) + `"`}, sfn.CodeInvalidExecutionInput},
		"bad name":      {sfn.StartExecutionInput{StateMachineARN: std, Name: "a b"}, sfn.CodeInvalidName},
		"bad arn":       {sfn.StartExecutionInput{StateMachineARN: "std"}, sfn.CodeInvalidArn},
		"no machine":    {sfn.StartExecutionInput{StateMachineARN: std + "x"}, sfn.CodeStateMachineDoesNotExist},
		"trailing data": {sfn.StartExecutionInput{StateMachineARN: std, Input: `{} {}`}, sfn.CodeInvalidExecutionInput},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := e.StartExecution(ctx, tc.in)
			coverRequireCode(t, err, tc.code)
		})
	}

	// StartSyncExecution runs EXPRESS machines only.
	_, err = e.StartSyncExecution(ctx, sfn.StartExecutionInput{StateMachineARN: std})
	coverRequireCode(t, err, sfn.CodeStateMachineTypeNotSupport)
	_, err = e.StartSyncExecution(ctx, sfn.StartExecutionInput{StateMachineARN: std + "x"})
	coverRequireCode(t, err, sfn.CodeStateMachineDoesNotExist)
	_, err = e.StartSyncExecution(ctx, sfn.StartExecutionInput{StateMachineARN: exp.StateMachineARN, Input: `[`})
	coverRequireCode(t, err, sfn.CodeInvalidExecutionInput)
	sync, err := e.StartSyncExecution(ctx, sfn.StartExecutionInput{StateMachineARN: exp.StateMachineARN, Name: "once"})
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, sync.Status)
	require.JSONEq(t, `{"ok":true}`, sync.Output)

	// Wait.
	coverRequireCode(t, e.Wait(ctx, "arn:nope"), sfn.CodeInvalidArn)
	coverRequireCode(t, e.Wait(ctx, strings.Replace(sync.ExecutionARN, ":once", ":never", 1)), sfn.CodeExecutionDoesNotExist)

	// Stop: the running one is aborted with its error and cause; stopping
	// it again returns the same stop date.
	running := b.start(std, `{}`)
	_, err = e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: running, Error: strings.Repeat("e", 257)})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: "arn:nope"})
	coverRequireCode(t, err, sfn.CodeInvalidArn)
	_, err = e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: strings.Replace(running, ":std:", ":std:gone", 1)})
	coverRequireCode(t, err, sfn.CodeExecutionDoesNotExist)
	stopped, err := e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: running, Error: "Operator.Stop", Cause: "by hand"})
	require.NoError(t, err)
	require.False(t, stopped.IsZero())
	d := b.finish(running)
	require.Equal(t, sfn.StatusAborted, d.Status)
	require.Equal(t, "Operator.Stop", d.Error)
	require.Equal(t, "by hand", d.Cause)
	require.WithinDuration(t, stopped, d.StopDate, time.Millisecond, "the store keeps microseconds")
	again, err := e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: running})
	require.NoError(t, err)
	require.WithinDuration(t, stopped, again, time.Millisecond, "stopping a closed execution returns when it closed")
	require.Equal(t, "ExecutionAborted", b.events(running)[len(b.events(running))-1])

	// List, with a status filter.
	b.start(std, `{}`)
	_, err = e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: std, StatusFilter: "DONE"})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: "std"})
	coverRequireCode(t, err, sfn.CodeInvalidArn)
	_, err = e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: std, MaxResults: -1})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: std + "x"})
	coverRequireCode(t, err, sfn.CodeStateMachineDoesNotExist)
	list, err := e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: std, StatusFilter: sfn.StatusAborted})
	require.NoError(t, err)
	require.Len(t, list.Executions, 1)
	require.Equal(t, running, list.Executions[0].ExecutionARN)
	require.Empty(t, list.Executions[0].Input, "a listing leaves inputs out")
	list, err = e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: std})
	require.NoError(t, err)
	require.Len(t, list.Executions, 2)
}

// TestExecutionHistoryPages: a history reads in pages either way, and
// without its data on request.
func TestExecutionHistoryPages(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	b.fns.Register("Echo", func(_ context.Context, p json.RawMessage) (json.RawMessage, error) { return p, nil })
	d := b.run(`{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Result":{"secret":"s1"},"Next":"B"},
	  "B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Echo","Payload.$":"$"},"Next":"C"},
	  "C":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","End":true}}}`, `{"secret":"in"}`)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	arn := d.ExecutionARN
	all := b.events(arn)
	require.Equal(t, "ExecutionStarted", all[0])
	require.Equal(t, "ExecutionSucceeded", all[len(all)-1])

	var forward, backward []string
	next := ""
	for {
		h, err := b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 3, NextToken: next})
		require.NoError(t, err)
		require.LessOrEqual(t, len(h.Events), 3)
		for _, ev := range h.Events {
			forward = append(forward, ev.Type)
		}
		if next = h.NextToken; next == "" {
			break
		}
	}
	require.Equal(t, all, forward)
	h, err := b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, ReverseOrder: true})
	require.NoError(t, err)
	for _, ev := range h.Events {
		backward = append(backward, ev.Type)
	}
	slices.Reverse(backward)
	require.Equal(t, all, backward)

	_, err = b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, NextToken: "-1"})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 5000})
	coverRequireCode(t, err, sfn.CodeValidation)
	_, err = b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: "arn:nope"})
	coverRequireCode(t, err, sfn.CodeInvalidArn)

	full, err := json.Marshal(h.Events)
	require.NoError(t, err)
	require.Contains(t, string(full), "s1")
	require.Contains(t, string(full), `\"secret\":\"in\"`)
	bare, err := b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, ExcludeExecutionData: true})
	require.NoError(t, err)
	require.Len(t, bare.Events, len(all))
	raw, err := json.Marshal(bare.Events)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "secret", "no input, output or parameters are left")
	for _, ev := range bare.Events {
		if ev.StateEntered != nil {
			require.NotEmpty(t, ev.StateEntered.Name, "state names stay")
		}
	}
}

// TestEngineClosedOrNotStartedRefusesWork: an engine needs a store, and once closed
// it takes no new work.
func TestEngineClosedOrNotStartedRefusesWork(t *testing.T) {
	t.Parallel()
	_, err := engine.New(engine.Config{})
	require.ErrorContains(t, err, "Config.Store is required")

	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	ctx := t.Context()
	_, err = e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "early", Definition: coverPassMachine})
	coverRequireCode(t, err, sfn.CodeServiceUnavailable)
	require.NoError(t, e.Start(ctx))
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "m", Definition: coverPassMachine})
	require.NoError(t, err)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "closing twice is no error")
	_, err = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN})
	coverRequireCode(t, err, sfn.CodeServiceUnavailable)
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm.StateMachineARN, Definition: new(coverPassMachine)})
	coverRequireCode(t, err, sfn.CodeServiceUnavailable)
	coverRequireCode(t, e.DeleteStateMachine(ctx, sm.StateMachineARN), sfn.CodeServiceUnavailable)
	_, err = e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: sm.StateMachineARN})
	coverRequireCode(t, err, sfn.CodeServiceUnavailable)
	coverRequireCode(t, e.SendTaskHeartbeat(ctx, "t"), sfn.CodeServiceUnavailable)
}
