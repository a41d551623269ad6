package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// The redrive tests that need time (the 14-day window, the state
// machine's timeout started again) run in synctest bubbles; the rest of
// redrive is in the conformance checks (enginetest/redrive.go).

func redriveDescribe(t *testing.T, e *engine.Engine, arn string) sfn.Execution {
	t.Helper()
	d, err := e.DescribeExecution(t.Context(), arn)
	require.NoError(t, err)
	return d
}

// TestRedriveWindow: RedriveExecution API reference, "Your workflow
// execution has not exceeded the redrivable period of 14 days ... This
// period starts from the day a state machine completes its execution."
func TestRedriveWindow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom"}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))

		time.Sleep(sfn.RedrivePeriod - time.Second)
		synctest.Wait()
		d := redriveDescribe(t, e, x.ExecutionARN)
		require.Equal(t, sfn.RedriveStatusRedrivable, d.RedriveStatus)
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err, "a second before the period ends")
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		d = redriveDescribe(t, e, x.ExecutionARN)
		require.Equal(t, sfn.StatusFailed, d.Status, "the Fail state fails again")
		require.Equal(t, 1, d.RedriveCount)

		time.Sleep(sfn.RedrivePeriod + time.Second)
		synctest.Wait()
		d = redriveDescribe(t, e, x.ExecutionARN)
		require.Equal(t, sfn.RedriveStatusNotRedrivable, d.RedriveStatus)
		require.Equal(t, sfn.RedriveReasonPeriod, d.RedriveStatusReason)
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		requireCode(t, err, sfn.CodeExecutionNotRedrivable)
	})
}

// TestRedriveStartsTheTimeoutAgain: developer guide, "When you redrive an
// execution, the state machine level timeout, if defined, is reset to 0."
func TestRedriveStartsTheTimeoutAgain(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","TimeoutSeconds":60,"States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		require.Equal(t, sfn.StatusTimedOut, redriveDescribe(t, e, x.ExecutionARN).Status)

		time.Sleep(time.Hour)
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err)
		time.Sleep(59 * time.Second)
		synctest.Wait()
		require.Equal(t, sfn.StatusRunning, redriveDescribe(t, e, x.ExecutionARN).Status, "60 seconds from the redrive, not from the start")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		d := redriveDescribe(t, e, x.ExecutionARN)
		require.Equal(t, sfn.StatusTimedOut, d.Status)
		require.Equal(t, "States.Timeout", d.Error)
	})
}

// TestRedriveContextAndExpress: $$.Execution.RedriveCount and
// RedriveTime in the context object of a redriven execution; an EXPRESS
// state machine's executions are not redrivable ("This API action is not
// supported by EXPRESS state machines").
func TestRedriveContextAndExpress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fns := &engine.FunctionRegistry{}
		var calls atomic.Int32
		fns.Register("Once", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			if calls.Add(1) == 1 {
				return nil, &engine.FunctionError{Type: "Once.Error", Message: "first call"}
			}
			return json.RawMessage(`{}`), nil
		})
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore(), Functions: fns})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"T","States":{
			"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Once","Next":"P"},
			"P":{"Type":"Pass","Parameters":{"count.$":"$$.Execution.RedriveCount","time.$":"$$.Execution.RedriveTime"},"End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		time.Sleep(time.Minute)
		out, err := e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		d := redriveDescribe(t, e, x.ExecutionARN)
		require.Equal(t, sfn.StatusSucceeded, d.Status, d.Cause)
		require.JSONEq(t, `{"count":1,"time":"`+out.RedriveDate.UTC().Format("2006-01-02T15:04:05.000Z")+`"}`, d.Output)

		express := createMachine(t, e, sfn.TypeExpress, `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom"}}}`)
		y, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: express})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), y.ExecutionARN))
		dy := redriveDescribe(t, e, y.ExecutionARN)
		require.Equal(t, sfn.StatusFailed, dy.Status)
		require.Empty(t, dy.RedriveStatus, "an EXPRESS execution has no redrive status")
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: y.ExecutionARN})
		requireCode(t, err, sfn.CodeExecutionNotRedrivable)
	})
}

