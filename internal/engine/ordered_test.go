package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestResumedExecutionKeepsMemberOrder: an execution resumed from its
// history by a new engine keeps the order of the members of its input,
// its variables and its task's parameters, as one engine does.
func TestResumedExecutionKeepsMemberOrder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := engine.NewMemoryStore()
	const machine = `{"StartAt":"Keep","States":{
	  "Keep":{"Type":"Pass","Assign":{"kept.$":"$.order"},"Next":"Hold"},
	  "Hold":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"Hold","Payload":{"Token.$":"$$.Task.Token","Item":{"z":1,"a":2}}},
	  "ResultPath":"$.result","Next":"Vars"},
	  "Vars":{"Type":"Pass","Parameters":{"kept.$":"$kept"},"ResultPath":"$.vars","End":true}}}`

	fns1 := &engine.FunctionRegistry{}
	h1 := newCoverHolder(fns1)
	e1, err := engine.New(engine.Config{Store: store, Functions: fns1})
	require.NoError(t, err)
	require.NoError(t, e1.Start(ctx))
	sm, err := e1.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "order", Definition: machine})
	require.NoError(t, err)
	st, err := e1.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "one",
		Input: `{"zebra":{"y":1,"x":2},"order":{"second":2,"first":1}}`})
	require.NoError(t, err)
	h1.await(t, `{"z":1,"a":2}`)
	require.NoError(t, e1.Close())

	fns2 := &engine.FunctionRegistry{}
	h2 := newCoverHolder(fns2)
	e2, err := engine.New(engine.Config{Store: store, Functions: fns2})
	require.NoError(t, err)
	require.NoError(t, e2.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e2.Close()) })
	tokens := h2.await(t, `{"z":1,"a":2}`)
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: tokens[`{"z":1,"a":2}`], Output: `{"b":1,"a":0}`}))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, e2.Wait(wctx, st.ExecutionARN))
	d, err := e2.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.Equal(t, `{"zebra":{"y":1,"x":2},"order":{"second":2,"first":1},"result":{"b":1,"a":0},"vars":{"kept":{"second":2,"first":1}}}`, d.Output)
}
