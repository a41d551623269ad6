package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestEveryKindOfStateInOneExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fns := &engine.FunctionRegistry{}
	fns.Register("Echo", func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) { return p, nil })
	n := 0
	fns.Register("Flaky", func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) {
		n++
		if n < 3 {
			return nil, &engine.FunctionError{Type: "Boom", Message: "x"}
		}
		return json.RawMessage(`{"ok":true}`), nil
	})
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Functions: fns})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	def := `{"StartAt":"A","States":{
	 "A":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.a","Next":"B"},
	 "B":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","ResultPath":"$.b","Next":"F"},
	 "F":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Flaky","Payload.$":"$"},"Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":1,"BackoffRate":1}],"ResultSelector":{"p.$":"$.Payload"},"ResultPath":"$.f","Next":"P"},
	 "P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},{"StartAt":"Y","States":{"Y":{"Type":"Pass","Result":2,"End":true}}}],"ResultPath":"$.p","Next":"M"},
	 "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Z","States":{"Z":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","End":true}}},"ResultPath":"$.m","End":true}}}`
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "smoke", Definition: def})
	require.NoError(t, err)
	st, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"items":[1,2,3]}`})
	require.NoError(t, err)
	var d sfn.Execution
	require.Eventually(t, func() bool {
		d, err = e.DescribeExecution(ctx, st.ExecutionARN)
		require.NoError(t, err)
		return d.Status != sfn.StatusRunning
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"a":{"x":1},"b":{"a":{"x":1},"items":[1,2,3]},"f":{"p":{"ok":true}},"items":[1,2,3],"m":[1,2,3],"p":[{"a":{"x":1},"b":{"a":{"x":1},"items":[1,2,3]},"f":{"p":{"ok":true}},"items":[1,2,3]},2]}`, d.Output)
	h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: st.ExecutionARN, MaxResults: 1000})
	require.NoError(t, err)
	require.Len(t, h.Events, 53)
	require.Equal(t, "ExecutionStarted", h.Events[0].Type)
	require.Equal(t, "ExecutionSucceeded", h.Events[52].Type)
}
