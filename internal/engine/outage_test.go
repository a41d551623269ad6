package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// outageStore is a Store that fails every commit and every read of an
// execution, as a database that is down does, while down is set.
type outageStore struct {
	engine.Store
	down atomic.Bool
}

var errRefused = errors.New("connecting to the database: connection refused")

func (s *outageStore) Commit(ctx context.Context, commits []engine.Commit) error {
	if s.down.Load() {
		return errRefused
	}
	return s.Store.Commit(ctx, commits)
}

func (s *outageStore) Execution(ctx context.Context, arn string) (engine.ExecutionRecord, bool, error) {
	if s.down.Load() {
		return engine.ExecutionRecord{}, false, errRefused
	}
	return s.Store.Execution(ctx, arn)
}

// heldTaskMachine hands its task token to the Lambda function Hold and
// waits for it, with a heartbeat of 30 s and a timeout of 60 s.
const heldTaskMachine = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
  "Parameters":{"FunctionName":"Hold","Payload":{"Token.$":"$$.Task.Token"}},"HeartbeatSeconds":30,"TimeoutSeconds":60,"End":true}}}`

func startHeldTask(t *testing.T) (*engine.Engine, *outageStore, string, string) {
	t.Helper()
	tokens := make(chan string, 1)
	fns := &engine.FunctionRegistry{}
	fns.Register("Hold", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var p struct{ Token string }
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		tokens <- p.Token
		return json.RawMessage(`{}`), nil
	})
	store := &outageStore{Store: engine.NewMemoryStore()}
	e := startEngine(t, engine.Config{Store: store, Functions: fns})
	arn := createMachine(t, e, sfn.TypeStandard, heldTaskMachine)
	x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
	require.NoError(t, err)
	return e, store, x.ExecutionARN, <-tokens
}

func historyTypes(t *testing.T, e *engine.Engine, arn string) []string {
	t.Helper()
	h, err := e.GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: arn})
	require.NoError(t, err)
	var types []string
	for _, ev := range h.Events {
		types = append(types, ev.Type)
	}
	return types
}

// TestTaskTimersDoNotFireWhileTheStoreIsDown: a store that fails for 90 s
// (past the task's heartbeat and its timeout) does not time the waiting
// task out; once the store is back the worker's result is taken and the
// execution succeeds.
func TestTaskTimersDoNotFireWhileTheStoreIsDown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, store, arn, token := startHeldTask(t)
		synctest.Wait()
		store.down.Store(true)
		time.Sleep(90 * time.Second)
		synctest.Wait()
		d, err := e.DescribeExecution(t.Context(), arn)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusRunning, d.Status, "no timer expired the task during the outage")

		store.down.Store(false)
		time.Sleep(2 * time.Second) // the parked timers see the store back
		synctest.Wait()
		require.NoError(t, e.SendTaskSuccess(t.Context(), sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"done":true}`}))
		require.NoError(t, e.Wait(t.Context(), arn))
		d, err = e.DescribeExecution(t.Context(), arn)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusSucceeded, d.Status)
		require.NotContains(t, historyTypes(t, e, arn), "TaskTimedOut")
	})
}

// TestTaskTimersFireOnceTheStoreIsBack: after an outage a task nobody
// answers still times out, its grace after the outage spent.
func TestTaskTimersFireOnceTheStoreIsBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, store, arn, _ := startHeldTask(t)
		synctest.Wait()
		store.down.Store(true)
		time.Sleep(90 * time.Second)
		store.down.Store(false)
		require.NoError(t, e.Wait(t.Context(), arn))
		d, err := e.DescribeExecution(t.Context(), arn)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusFailed, d.Status)
		require.Contains(t, historyTypes(t, e, arn), "TaskTimedOut")
	})
}

// commitOutageStore fails every commit while down is set, as a database
// whose writes fail does; reads pass.
type commitOutageStore struct {
	engine.Store
	down atomic.Bool
}

func (s *commitOutageStore) Commit(ctx context.Context, commits []engine.Commit) error {
	if s.down.Load() {
		return errRefused
	}
	return s.Store.Commit(ctx, commits)
}

// TestAStartAnsweredDuringAnOutageRunsOnceWritten: a start whose first
// transition the store fails to take for longer than the engine keeps its
// caller waiting is answered ServiceUnavailable, but the engine goes on
// writing it; once the store is back the execution is written and runs
// to its end (it was dropped from memory, and stood in the store RUNNING
// with nothing to drive it), and a retry of the same start finds it.
func TestAStartAnsweredDuringAnOutageRunsOnceWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &commitOutageStore{Store: engine.NewMemoryStore()}
		e := startEngine(t, engine.Config{Store: store})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
		store.down.Store(true)
		in := sfn.StartExecutionInput{StateMachineARN: arn, Name: "during-outage", Input: `{"n":1}`}
		_, err := e.StartExecution(t.Context(), in)
		requireCode(t, err, sfn.CodeServiceUnavailable)
		time.Sleep(3 * time.Second) // the outage goes on, past the caller's answer, within the Wait
		store.down.Store(false)

		again, err := e.StartExecution(t.Context(), in)
		require.NoError(t, err, "a retry of the same start finds the execution")
		require.NoError(t, e.Wait(t.Context(), again.ExecutionARN))
		d, err := e.DescribeExecution(t.Context(), again.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusSucceeded, d.Status)
		require.JSONEq(t, `{"n":1}`, d.Output)
		require.NoError(t, e.Close())
	})
}

// TestARedriveAnsweredDuringAnOutageRunsOnceWritten is the same for a
// redrive: answered ServiceUnavailable while its transition is still
// written, it runs once the store is back.
func TestARedriveAnsweredDuringAnOutageRunsOnceWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		fns := &engine.FunctionRegistry{}
		fns.Register("FailOnce", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			if calls.Add(1) == 1 {
				return nil, errors.New("the first call fails")
			}
			return in, nil
		})
		store := &commitOutageStore{Store: engine.NewMemoryStore()}
		e := startEngine(t, engine.Config{Store: store, Functions: fns})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		  "Parameters":{"FunctionName":"FailOnce","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn, Input: `{"n":2}`})
		require.NoError(t, err)
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusFailed, d.Status)

		store.down.Store(true)
		_, err = e.RedriveExecution(t.Context(), sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		requireCode(t, err, sfn.CodeServiceUnavailable)
		time.Sleep(3 * time.Second)
		store.down.Store(false)

		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		require.Eventually(t, func() bool {
			d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
			return err == nil && d.Status == sfn.StatusSucceeded && d.RedriveCount == 1
		}, time.Minute, 100*time.Millisecond)
		require.NoError(t, e.Close())
	})
}
