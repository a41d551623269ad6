package enginecrash

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestResumeFanOutRightAfterFanOut is a finding of the crash harness in
// its smallest form; it runs without killing anything, since the fault was
// in how Start rebuilds an execution, whatever stopped the engine before.
//
// When the last child of a Parallel or Map ends, the state completes, and
// its thread goes on to another Parallel or Map in the same transition,
// one history batch holds both the old child's end and the new state's
// spawn. Recovery once counted that old end against the new state, which
// then never completed. Ends and spawns now carry the parent's generation,
// and recovery matches them by it.
func TestResumeFanOutRightAfterFanOut(t *testing.T) {
	t.Parallel()
	task := func(body string) string {
		return `{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"` + queueAURL + `","MessageBody":` + body + `},"End":true}`
	}
	first := map[string]string{
		"Parallel then Map": `"Fan":{"Type":"Parallel","Branches":[{"StartAt":"Branch","States":{"Branch":` + task(`{"token.$":"$$.Task.Token"}`) + `}}],"ResultPath":"$.fan","Next":"Each"}`,
		"Map then Map":      `"Fan":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Branch","States":{"Branch":` + task(`{"token.$":"$$.Task.Token"}`) + `}},"ResultPath":"$.fan","Next":"Each"}`,
	}
	each := `"Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Item","States":{"Item":` + task(`{"token.$":"$$.Task.Token","item.$":"$"}`) + `}},"End":true}`
	for name, fan := range first {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resumeAfterFanOut(t, `{"StartAt":"Fan","States":{`+fan+`,`+each+`}}`)
		})
	}
}

// resumeAfterFanOut runs a state machine whose Fan state (one child
// waiting for a task token) is followed by a Map of one iteration; it
// restarts the engine while the iteration runs.
func resumeAfterFanOut(t *testing.T, def string) {
	ctx := context.Background()
	dbURL := pgclustertest.Database(t)

	// open runs an engine on the database, as one process would.
	open := func() (*engine.Engine, *queue.Broker) {
		pool, err := pgxpool.New(ctx, dbURL)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		evs, err := eventstore.Open(ctx, pool, eventstore.Options{})
		require.NoError(t, err)
		store, err := enginestore.New(ctx, pool, evs)
		require.NoError(t, err)
		broker := queue.New(queue.Config{Region: region, AccountID: account})
		t.Cleanup(func() { _ = broker.Close() })
		_, err = broker.CreateQueue(queue.QueueConfig{Name: queueAName, URL: queueAURL})
		require.NoError(t, err)
		e, err := engine.New(engine.Config{Store: store, Queues: broker, Region: region, AccountID: account})
		require.NoError(t, err)
		require.NoError(t, e.Start(ctx))
		t.Cleanup(func() { _ = e.Close() })
		return e, broker
	}
	// token receives the next task's token from the queue.
	token := func(b *queue.Broker) string {
		msgs, err := b.ReceiveMessage(ctx, queueAURL, 1, 5*time.Second)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		var body struct {
			Token string `json:"token"`
		}
		require.NoError(t, json.Unmarshal([]byte(msgs[0].Body), &body))
		return body.Token
	}

	e1, b1 := open()
	sm, err := e1.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "resume-fan-out", Definition: def})
	require.NoError(t, err)
	x, err := e1.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "one", Input: `{"items":["only"]}`})
	require.NoError(t, err)
	// The callback ends Fan's one child, so Fan, and starts the Map's one
	// iteration, in one transition.
	require.NoError(t, e1.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token(b1), Output: `"branch"`}))
	token(b1) // the iteration's task was sent
	require.NoError(t, e1.Close())

	e2, b2 := open()
	require.NoError(t, e2.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token(b2), Output: `"item"`}))
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, e2.Wait(waitCtx, x.ExecutionARN), "the execution stays RUNNING")
	d, err := e2.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status)
	require.JSONEq(t, `["item"]`, d.Output)
}
