package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestSentTaskKeepsItsParametersAsText: once a waitForTaskToken task's
// message is sent, the waiting thread keeps its parameters as their text
// alone (nor does the execution's memo of the last value it encoded keep
// the tree), and the callback's result still lands in the state's input.
func TestSentTaskKeepsItsParametersAsText(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	qs := queue.New(queue.Config{})
	t.Cleanup(func() { _ = qs.Close() })
	url, err := qs.CreateQueue(queue.QueueConfig{Name: "work", VisibilityTimeout: time.Minute})
	require.NoError(t, err)
	e, err := New(Config{Store: NewMemoryStore(), Queues: qs})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { _ = e.Close() })
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "sent", Definition: `{"StartAt":"T","States":{"T":{
		"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"QueueUrl":"` + url + `","MessageBody":{"token.$":"$$.Task.Token","n.$":"$.n"}},
		"ResultPath":"$.r","End":true}}}`})
	require.NoError(t, err)
	x, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"n":7}`})
	require.NoError(t, err)

	msgs, err := qs.ReceiveMessage(ctx, url, 1, 5*time.Second)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	var body struct {
		Token string `json:"token"`
		N     int    `json:"n"`
	}
	require.NoError(t, json.Unmarshal([]byte(msgs[0].Body), &body))
	require.Equal(t, 7, body.N)

	waiting := func() (params any, paramsJSON string, memo any) {
		e.mu.Lock()
		ex := e.execs[x.ExecutionARN]
		e.mu.Unlock()
		ex.mu.Lock()
		defer ex.mu.Unlock()
		for _, th := range ex.threads {
			if th.Task != nil {
				return th.Task.Params, th.Task.paramsJSON, ex.text.v
			}
		}
		return nil, "", nil
	}
	require.Eventually(t, func() bool { params, _, _ := waiting(); return params == nil }, 10*time.Second, 5*time.Millisecond,
		"the sent task's parameters' tree is released")
	_, text, memo := waiting()
	require.JSONEq(t, `{"QueueUrl":"`+url+`","MessageBody":{"token":"`+body.Token+`","n":7}}`, text, "their text is kept")
	require.Nil(t, memo, "the execution's memo does not keep the tree")

	require.NoError(t, e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: body.Token, Output: `{"ok":true}`}))
	require.NoError(t, e.Wait(ctx, x.ExecutionARN))
	d, err := e.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Cause)
	require.JSONEq(t, `{"n":7,"r":{"ok":true}}`, d.Output)
}
