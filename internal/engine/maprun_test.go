package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestMapRunSurvivesARestart: a Map Run changed by UpdateMapRun keeps its
// settings when a new engine resumes its execution, and an engine that
// only reads the store describes it once it ended.
func TestMapRunSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := engine.NewMemoryStore()
	const machine = `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,
	  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"H","States":{"H":{
	    "Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	    "Parameters":{"FunctionName":"Hold","Payload":{"Item.$":"$","Token.$":"$$.Task.Token"}},"End":true}}},"End":true}}}`

	fns1 := &engine.FunctionRegistry{}
	h1 := newCoverHolder(fns1)
	e1, err := engine.New(engine.Config{Store: store, Functions: fns1})
	require.NoError(t, err)
	require.NoError(t, e1.Start(ctx))
	sm, err := e1.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "runs", Definition: machine})
	require.NoError(t, err)
	st, err := e1.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "one", Input: `{"items":[1,2]}`})
	require.NoError(t, err)
	h1.await(t, "1")
	runs, err := e1.ListMapRuns(ctx, sfn.ListMapRunsInput{ExecutionARN: st.ExecutionARN})
	require.NoError(t, err)
	require.Len(t, runs.MapRuns, 1)
	run := runs.MapRuns[0].MapRunARN
	require.NoError(t, e1.UpdateMapRun(ctx, sfn.UpdateMapRunInput{MapRunARN: run, MaxConcurrency: new(0), ToleratedFailureCount: new(1)}))
	h1.await(t, "2")
	require.NoError(t, e1.Close())

	fns2 := &engine.FunctionRegistry{}
	h2 := newCoverHolder(fns2)
	e2, err := engine.New(engine.Config{Store: store, Functions: fns2})
	require.NoError(t, err)
	require.NoError(t, e2.Start(ctx))
	tokens := h2.await(t, "1", "2")
	d, err := e2.DescribeMapRun(ctx, run)
	require.NoError(t, err)
	require.Equal(t, 0, d.MaxConcurrency)
	require.Equal(t, 1, d.ToleratedFailureCount)
	require.Equal(t, 2, d.ItemCounts.Running)
	require.NoError(t, e2.SendTaskFailure(ctx, sfn.SendTaskFailureInput{TaskToken: tokens["1"], Error: "Item.Failed"}))
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: tokens["2"], Output: `{}`}))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, e2.Wait(wctx, st.ExecutionARN))
	x, err := e2.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, x.Status, "the tolerance UpdateMapRun set survived: %s %s", x.Error, x.Cause)
	require.NoError(t, e2.Close())

	e3, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e3.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e3.Close()) })
	d, err = e3.DescribeMapRun(ctx, run)
	require.NoError(t, err)
	require.Equal(t, sfn.MapRunSucceeded, d.Status)
	require.Equal(t, sfn.MapRunCounts{Succeeded: 1, Failed: 1, Total: 2}, d.ItemCounts)
}
