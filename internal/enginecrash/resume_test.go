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
)

// TestResumeMapRightAfterParallel is the crash harness's finding in its
// smallest form; it runs without killing anything, since the fault is in
// how Start rebuilds an execution, whatever stopped the engine before.
//
// Engine bug (resume attributes child ends to the wrong spawn): when the
// last branch of a Parallel ends, the Parallel completes and its thread
// goes on to a Map (or another Parallel) in the same transition (right
// after it, or through Pass and Choice states), one history batch holds both the old branch's end (Ended: parent 1,
// index j) and the Map's spawn (Spawn: 1). Engine.resume reads a batch's
// Spawn before its Ended, so it counts that branch end against the Map:
// the Map's iteration j counts as done (with the branch's output) while
// it still runs. When that iteration then ends, childEnded ignores it (no
// MapIterationSucceeded, its running count never drops) and the Map, so
// the execution, stays RUNNING forever; had it completed some other way,
// its result j would be the Parallel branch's output. A fix is to tell
// spawns of the same thread apart in Ended (the parent's Gen, say), since
// ends of the new spawn can also share its batch (an iteration of Pass
// states ends at once).
func TestResumeMapRightAfterParallel(t *testing.T) {
	t.Skip("engine bug: resume counts a Parallel branch's end against the Map that follows it in the same transition; see the comment")
	t.Parallel()
	ctx := context.Background()
	dbURL := pgclustertest.Database(t)
	def := `{"StartAt":"Fan","States":{
	 "Fan":{"Type":"Parallel","Branches":[{"StartAt":"Branch","States":{"Branch":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"` + queueAURL + `","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}],"ResultPath":"$.fan","Next":"Each"},
	 "Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Item","States":{"Item":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"` + queueAURL + `","MessageBody":{"token.$":"$$.Task.Token","item.$":"$"}},"End":true}}},"End":true}}}`

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
	sm, err := e1.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: "resume-map", Definition: def})
	require.NoError(t, err)
	x, err := e1.StartExecution(ctx, engine.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "one", Input: `{"items":["only"]}`})
	require.NoError(t, err)
	// The branch's callback ends the Parallel and starts the Map's one
	// iteration, in one transition.
	require.NoError(t, e1.SendTaskSuccess(ctx, engine.SendTaskSuccessInput{TaskToken: token(b1), Output: `"branch"`}))
	token(b1) // the iteration's task was sent
	require.NoError(t, e1.Close())

	e2, b2 := open()
	require.NoError(t, e2.SendTaskSuccess(ctx, engine.SendTaskSuccessInput{TaskToken: token(b2), Output: `"item"`}))
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, e2.Wait(waitCtx, x.ExecutionARN), "the execution stays RUNNING")
	d, err := e2.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, engine.StatusSucceeded, d.Status)
	require.JSONEq(t, `["item"]`, d.Output)
}
