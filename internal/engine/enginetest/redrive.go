package enginetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The redrive checks, from the AWS Step Functions documentation: the
// RedriveExecution API reference and the developer guide's "Redriving
// executions" (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html).
func init() {
	checks = append(checks, redriveChecks...)
}

// lambdaTask is a Task state that invokes function fn with the state's
// input and takes its payload as the result at resultPath.
func lambdaTask(fn, resultPath, next string, retry string) string {
	end := `"End":true`
	if next != "" {
		end = fmt.Sprintf(`"Next":%q`, next)
	}
	if retry != "" {
		retry = `"Retry":` + retry + `,`
	}
	return fmt.Sprintf(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":%q,"Payload.$":"$"},"ResultSelector":{"v.$":"$.Payload"},
		"ResultPath":%q,%s%s}`, fn, resultPath, retry, end)
}

// redrive redrives an execution and returns its redrive date.
func (b *bundle) redrive(arn, token string) sfn.RedriveExecutionOutput {
	b.t.Helper()
	out, err := b.h.Service.RedriveExecution(b.ctx, sfn.RedriveExecutionInput{ExecutionARN: arn, ClientToken: token})
	require.NoError(b.t, err, "redriving %s", arn)
	require.False(b.t, out.RedriveDate.IsZero(), "the redrive date")
	return out
}

// after returns the event types after the last one of type typ.
func after(types []string, typ string) []string {
	i := slices.Index(types, typ)
	if i < 0 {
		return nil
	}
	return types[i+1:]
}

func count(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

var redriveChecks = []check{
	{"RedriveResumesFromTheFailedTask", func(t *testing.T, h Harness) {
		// Developer guide: "say that your workflow contains two states: a
		// Pass state followed by a Task state. If your workflow execution
		// fails at the Task state, and you redrive the execution, the
		// execution reschedules and then reruns the Task state." The
		// successful steps are not rerun, the input is the same, the
		// retriers start again from 0, and $$.Execution.RedriveCount
		// counts the redrives.
		b := setup(t, h)
		b.registerFunction("Flaky", []FunctionReply{
			{Error: "Flaky.Error", Cause: "first"}, {Error: "Flaky.Error", Cause: "second"},
			{Error: "Flaky.Error", Cause: "third"}, {Return: json.RawMessage(`{"ok":true}`)},
		})
		def := `{"StartAt":"Prepare","States":{
			"Prepare":{"Type":"Pass","Result":{"prepared":true},"ResultPath":"$.prep","Next":"Call"},
			"Call":` + lambdaTask("Flaky", "$.call", "Count", `[{"ErrorEquals":["Flaky.Error"],"MaxAttempts":1,"IntervalSeconds":1}]`) + `,
			"Count":{"Type":"Pass","Parameters":{"redriveCount.$":"$$.Execution.RedriveCount","prep.$":"$.prep","call.$":"$.call","n.$":"$.n"},"End":true}}}`
		sm, _ := b.createStateMachine("redrive-task", def, "")
		arn := b.start(sm, "task", `{"n":7}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "Flaky.Error", x.Error)
		require.Equal(t, 0, x.RedriveCount)
		require.True(t, x.RedriveDate.IsZero())
		require.Equal(t, sfn.RedriveStatusRedrivable, x.RedriveStatus)

		out := b.redrive(arn, "")
		x = b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status, "error %q cause %q", x.Error, x.Cause)
		require.JSONEq(t, `{"redriveCount":1,"prep":{"prepared":true},"call":{"v":{"ok":true}},"n":7}`, x.Output)
		require.Equal(t, 1, x.RedriveCount)
		require.WithinDuration(t, out.RedriveDate, x.RedriveDate, time.Millisecond, "DescribeExecution's redriveDate is RedriveExecution's (stores and the wire keep milliseconds)")
		require.Equal(t, sfn.RedriveStatusNotRedrivable, x.RedriveStatus)
		require.Equal(t, sfn.RedriveReasonSucceeded, x.RedriveStatusReason)

		events := b.history(arn, false, 0)
		types := make([]string, len(events))
		for i, e := range events {
			types[i] = e.Type
		}
		require.Equal(t, []string{"TaskScheduled", "TaskStarted", "TaskFailed", "TaskScheduled", "TaskStarted", "TaskSucceeded",
			"TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}, after(types, "ExecutionRedriven"),
			"the history after the redrive: the Task again, retried, never the Pass state before it")
		require.Equal(t, "ExecutionFailed", types[slices.Index(types, "ExecutionRedriven")-1])
		for _, e := range events {
			if e.Type == "ExecutionRedriven" {
				require.NotNil(t, e.ExecutionRedriven, "executionRedrivenEventDetails")
				require.Equal(t, 1, e.ExecutionRedriven.RedriveCount)
				require.Equal(t, e.ID-1, e.PreviousEventID)
			}
		}
		b.requireNoWorkerErrors()
	}},
	{"RedriveMapRerunsOnlyFailedIterations", func(t *testing.T, h Harness) {
		// RedriveExecution API reference: "For workflows that include an
		// Inline Map or Parallel state, RedriveExecution API action
		// reschedules and redrives only the iterations and branches that
		// failed or aborted." An iteration that failed carries on from its
		// failed state; one never started starts.
		b := setup(t, h)
		b.registerFunction("Item", []FunctionReply{
			{Return: json.RawMessage(`"$input"`)}, {Error: "Item.Error"}, {Return: json.RawMessage(`"$input"`)},
		})
		def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","MaxConcurrency":1,"ItemsPath":"$.items",
			"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Pre","States":{
				"Pre":{"Type":"Pass","Parameters":{"item.$":"$"},"Next":"Call"},
				"Call":` + lambdaTask("Item", "$.out", "", "") + `}},"End":true}}}`
		sm, _ := b.createStateMachine("redrive-map", def, "")
		arn := b.start(sm, "map", `{"items":[1,2,3]}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "Item.Error", x.Error)

		b.redrive(arn, "")
		x = b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status, "error %q cause %q", x.Error, x.Cause)
		require.JSONEq(t, `[{"item":1,"out":{"v":{"item":1}}},{"item":2,"out":{"v":{"item":2}}},{"item":3,"out":{"v":{"item":3}}}]`, x.Output)
		types := b.eventTypes(arn)
		require.Equal(t, 3, count(types, "TaskSucceeded"), "each item's task succeeded once: the first is not run again")
		require.Equal(t, 3, count(types, "PassStateEntered"), "the failed iteration resumed at its Task, not at its first state")
		tail := after(types, "ExecutionRedriven")
		require.Equal(t, 2, count(tail, "MapIterationStarted"), "the redrive runs the failed iteration and the one never started: %v", tail)
		require.Equal(t, "ExecutionSucceeded", tail[len(tail)-1])
		b.requireNoWorkerErrors()
	}},
	{"RedriveParallelRerunsOnlyFailedBranches", func(t *testing.T, h Harness) {
		b := setup(t, h)
		b.registerFunction("Branch", []FunctionReply{{Error: "Branch.Error"}, {Return: json.RawMessage(`{"b":true}`)}})
		def := `{"StartAt":"Both","States":{"Both":{"Type":"Parallel","End":true,"Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"a":true},"End":true}}},
			{"StartAt":"B","States":{"B":` + lambdaTask("Branch", "$", "", "") + `}}]}}}`
		sm, _ := b.createStateMachine("redrive-parallel", def, "")
		arn := b.start(sm, "parallel", `{}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "Branch.Error", x.Error)

		b.redrive(arn, "")
		x = b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status, "error %q cause %q", x.Error, x.Cause)
		require.JSONEq(t, `[{"a":true},{"v":{"b":true}}]`, x.Output)
		tail := after(b.eventTypes(arn), "ExecutionRedriven")
		require.Equal(t, 0, count(tail, "PassStateEntered"), "the branch that succeeded is not run again: %v", tail)
		require.Equal(t, 1, count(tail, "TaskScheduled"), "the failed branch runs again: %v", tail)
		b.requireNoWorkerErrors()
	}},
	{"RedriveAbortedCallbackTaskAndClientToken", func(t *testing.T, h Harness) {
		// An ABORTED execution can be redriven; its task is scheduled
		// again with a new token, the old one is closed. The client
		// token: "The API will return idempotent responses for the last
		// 10 client tokens used to successfully redrive the execution."
		b := setup(t, h)
		ch := b.tokens()
		sm, _ := b.createStateMachine("redrive-aborted", callback(3600), "")
		arn := b.start(sm, "aborted", `{}`)
		old := b.receiveToken(ch)
		_, err := h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: arn, Error: "Conformance.Stop"})
		require.NoError(t, err)
		require.Equal(t, sfn.StatusAborted, b.waitClosed(arn).Status)

		first := b.redrive(arn, "token-1")
		again := b.redrive(arn, "token-1")
		require.WithinDuration(t, first.RedriveDate, again.RedriveDate, time.Millisecond, "the same client token answers the same redrive")
		_, err = h.Service.RedriveExecution(b.ctx, sfn.RedriveExecutionInput{ExecutionARN: arn, ClientToken: "token-2"})
		requireAPIError(t, err, sfn.CodeExecutionNotRedrivable)
		x, err := h.Service.DescribeExecution(b.ctx, arn)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusRunning, x.Status)
		require.True(t, x.StopDate.IsZero(), "a redriven execution has no stop date while it runs")
		require.Empty(t, x.Error)
		require.Equal(t, sfn.RedriveReasonRunning, x.RedriveStatusReason)

		tok := b.receiveToken(ch)
		require.NotEqual(t, old, tok, "the task is scheduled again with a new token")
		err = h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: old, Output: `{}`})
		requireAPIError(t, err, sfn.CodeTaskTimedOut)
		require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `{"done":true}`}))
		x = b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status)
		require.JSONEq(t, `{"done":true}`, x.Output)
		b.requireNoWorkerErrors()
	}},
	{"RedriveErrorsAndFilter", func(t *testing.T, h Harness) {
		// RedriveExecution errors: ExecutionDoesNotExist, InvalidArn,
		// ExecutionNotRedrivable for a RUNNING or SUCCEEDED execution;
		// ListExecutions' redriveFilter.
		b := setup(t, h)
		sm, _ := b.createStateMachine("redrive-errors", waitIfAsked, "")
		done := b.start(sm, "done", `{"wait":false}`)
		running := b.start(sm, "running", `{"wait":true}`)
		require.Equal(t, sfn.StatusSucceeded, b.waitClosed(done).Status)
		_, err := h.Service.RedriveExecution(b.ctx, sfn.RedriveExecutionInput{ExecutionARN: done})
		requireAPIError(t, err, sfn.CodeExecutionNotRedrivable)
		_, err = h.Service.RedriveExecution(b.ctx, sfn.RedriveExecutionInput{ExecutionARN: running})
		requireAPIError(t, err, sfn.CodeExecutionNotRedrivable)
		_, err = h.Service.RedriveExecution(b.ctx, sfn.RedriveExecutionInput{ExecutionARN: strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":never"})
		requireAPIError(t, err, sfn.CodeExecutionDoesNotExist)
		_, err = h.Service.RedriveExecution(b.ctx, sfn.RedriveExecutionInput{ExecutionARN: "not-an-arn"})
		requireAPIError(t, err, sfn.CodeInvalidArn)

		_, err = h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: running})
		require.NoError(t, err)
		require.Equal(t, sfn.StatusAborted, b.waitClosed(running).Status)
		b.redrive(running, "")
		names := func(f sfn.RedriveFilter) []string {
			page, err := h.Service.ListExecutions(b.ctx, sfn.ListExecutionsInput{StateMachineARN: sm, RedriveFilter: f})
			require.NoError(t, err)
			var out []string
			for _, x := range page.Executions {
				out = append(out, x.Name)
				if x.Name == "running" {
					require.Equal(t, 1, x.RedriveCount, "ListExecutions' redriveCount")
					require.False(t, x.RedriveDate.IsZero(), "ListExecutions' redriveDate")
				}
			}
			return out
		}
		require.Equal(t, []string{"running"}, names(sfn.RedriveFilterRedriven))
		require.Equal(t, []string{"done"}, names(sfn.RedriveFilterNotRedriven))
		require.ElementsMatch(t, []string{"running", "done"}, names(""))
		_, err = h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: running})
		require.NoError(t, err)
	}},
}
