package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/enginetest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// refusingStore refuses, once each, the commits whose data holds
// "poison" (as PostgreSQL refuses a NUL in text) and counts what it is
// asked to write.
type refusingStore struct {
	*enginetest.Store
	refusal error

	mu       sync.Mutex
	refused  int           // calls refused
	alone    int           // calls refused that held the poisoned commit alone
	attempts map[int64]int // seq -> calls holding a commit of that seq
}

func newRefusingStore(refusal error) *refusingStore {
	s := &refusingStore{Store: &enginetest.Store{Store: engine.NewMemoryStore()}, refusal: refusal, attempts: map[int64]int{}}
	s.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
		s.mu.Lock()
		poisoned := false
		for _, c := range commits {
			s.attempts[c.Seq]++
			poisoned = poisoned || strings.Contains(string(c.Data), "poison") || strings.Contains(c.Execution.Cause, "poison")
		}
		if poisoned && s.refused < 5 { // a regression that retries fails the test rather than hang it
			s.refused++
			if len(commits) == 1 {
				s.alone++
			}
			s.mu.Unlock()
			return s.refusal
		}
		s.mu.Unlock()
		return s.Store.Store.Commit(ctx, commits)
	}
	return s
}

// refusals returns how many times the poisoned transition was refused
// on its own: a group that holds it (the writer's group commit of several
// transitions) is refused and written again in halves first, so the
// transition may be refused in a group before it is refused alone, once.
func (s *refusingStore) refusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alone
}

// history returns an execution's events as "id/previous Type", and
// checks that their ids follow each other from 1.
func history(t *testing.T, e *engine.Engine, arn string) ([]string, []sfn.HistoryEvent) {
	t.Helper()
	out, err := e.GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	require.NoError(t, err)
	var got []string
	for i, ev := range out.Events {
		require.Equal(t, int64(i+1), ev.ID, "event ids follow each other")
		got = append(got, ev.Type)
	}
	return got, out.Events
}

var refusals = map[string]error{
	"ErrCommitRefused":    fmt.Errorf("committing 1 transitions: %w: invalid byte sequence for encoding \"UTF8\": 0x00 (SQLSTATE 22021)", engine.ErrCommitRefused),
	"ValidationException": &sfn.Error{Code: sfn.CodeValidation, Message: "invalid byte sequence for encoding \"UTF8\": 0x00"},
}

