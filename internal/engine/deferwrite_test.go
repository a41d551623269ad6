package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// commitLog is a Store that keeps the event types of every commit written.
type commitLog struct {
	engine.Store
	mu      sync.Mutex
	commits [][]string
}

func (s *commitLog) Commit(ctx context.Context, commits []engine.Commit) error {
	if err := s.Store.Commit(ctx, commits); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range commits {
		var types []string
		for _, ev := range c.Events {
			types = append(types, ev.Type)
		}
		s.commits = append(s.commits, types)
	}
	return nil
}

// written returns the commits written so far whose events include typ.
func (s *commitLog) written(typ string) [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]string
	for _, c := range s.commits {
		for _, t := range c {
			if t == typ {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// tokenMachine is one waitForTaskToken task whose message is its token.
const tokenMachine = `{"StartAt":"Q","States":{"Q":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	"Parameters":{"QueueUrl":"http://sqs.us-east-1.localhost/123456789012/q","MessageBody.$":"$$.Task.Token"},"End":true}}}`

// tokenEngine starts an engine over a commit log whose queue hands each
// message's token to the channel it returns.
func tokenEngine(t *testing.T, wait time.Duration) (*engine.Engine, *commitLog, string, chan string) {
	t.Helper()
	store := &commitLog{Store: engine.NewMemoryStore()}
	tokens := make(chan string, 4)
	queues := senderFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
		tokens <- p.Body
		return "m-1", nil
	})
	e := startEngine(t, engine.Config{Store: store, Queues: queues, SubmittedWait: wait})
	return e, store, createMachine(t, e, sfn.TypeStandard, tokenMachine), tokens
}

var answeredHistory = []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}

// TestTaskSubmittedIsWrittenWithTheCallback: a worker that answers within
// Config.SubmittedWait has its task's TaskSubmitted written in the same
// transition as its TaskSucceeded, not in one of its own, and the history
// keeps Step Functions' order with the SendMessage result.
func TestTaskSubmittedIsWrittenWithTheCallback(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, store, arn, tokens := tokenEngine(t, 0)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		token := <-tokens
		synctest.Wait()
		require.Empty(t, store.written("TaskSubmitted"), "not written alone before its wait is over")
		time.Sleep(engine.DefaultSubmittedWait / 2)
		require.NoError(t, e.SendTaskSuccess(t.Context(), sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"ok":true}`}))
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))

		require.Equal(t, [][]string{{"TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}}, store.written("TaskSubmitted"))
		require.Equal(t, answeredHistory, historyTypes(t, e, x.ExecutionARN))
		h, err := e.GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err)
		sub := h.Events[4]
		require.NotNil(t, sub.TaskSubmitted)
		var result map[string]string
		require.NoError(t, json.Unmarshal([]byte(sub.TaskSubmitted.Output), &result))
		require.Equal(t, "m-1", result["MessageId"])
		require.False(t, sub.Timestamp.After(h.Events[5].Timestamp), "TaskSubmitted keeps the time it was made")
		require.Less(t, sub.Timestamp.Sub(h.Events[3].Timestamp), engine.DefaultSubmittedWait/2, "the time of the send, not of the write")
	})
}

// TestTaskSubmittedIsWrittenAloneAfterTheWait: with no callback, the
// TaskSubmitted event is written alone once Config.SubmittedWait has
// passed, not before; a negative wait writes it at once.
func TestTaskSubmittedIsWrittenAloneAfterTheWait(t *testing.T) {
	t.Parallel()
	for _, wait := range []time.Duration{0, 3 * time.Second, -1} {
		t.Run(wait.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				e, store, arn, tokens := tokenEngine(t, wait)
				x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
				require.NoError(t, err)
				<-tokens
				synctest.Wait()
				want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted"}
				if wait >= 0 {
					if wait == 0 {
						wait = engine.DefaultSubmittedWait
					}
					time.Sleep(wait - time.Millisecond)
					synctest.Wait()
					require.Empty(t, store.written("TaskSubmitted"))
					require.Equal(t, want[:4], historyTypes(t, e, x.ExecutionARN), "the history does not show it yet")
					time.Sleep(time.Millisecond)
					synctest.Wait()
				}
				require.Equal(t, [][]string{{"TaskSubmitted"}}, store.written("TaskSubmitted"))
				require.Equal(t, want, historyTypes(t, e, x.ExecutionARN))
			})
		})
	}
}

// TestCloseWritesTaskSubmitted: an engine closed while a TaskSubmitted
// waits for its execution's next transition writes it before it stops;
// the execution resumes on the next engine, its task sent again, and
// ends when the worker answers.
func TestCloseWritesTaskSubmitted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, store, arn, tokens := tokenEngine(t, time.Hour)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		<-tokens
		synctest.Wait()
		require.Empty(t, store.written("TaskSubmitted"))
		require.NoError(t, e.Close())
		require.Equal(t, [][]string{{"TaskSubmitted"}}, store.written("TaskSubmitted"))

		next := startEngine(t, engine.Config{Store: store, Queues: senderFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
			tokens <- p.Body
			return "m-2", nil
		})})
		token := <-tokens
		require.NoError(t, next.SendTaskSuccess(t.Context(), sfn.SendTaskSuccessInput{TaskToken: token, Output: `{}`}))
		require.NoError(t, next.Wait(t.Context(), x.ExecutionARN))
		types := historyTypes(t, next, x.ExecutionARN)
		require.Equal(t, "ExecutionSucceeded", types[len(types)-1])
		require.Equal(t, answeredHistory[:5], types[:5])
	})
}

// TestATooLargeCallbackKeepsTaskSubmitted: a callback whose transition is
// too large to store (its result fans out to ten Map iterations of 200 KB
// each) fails the execution with States.DataLimitExceeded; the
// TaskSubmitted that waited for that transition happened before it and
// stays in the history.
func TestATooLargeCallbackKeepsTaskSubmitted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, _, _, tokens := tokenEngine(t, 0)
		sm, err := e.CreateStateMachine(t.Context(), sfn.CreateStateMachineInput{Name: "fan-out", Definition: `{"StartAt":"Q","States":{
			"Q":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			 "Parameters":{"QueueUrl":"http://sqs.us-east-1.localhost/123456789012/q","MessageBody.$":"$$.Task.Token"},"Next":"Each"},
			"Each":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"big.$":"$.big","i.$":"$$.Map.Item.Value"},
			 "ItemProcessor":{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":60,"End":true}}},"End":true}}}`})
		require.NoError(t, err)
		x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN})
		require.NoError(t, err)
		token := <-tokens
		synctest.Wait()
		big := `{"items":[1,2,3,4,5,6,7,8,9,10],"big":"` + strings.Repeat("x", 200_000) + `"}`
		require.NoError(t, e.SendTaskSuccess(t.Context(), sfn.SendTaskSuccessInput{TaskToken: token, Output: big}))
		require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
		d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, "States.DataLimitExceeded", d.Error, d.Cause)
		require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "ExecutionFailed"}, historyTypes(t, e, x.ExecutionARN))
	})
}
