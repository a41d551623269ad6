package enginestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/task"
)

// resendMachine sends a step's message as the workflow compiler writes
// it, its data's members in the compiler's order (internal_note before
// ticket_id), which is not the order jsonb keeps them in (shorter names
// first).
const resendMachine = `{"StartAt":"post_draft","States":{"post_draft":{"Type":"Task",
  "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
  "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/mcp","MessageBody":{
    "data":{"arguments":{"internal_note.$":"States.Format('Suggested reply: {}', $.reply)","ticket_id.$":"$.ticket"}},
    "execution":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","startTime.$":"$$.Execution.StartTime"},
    "spec":{"server":"support","tool":"update_ticket"},
    "step":{"attempt.$":"$$.State.RetryCount","enteredTime.$":"$$.State.EnteredTime","id":"post_draft","kind":"mcp"},
    "taskToken.$":"$$.Task.Token","version":1}},
  "End":true}}}`

// TestAMessageSentAgainAfterARestartKeepsItsKey: an engine that stops
// with a task in flight (aiflow dev killed while a worker runs the step)
// sends the task's message again when it resumes from PostgreSQL, from
// the copy of the task its history keeps in jsonb. That copy's objects
// come back with their members reordered, so the message sent again
// differs in text from the first; its idempotency key, which the step's
// effects carry, must not, or the support desk makes the change twice.
func TestAMessageSentAgainAfterARestartKeepsItsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t) // its own database: the engine resumes what it finds open
	bodies := make(chan string, 4)
	queues := queueFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
		bodies <- p.Body
		return fmt.Sprintf("msg-%d", len(bodies)), nil
	})

	first, err := engine.New(engine.Config{Store: store, Queues: queues})
	require.NoError(t, err)
	require.NoError(t, first.Start(ctx))
	sm, err := first.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: fmt.Sprintf("resend-%d", seq.Add(1)), Definition: resendMachine})
	require.NoError(t, err)
	x, err := first.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "resend",
		Input: `{"reply":"Thank you for your patience. Your order is on its way.","ticket":113}`})
	require.NoError(t, err)
	sent := <-bodies
	// The engine stops with the task in flight, as a killed one would
	// leave it: its history holds the task, scheduled and sent.
	require.Eventually(t, func() bool {
		h, err := first.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: x.ExecutionARN})
		return err == nil && h.Events[len(h.Events)-1].Type == "TaskSubmitted"
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, first.Close())

	again, err := engine.New(engine.Config{Store: store, Queues: queues})
	require.NoError(t, err)
	require.NoError(t, again.Start(ctx))
	t.Cleanup(func() { require.NoError(t, again.Close()) })
	resent := <-bodies

	m1, err := task.Decode(sent)
	require.NoError(t, err)
	m2, err := task.Decode(resent)
	require.NoError(t, err)
	require.Equal(t, m1.TaskToken, m2.TaskToken, "the same task")
	require.Equal(t, m1.Step, m2.Step)
	require.JSONEq(t, string(m1.Data), string(m2.Data), "the same data")
	require.Equal(t, m1.IdempotencyKey(), m2.IdempotencyKey(), "the same key: the first message %s, the second %s", sent, resent)
	require.NoError(t, again.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: m2.TaskToken, Output: `{"ticket_id":113}`}))
	require.NoError(t, again.Wait(ctx, x.ExecutionARN))
}