// TestRefusedDataFailsTheExecution: a later transition the store refuses
// for its data is written as the execution's failure instead
// (ExecutionFailed, States.Runtime, a cause naming the refusal, right
// after the last written event): nothing stays RUNNING, its timers stop,
// waiters return, and the refused transition is never written again.
func TestRefusedDataFailsTheExecution(t *testing.T) {
	t.Parallel()
	for name, refusal := range refusals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				store := newRefusingStore(refusal)
				e := startEngine(t, engine.Config{Store: store})
				arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"W","States":{
					"W":{"Type":"Wait","Seconds":10,"Next":"P"},
					"P":{"Type":"Pass","Parameters":{"v.$":"States.Format('{}{}', $.a, $.b)"},"Next":"X"},
					"X":{"Type":"Wait","Seconds":10,"End":true}}}`)
				x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn, Input: `{"a":"poi","b":"son"}`})
				require.NoError(t, err)
				require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
				time.Sleep(time.Minute)
				synctest.Wait()
				require.Equal(t, 1, store.refusals(), "the refused transition is not written again")

				d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
				require.NoError(t, err)
				require.Equal(t, sfn.StatusFailed, d.Status)
				require.Equal(t, "States.Runtime", d.Error)
				require.Contains(t, d.Cause, "The engine's store refused the data of the execution's transition 2")
				require.Contains(t, d.Cause, "invalid byte sequence")
				require.Empty(t, d.Output)

				types, events := history(t, e, x.ExecutionARN)
				require.Equal(t, []string{"ExecutionStarted", "WaitStateEntered", "ExecutionFailed"}, types)
				require.Equal(t, int64(2), events[2].PreviousEventID)
				require.Equal(t, d.Cause, events[2].ExecutionFailed.Cause)

				open, err := store.OpenExecutions(t.Context())
				require.NoError(t, err)
				require.Empty(t, open, "nothing stays RUNNING")
				require.NoError(t, e.Close())
			})
		})
	}
}

// TestRefusedDataAnswersTheCaller: the caller whose request made the
// refused transition (a task's success, a stop) gets a
// ValidationException naming the refusal, and the execution fails; a
// start whose own transition is refused but whose failure is written
// succeeds, and its execution has failed.
func TestRefusedDataAnswersTheCaller(t *testing.T) {
	t.Parallel()
	const callback = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/work","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}`
	for name, tc := range map[string]struct {
		definition string
		act        func(t *testing.T, e *engine.Engine, arn string, tokens <-chan string) error
	}{
		"SendTaskSuccess": {
			definition: callback,
			act: func(t *testing.T, e *engine.Engine, arn string, tokens <-chan string) error {
				return e.SendTaskSuccess(t.Context(), sfn.SendTaskSuccessInput{TaskToken: <-tokens, Output: `{"note":"poison"}`})
			},
		},
		"StopExecution": {
			definition: callback,
			act: func(t *testing.T, e *engine.Engine, arn string, tokens <-chan string) error {
				<-tokens
				_, err := e.StopExecution(t.Context(), sfn.StopExecutionInput{ExecutionARN: arn, Error: "aiflow.Stopped", Cause: "poison"})
				return err
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				store := newRefusingStore(refusals["ErrCommitRefused"])
				tokens := make(chan string, 1)
				queues := senderFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
					var body struct{ Token string }
					if err := json.Unmarshal([]byte(p.Body), &body); err != nil {
						return "", err
					}
					tokens <- body.Token
					return "msg-1", nil
				})
				e := startEngine(t, engine.Config{Store: store, Queues: queues})
				arn := createMachine(t, e, sfn.TypeStandard, tc.definition)
				x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
				require.NoError(t, err)
				err = tc.act(t, e, x.ExecutionARN, tokens)
				requireCode(t, err, sfn.CodeValidation)
				require.ErrorContains(t, err, "the engine's store refused the data")
				require.ErrorContains(t, err, "States.Runtime")
				require.ErrorContains(t, err, "invalid byte sequence")
				require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))

				d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
				require.NoError(t, err)
				require.Equal(t, sfn.StatusFailed, d.Status)
				require.Equal(t, "States.Runtime", d.Error)
				types, _ := history(t, e, x.ExecutionARN)
				require.Equal(t, "ExecutionStarted", types[0])
				require.Equal(t, "ExecutionFailed", types[len(types)-1])
				require.NotContains(t, types, "TaskSucceeded")
				require.NotContains(t, types, "ExecutionAborted")
				require.Equal(t, 1, store.refusals())
				require.NoError(t, e.Close())
			})
		})
	}
	t.Run("StartExecution", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			store := newRefusingStore(refusals["ErrCommitRefused"])
			e := startEngine(t, engine.Config{Store: store})
			arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":"States.Format('{}{}', $.a, $.b)"},"End":true}}}`)
			x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn, Input: `{"a":"poi","b":"son"}`})
			require.NoError(t, err, "the start is written, with the execution's failure")
			require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
			d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
			require.NoError(t, err)
			require.Equal(t, sfn.StatusFailed, d.Status)
			require.Equal(t, "States.Runtime", d.Error)
			require.JSONEq(t, `{"a":"poi","b":"son"}`, d.Input)
			types, events := history(t, e, x.ExecutionARN)
			require.Equal(t, []string{"ExecutionStarted", "ExecutionFailed"}, types)
			require.JSONEq(t, `{"a":"poi","b":"son"}`, events[0].ExecutionStarted.Input)
			require.Equal(t, 1, store.refusals())
			require.NoError(t, e.Close())
		})
	})
}

// TestTransitionsAfterARefusedOneAreNotWritten: a transition queued behind
// one the store refuses (a stop made while the refused task success was
// being written) is never written after the execution's failure: its
// caller gets the refusal, and the history ends with ExecutionFailed.
func TestTransitionsAfterARefusedOneAreNotWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := newRefusingStore(refusals["ErrCommitRefused"])
		gate := make(chan struct{})
		refuse := store.CommitFunc
		store.CommitFunc = func(ctx context.Context, commits []engine.Commit) error {
			for _, c := range commits {
				if strings.Contains(string(c.Data), "poison") {
					<-gate // holds the writer while the stop queues up behind
				}
			}
			return refuse(ctx, commits)
		}
		tokens := make(chan string, 1)
		queues := senderFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
			var body struct{ Token string }
			if err := json.Unmarshal([]byte(p.Body), &body); err != nil {
				return "", err
			}
			tokens <- body.Token
			return "msg-1", nil
		})
		e := startEngine(t, engine.Config{Store: store, Queues: queues, CommitWriters: 1})
		arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/work","MessageBody":{"token.$":"$$.Task.Token"}},"Next":"W"},
			"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		token := <-tokens
		synctest.Wait() // the task's TaskSubmitted is written

		success, stop := make(chan error, 1), make(chan error, 1)
		go func() {
			success <- e.SendTaskSuccess(t.Context(), sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"note":"poison"}`})
		}()
		synctest.Wait() // the writer holds the refused transition
		go func() {
			_, err := e.StopExecution(t.Context(), sfn.StopExecutionInput{ExecutionARN: x.ExecutionARN, Error: "aiflow.Stopped", Cause: "fine"})
			stop <- err
		}()
		synctest.Wait() // the stop is queued behind it
		close(gate)

		requireCode(t, <-success, sfn.CodeValidation)
		err = <-stop
		requireCode(t, err, sfn.CodeValidation)
		require.ErrorContains(t, err, "the engine's store refused the data")
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusFailed, d.Status)
		types, _ := history(t, e, x.ExecutionARN)
		require.Equal(t, "ExecutionFailed", types[len(types)-1])
		require.NotContains(t, types, "ExecutionAborted")
		require.Equal(t, 1, store.refusals())
		require.NoError(t, e.Close())
	})
}
