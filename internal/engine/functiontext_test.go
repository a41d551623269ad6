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

// TestFunctionResultWrittenAsEncoded: a function's result reaches the
// history, the next state and the execution's output as the engine
// encodes it, whether the function's payload is that encoding (kept as
// it is) or another text of the same value (white space, escapes, a
// member twice), which is encoded again.
func TestFunctionResultWrittenAsEncoded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ payload, want string }{
		{`{"n":1,"s":"é<&>","a":[true,null,1.50]}`, `{"n":1,"s":"é<&>","a":[true,null,1.50]}`},
		{`{ "n": 1, "s":"\u00e9\u003c", "n":2 }`, `{"n":2,"s":"é<"}`},
		{`"\u0041"`, `"A"`},
	} {
		fns := &engine.FunctionRegistry{}
		fns.Register("Answer", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(c.payload), nil
		})
		e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Functions: fns})
		require.NoError(t, err)
		require.NoError(t, e.Start(ctx))
		t.Cleanup(func() { require.NoError(t, e.Close()) })
		def := `{"StartAt":"A","States":{
		 "A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Answer","Next":"B"},
		 "B":{"Type":"Pass","End":true}}}`
		sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "answer", Definition: def})
		require.NoError(t, err)
		st, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{}`})
		require.NoError(t, err)
		d := requireSucceeded(t, e, st.ExecutionARN)
		require.Equal(t, c.want, d.Output, c.payload)
		h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: st.ExecutionARN, MaxResults: 1000})
		require.NoError(t, err)
		var texts []string
		for _, ev := range h.Events {
			switch {
			case ev.LambdaFunctionSucceeded != nil:
				texts = append(texts, ev.LambdaFunctionSucceeded.Output)
			case ev.StateExited != nil && ev.StateExited.Name == "A":
				texts = append(texts, ev.StateExited.Output)
			case ev.StateEntered != nil && ev.StateEntered.Name == "B":
				texts = append(texts, ev.StateEntered.Input)
			}
		}
		require.Equal(t, []string{c.want, c.want, c.want}, texts, c.payload)
	}
}

// TestGivenTextsWrittenAsEncoded: an execution's input and an activity's
// output given by a caller reach the history as the engine encodes their
// values, whether the text given is that encoding or another text of the
// same value.
func TestGivenTextsWrittenAsEncoded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ text, want string }{
		{`{"n":1,"s":"é<&>"}`, `{"n":1,"s":"é<&>"}`},
		{`{ "n": 1, "s":"\u00e9", "n":2 }`, `{"n":2,"s":"é"}`},
	} {
		e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
		require.NoError(t, err)
		require.NoError(t, e.Start(ctx))
		t.Cleanup(func() { require.NoError(t, e.Close()) })
		act, err := e.CreateActivity(ctx, sfn.CreateActivityInput{Name: "work"})
		require.NoError(t, err)
		def := `{"StartAt":"A","States":{
		 "A":{"Type":"Task","Resource":"` + act.ActivityARN + `","Next":"B"},
		 "B":{"Type":"Pass","End":true}}}`
		sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "given", Definition: def})
		require.NoError(t, err)
		st, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: c.text})
		require.NoError(t, err)
		task, err := e.GetActivityTask(ctx, sfn.GetActivityTaskInput{ActivityARN: act.ActivityARN})
		require.NoError(t, err)
		require.Equal(t, c.want, task.Input)
		require.NoError(t, e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: c.text}))
		d := requireSucceeded(t, e, st.ExecutionARN)
		require.Equal(t, c.want, d.Output, c.text)
		h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: st.ExecutionARN, MaxResults: 1000})
		require.NoError(t, err)
		var texts []string
		for _, ev := range h.Events {
			switch {
			case ev.StateEntered != nil:
				texts = append(texts, ev.StateEntered.Input)
			case ev.ActivitySucceeded != nil:
				texts = append(texts, ev.ActivitySucceeded.Output)
			}
		}
		require.Equal(t, []string{c.want, c.want, c.want}, texts, c.text)
	}
}

// requireSucceeded waits for the execution arn to close and requires that
// it succeeded; it returns its description.
func requireSucceeded(t *testing.T, e *engine.Engine, arn string) sfn.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.Wait(ctx, arn))
	d, err := e.DescribeExecution(ctx, arn)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	return d
}