// TestRedriveLimits: the RedriveExecution API reference's other limits:
// "The workflow execution has not exceeded the maximum open time of one
// year", "The execution event history count is less than 24,999", and
// client tokens "valid for up to 15 minutes after they are first used".
func TestRedriveLimits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
		long := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":40000000,"End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: long, Name: "long"})
		require.NoError(t, err)
		time.Sleep(sfn.RedriveMaxOpenTime + time.Hour)
		_, err = e.StopExecution(t.Context(), sfn.StopExecutionInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		require.Equal(t, sfn.RedriveReasonMaxTime, redriveDescribe(t, e, x.ExecutionARN).RedriveStatusReason)
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		requireCode(t, err, sfn.CodeExecutionNotRedrivable)

		loop, err := e.CreateStateMachine(t.Context(), sfn.CreateStateMachineInput{Name: "loop", Definition: `{"StartAt":"W","States":{
			"W":{"Type":"Wait","Seconds":0,"Next":"C"},
			"C":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"W"},
			"Done":{"Type":"Succeed"}}}`})
		require.NoError(t, err)
		y, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: loop.StateMachineARN, Name: "loop"})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), y.ExecutionARN))
		d := redriveDescribe(t, e, y.ExecutionARN)
		require.Equal(t, sfn.StatusFailed, d.Status, "the engine fails an execution at 25,000 events")
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: y.ExecutionARN})
		requireCode(t, err, sfn.CodeExecutionNotRedrivable)
		require.ErrorContains(t, err, sfn.RedriveReasonEventLimit)

		fail, err := e.CreateStateMachine(t.Context(), sfn.CreateStateMachineInput{Name: "fail", Definition: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom"}}}`})
		require.NoError(t, err)
		z, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: fail.StateMachineARN, Name: "fail"})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), z.ExecutionARN))
		first, err := e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: z.ExecutionARN, ClientToken: "t"})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), z.ExecutionARN))
		time.Sleep(sfn.RedriveClientTokenLifetime - time.Second)
		again, err := e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: z.ExecutionARN, ClientToken: "t"})
		require.NoError(t, err)
		require.Equal(t, first.RedriveDate, again.RedriveDate, "within 15 minutes the token answers the same redrive")
		require.Equal(t, 1, redriveDescribe(t, e, z.ExecutionARN).RedriveCount)
		time.Sleep(2 * time.Second)
		later, err := e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: z.ExecutionARN, ClientToken: "t"})
		require.NoError(t, err)
		require.True(t, later.RedriveDate.After(first.RedriveDate), "after 15 minutes the token makes a new redrive")
		require.NoError(t, e.Wait(t.Context(), z.ExecutionARN))
		require.Equal(t, 2, redriveDescribe(t, e, z.ExecutionARN).RedriveCount)
	})
}

// TestStopAndRedriveWhileAnEarlierTransitionIsRetried: while the store
// fails on a transition of an execution (its TaskSubmitted), a stop queued
// behind it is answered ServiceUnavailable after a second, as every write
// is during an outage, and so is a redrive of the stopped execution whose
// end is not written; once the store is back both are written in order.
func TestStopAndRedriveWhileAnEarlierTransitionIsRetried(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &outageStore{Store: engine.NewMemoryStore()}
		var sends atomic.Int32
		queues := senderFunc(func(context.Context, sfn.SendMessageParams) (string, error) {
			if sends.Add(1) == 1 {
				store.down.Store(true) // the TaskSubmitted of the first send is not written
			}
			return "m-1", nil
		})
		e := startEngine(t, engine.Config{Store: store, Queues: queues})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"Q","States":{"Q":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters":{"QueueUrl":"http://sqs.us-east-1.localhost/123456789012/q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		synctest.Wait()
		require.True(t, store.down.Load())

		_, err = e.StopExecution(t.Context(), sfn.StopExecutionInput{ExecutionARN: x.ExecutionARN})
		requireCode(t, err, sfn.CodeServiceUnavailable)
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		requireCode(t, err, sfn.CodeServiceUnavailable)

		store.down.Store(false)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		require.Equal(t, sfn.StatusAborted, redriveDescribe(t, e, x.ExecutionARN).Status)
		require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "ExecutionAborted"},
			historyTypes(t, e, x.ExecutionARN))
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err, "once its end is written")
	})
}

// TestRedriveWithoutAHalt: an execution whose failure replaced a
// transition too large to store kept no state to resume from (like one
// closed before the engine kept it): ExecutionNotRedrivable.
func TestRedriveWithoutAHalt(t *testing.T) {
	t.Parallel()
	e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
	arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items",
		"ItemSelector":{"big.$":"$.big"},"ItemProcessor":{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":60,"End":true}}},"End":true}}}`)
	x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn,
		Input: `{"items":[1,2,3,4,5,6,7,8,9,10],"big":"` + strings.Repeat("x", 200_000) + `"}`})
	require.NoError(t, err)
	require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
	require.Equal(t, "States.DataLimitExceeded", redriveDescribe(t, e, x.ExecutionARN).Error)
	_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
	requireCode(t, err, sfn.CodeExecutionNotRedrivable)
	require.ErrorContains(t, err, "kept no state to resume it from")
}
