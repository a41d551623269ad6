package enginestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestRedriveIsDurable redrives, on a new engine, an execution another
// engine failed, closes that engine while the redriven execution waits
// for a task, and finishes it on a third: each engine reads what the
// redrive resumes from, and the redrive itself, from PostgreSQL.
func TestRedriveIsDurable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t) // its own database: the engine resumes what it finds open
	type task struct {
		Token string
		Item  json.Number
	}
	tasks := make(chan task, 8)
	queues := queueFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
		var body task
		if err := json.Unmarshal([]byte(p.Body), &body); err != nil {
			return "", err
		}
		tasks <- body
		return "msg", nil
	})
	next := func(item string) string {
		t.Helper()
		tk := <-tasks
		require.Equal(t, item, tk.Item.String(), "the task of item %s", item)
		return tk.Token
	}
	newEngine := func() *engine.Engine {
		e, err := engine.New(engine.Config{Store: store, Queues: queues})
		require.NoError(t, err)
		require.NoError(t, e.Start(ctx))
		return e
	}

	a := newEngine()
	sm, err := a.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: fmt.Sprintf("redrive-%d", seq.Add(1)),
		Definition: `{"StartAt":"Each","States":{"Each":{"Type":"Map","MaxConcurrency":1,"ItemsPath":"$.items","End":true,
			"ItemProcessor":{"StartAt":"Pre","States":{
				"Pre":{"Type":"Pass","Parameters":{"item.$":"$"},"Next":"T"},
				"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true,
					"Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/work","MessageBody":{"token.$":"$$.Task.Token","item.$":"$.item"}}}}}}}}`})
	require.NoError(t, err)
	x, err := a.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "once", Input: `{"items":[1,2,3]}`})
	require.NoError(t, err)
	require.NoError(t, a.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: next("1"), Output: `{"ok":1}`}))
	require.NoError(t, a.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: next("2"), Error: "Item.Error"}))
	require.NoError(t, a.Wait(ctx, x.ExecutionARN))
	d, err := a.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.NoError(t, a.Close())

	b := newEngine()
	out, err := b.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN, ClientToken: "once"})
	require.NoError(t, err)
	next("2") // the failed iteration carries on at its task
	d, err = b.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusRunning, d.Status)
	require.NoError(t, b.Close())

	c := newEngine()
	d, err = c.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusRunning, d.Status)
	require.Equal(t, 1, d.RedriveCount)
	require.WithinDuration(t, out.RedriveDate, d.RedriveDate, time.Microsecond, "the redrive date as stored (microseconds)")
	again, err := c.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN, ClientToken: "once"})
	require.NoError(t, err, "the client token of the redrive, after a restart")
	require.True(t, out.RedriveDate.Equal(again.RedriveDate))
	require.NoError(t, c.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: next("2"), Output: `{"ok":2}`}))
	require.NoError(t, c.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: next("3"), Output: `{"ok":3}`}))
	require.NoError(t, c.Wait(ctx, x.ExecutionARN))
	d, err = c.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, "error %q cause %q", d.Error, d.Cause)
	require.JSONEq(t, `[{"ok":1},{"ok":2},{"ok":3}]`, d.Output)
	require.Equal(t, 1, d.RedriveCount)

	h, err := c.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: x.ExecutionARN, MaxResults: 1000})
	require.NoError(t, err)
	entered := 0
	for _, ev := range h.Events {
		if ev.Type == "PassStateEntered" {
			entered++
		}
	}
	require.Equal(t, 3, entered, "each item's first state ran once")
	list, err := c.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: sm.StateMachineARN, RedriveFilter: sfn.RedriveFilterRedriven})
	require.NoError(t, err)
	require.Len(t, list.Executions, 1)
	require.Equal(t, 1, list.Executions[0].RedriveCount)
	list, err = c.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: sm.StateMachineARN, RedriveFilter: sfn.RedriveFilterNotRedriven})
	require.NoError(t, err)
	require.Empty(t, list.Executions)
	require.NoError(t, c.Close())
	require.Empty(t, tasks, "nothing is sent twice")
}
