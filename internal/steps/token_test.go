package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/task"
)

// capturedQueue is the engine's queue port: it hands each task message to
// the test instead of a queue, so the test delivers them, forged or not.
type capturedQueue struct{ bodies chan string }

func (q *capturedQueue) SendMessage(_ context.Context, p sfn.SendMessageParams) (string, error) {
	q.bodies <- p.Body
	return "id", nil
}

// tokenBundle is the local engine with two executions waiting on a task
// step each, their messages, and a runtime whose one handler counts the
// effects it makes.
type tokenBundle struct {
	eng     *engine.Engine
	rt      *steps.Runtime
	effects atomic.Int32
	a, b    task.Message // the two executions' messages
	bodyA   string
	bodyB   string
}

func setupTokens(t *testing.T) *tokenBundle {
	t.Helper()
	ctx := context.Background()
	q := &capturedQueue{bodies: make(chan string, 4)}
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: q})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })
	def, err := json.Marshal(map[string]any{
		"StartAt": "refund",
		"States": map[string]any{"refund": map[string]any{
			"Type":       "Task",
			"Resource":   "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters": map[string]any{"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/steps", "MessageBody": task.Template(task.TemplateParams{StepID: "refund", Kind: "mcp", Data: map[string]any{"order.$": "$.order"}})},
			"End":        true,
		}},
	})
	require.NoError(t, err)
	sm, err := eng.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "refunds", Definition: string(def)})
	require.NoError(t, err)

	b := &tokenBundle{eng: eng}
	b.rt = newRuntime(t, eng, map[string]steps.Handler{"mcp": steps.HandlerFunc(func(ctx context.Context, m steps.Message) (steps.Result, error) {
		b.effects.Add(1)
		return steps.Result{Output: "refunded"}, nil
	})}, nil)
	bodies := map[string]string{}
	for _, order := range []string{"a", "b"} {
		_, err := eng.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "run-" + order, Input: `{"order":"` + order + `"}`})
		require.NoError(t, err)
		select {
		case body := <-q.bodies:
			m, err := task.Decode(body)
			require.NoError(t, err)
			bodies[m.Execution.Name] = body
		case <-time.After(time.Minute):
			t.Fatal("no task message within a minute")
		}
	}
	b.bodyA, b.bodyB = bodies["run-a"], bodies["run-b"]
	b.a, err = task.Decode(b.bodyA)
	require.NoError(t, err)
	b.b, err = task.Decode(b.bodyB)
	require.NoError(t, err)
	return b
}

// withToken is body with its taskToken replaced.
func withToken(t *testing.T, body, token string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	m["taskToken"] = token
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return string(out)
}

// deliver hands bodies to the runtime and requires that none is left for
// a retry.
func (b *tokenBundle) deliver(t *testing.T, bodies ...string) {
	t.Helper()
	resp, err := b.rt.Handle(context.Background(), event(bodies...))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
}

// requireSucceeded waits for the execution to close and requires that it
// succeeded with the counting handler's result.
func (b *tokenBundle) requireSucceeded(t *testing.T, arn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, b.eng.Wait(ctx, arn))
	d, err := b.eng.DescribeExecution(ctx, arn)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"output":"refunded"}`, d.Output)
}

func TestRuntimeRunsAGenuineToken(t *testing.T) {
	t.Parallel()
	b := setupTokens(t)
	b.deliver(t, b.bodyA)
	require.Equal(t, int32(1), b.effects.Load())
	b.requireSucceeded(t, b.a.Execution.ID)
}

func TestRuntimeDropsAForgedToken(t *testing.T) {
	t.Parallel()
	b := setupTokens(t)
	b.deliver(t,
		withToken(t, b.bodyA, "forged"),
		// The shape of a local token, for the message's own execution, with
		// random bytes the engine never issued.
		withToken(t, b.bodyA, sfn.NewTaskToken(b.a.Execution.ID, make([]byte, 18))),
		withToken(t, b.bodyA, sfn.NewTaskToken("arn:aws:states:us-east-1:123456789012:execution:refunds:nobody", make([]byte, 18))),
	)
	require.Zero(t, b.effects.Load(), "a forged token runs nothing")
	// The genuine message still runs: nothing answered its task.
	b.deliver(t, b.bodyA)
	require.Equal(t, int32(1), b.effects.Load())
	b.requireSucceeded(t, b.a.Execution.ID)
}

func TestRuntimeDropsAnotherExecutionsToken(t *testing.T) {
	t.Parallel()
	b := setupTokens(t)
	// Execution a's message with execution b's (genuine, awaited) token.
	b.deliver(t, withToken(t, b.bodyA, b.b.TaskToken))
	require.Zero(t, b.effects.Load(), "another execution's token runs nothing")
	// b's task was neither answered nor failed: its own message runs it.
	b.deliver(t, b.bodyB)
	require.Equal(t, int32(1), b.effects.Load())
	b.requireSucceeded(t, b.b.Execution.ID)
}

func TestRuntimeDropsAClosedTasksToken(t *testing.T) {
	t.Parallel()
	b := setupTokens(t)
	ctx := context.Background()
	b.deliver(t, b.bodyA)
	b.requireSucceeded(t, b.a.Execution.ID)
	_, err := b.eng.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: b.b.Execution.ID, Error: "Stopped", Cause: "by the test"})
	require.NoError(t, err)

	// a's message again (a redelivery after its task succeeded), and b's
	// after its execution stopped.
	b.deliver(t, b.bodyA, b.bodyB)
	require.Equal(t, int32(1), b.effects.Load(), "only the first delivery of a's message ran")
}

// TestRuntimeRetriesWhenTheTokenCannotBeChecked: a heartbeat that fails for
// a reason that may pass leaves the message for a retry, with nothing run.
func TestRuntimeRetriesWhenTheTokenCannotBeChecked(t *testing.T) {
	t.Parallel()
	var ran atomic.Int32
	cb := &stepstest.Callbacks{SendTaskHeartbeatFunc: func(context.Context, string) error { return errors.New("connection refused") }}
	rt := newRuntime(t, cb, map[string]steps.Handler{"echo": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
		ran.Add(1)
		return steps.Result{}, nil
	})}, nil)
	resp, err := rt.Handle(context.Background(), event(body(t, "tok", "echo", map[string]any{}, 1)))
	require.NoError(t, err)
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m0"}}, resp.BatchItemFailures)
	require.Zero(t, ran.Load())
	require.Empty(t, cb.Successes())
	require.Empty(t, cb.Failures())
}
