package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestStartNameOfAClosedExecution: a closed execution is not in memory;
// a second start of its name fails with ExecutionAlreadyExists, alone or
// among other starts, which carry on.
func TestStartNameOfAClosedExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), CommitWriters: 1})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "names",
		Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	require.NoError(t, err)
	first, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "taken", Input: `{}`})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, first.ExecutionARN))

	// The same name again, alone and among other starts.
	_, err = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "taken", Input: `{}`})
	var ee *sfn.Error
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, sfn.CodeExecutionAlreadyExists, ee.Code)

	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			name := fmt.Sprintf("new-%d", i)
			if i == 7 {
				name = "taken"
			}
			_, errs[i] = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: name, Input: `{"other": true}`})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 7 {
			require.True(t, errors.As(err, &ee), "%v", err)
			require.Equal(t, sfn.CodeExecutionAlreadyExists, ee.Code)
			continue
		}
		require.NoError(t, err, "start %d", i)
	}
	list, err := e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: sm.StateMachineARN, MaxResults: 100})
	require.NoError(t, err)
	require.Len(t, list.Executions, 20, "the first and the 19 new ones")
	d, err := e.DescribeExecution(ctx, first.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status)
	require.Equal(t, "{}", d.Input, "the closed execution is untouched")
}
