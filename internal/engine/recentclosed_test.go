package engine_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestDescribingAJustClosedExecutionReadsNoStore: an execution described
// just after it closed is described from what the engine wrote, not read
// back from the store, and alike (another engine on the store, which
// keeps nothing of it, reads it); after a redrive and its second close,
// the new record is the one described.
func TestDescribingAJustClosedExecutionReadsNoStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fns := &engine.FunctionRegistry{}
	var calls atomic.Int32
	fns.Register("Once", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		if calls.Add(1) == 1 {
			return nil, &engine.FunctionError{Type: "Once.Error", Message: "first call"}
		}
		return json.RawMessage(`{"done":true}`), nil
	})
	store := &readCountingStore{Store: engine.NewMemoryStore()}
	e, err := engine.New(engine.Config{Store: store, Functions: fns})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "closed", Definition: `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Once","End":true}}}`})
	require.NoError(t, err)
	// Started before the execution: it knows the machine and runs nothing.
	reader, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, reader.Start(ctx))
	defer reader.Close()
	x, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "once", Input: `{"n":1}`})
	require.NoError(t, err)

	describeBoth := func() sfn.Execution {
		t.Helper()
		require.NoError(t, e.Wait(ctx, x.ExecutionARN))
		before := store.count()
		d, err := e.DescribeExecution(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, before, store.count(), "no read")
		read, err := reader.DescribeExecution(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, before+1, store.count(), "the other engine reads")
		require.Equal(t, read, d, "described as the store gives it back")
		return d
	}
	d := describeBoth()
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.Equal(t, "Once.Error", d.Error)
	require.Zero(t, d.RedriveCount)

	_, err = e.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
	require.NoError(t, err)
	d = describeBoth()
	require.Equal(t, sfn.StatusSucceeded, d.Status)
	require.Equal(t, `{"done":true}`, d.Output)
	require.Equal(t, 1, d.RedriveCount)
}
