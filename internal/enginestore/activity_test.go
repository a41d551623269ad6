package enginestore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestActivitiesSurviveARestart: on PostgreSQL an activity outlives its
// engine, and a task scheduled on it before a restart is offered to a
// worker by the next engine.
func TestActivitiesSurviveARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t) // its own database: the engine resumes what it finds open

	e1, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e1.Start(ctx))
	act, err := e1.CreateActivity(ctx, sfn.CreateActivityInput{Name: "review"})
	require.NoError(t, err)
	sm, err := e1.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "reviewed",
		Definition: `{"StartAt":"Review","States":{"Review":{"Type":"Task","Resource":"` + act.ActivityARN + `","End":true}}}`})
	require.NoError(t, err)
	st, err := e1.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "one", Input: `{"doc":7}`})
	require.NoError(t, err)
	require.NoError(t, e1.Close())

	e2, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e2.Start(ctx))
	t.Cleanup(func() { _ = e2.Close() })
	d, err := e2.DescribeActivity(ctx, act.ActivityARN)
	require.NoError(t, err)
	require.Equal(t, "review", d.Name)
	require.Equal(t, act.CreationDate, d.CreationDate)
	task, err := e2.GetActivityTask(ctx, sfn.GetActivityTaskInput{ActivityARN: act.ActivityARN, WorkerName: "w2"})
	require.NoError(t, err)
	require.Equal(t, `{"doc":7}`, task.Input)
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: `{"ok":true}`}))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, e2.Wait(wctx, st.ExecutionARN))
	x, err := e2.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, x.Status)
	require.Equal(t, `{"ok":true}`, x.Output)

	require.NoError(t, e2.DeleteActivity(ctx, act.ActivityARN))
	list, err := e2.ListActivities(ctx, sfn.ListActivitiesInput{})
	require.NoError(t, err)
	require.Empty(t, list.Activities)
}
