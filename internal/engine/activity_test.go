package engine_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestGetActivityTaskLongPolls: with no task, GetActivityTask answers
// after 60 seconds with no token and no input; a task offered while it
// waits is handed over at once; Close ends a waiting poll.
func TestGetActivityTaskLongPolls(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
		act, err := e.CreateActivity(t.Context(), sfn.CreateActivityInput{Name: "poll"})
		require.NoError(t, err)

		start := time.Now()
		out, err := e.GetActivityTask(t.Context(), sfn.GetActivityTaskInput{ActivityARN: act.ActivityARN})
		require.NoError(t, err)
		require.Empty(t, out.TaskToken)
		require.Empty(t, out.Input)
		require.Equal(t, sfn.MaxActivityTaskWait, time.Since(start))

		got := make(chan sfn.GetActivityTaskOutput, 1)
		go func() {
			out, err := e.GetActivityTask(t.Context(), sfn.GetActivityTaskInput{ActivityARN: act.ActivityARN, WorkerName: "w"})
			if err == nil {
				got <- out
			}
		}()
		synctest.Wait()
		sm := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"`+act.ActivityARN+`","End":true}}}`)
		_, err = e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: sm, Input: `{"n":1}`})
		require.NoError(t, err)
		synctest.Wait()
		task := <-got
		require.Equal(t, `{"n":1}`, task.Input)

		ended := make(chan error, 1)
		go func() {
			_, err := e.GetActivityTask(t.Context(), sfn.GetActivityTaskInput{ActivityARN: act.ActivityARN})
			ended <- err
		}()
		synctest.Wait()
		require.NoError(t, e.Close())
		requireCode(t, <-ended, sfn.CodeServiceUnavailable)
	})
}
