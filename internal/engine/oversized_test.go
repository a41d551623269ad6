package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestTransitionTooLargeToStore: ten Map iterations of 200 KB inputs start
// in one transition, two megabytes of history at once; the execution
// fails with States.DataLimitExceeded instead of the writer retrying
// forever, and its history ends with that failure.
func TestTransitionTooLargeToStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	def := `{"StartAt":"Before","States":{
	 "Before":{"Type":"Pass","ResultPath":"$.before","Result":1,"Next":"Each"},
	 "Each":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"big.$":"$.big","i.$":"$$.Map.Item.Value"},
	  "ItemProcessor":{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":60,"End":true}}},"End":true}}}`
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "big", Definition: def})
	require.NoError(t, err)
	input := `{"items":[1,2,3,4,5,6,7,8,9,10],"big":"` + strings.Repeat("x", 200_000) + `"}`
	st, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: input})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, st.ExecutionARN))
	d, err := e.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.Equal(t, "States.DataLimitExceeded", d.Error)
	require.Contains(t, d.Cause, "bytes of history")
	h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: st.ExecutionARN, MaxResults: 1000})
	require.NoError(t, err)
	var types []string
	for i, ev := range h.Events {
		require.EqualValues(t, i+1, ev.ID, "event ids run 1..n")
		types = append(types, ev.Type)
	}
	// The first transition ran from the start through Before to the Map;
	// none of it is kept but the start.
	require.Equal(t, []string{"ExecutionStarted", "ExecutionFailed"}, types)

	// The engine goes on: another execution of a small input succeeds.
	st, err = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"items":[],"big":""}`})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, st.ExecutionARN))
	d, err = e.DescribeExecution(ctx, st.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Cause)
}
