package enginestore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestAJustClosedExecutionIsDescribedAsStored: the engine describes an
// execution that has just closed from what it wrote, which is what
// another engine reads back from PostgreSQL.
func TestAJustClosedExecutionIsDescribedAsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t)
	e, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "closed", Definition: `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Result":{"out":"é \u2028"},"Next":"F"},"F":{"Type":"Fail","Error":"Boom","Cause":"a cause"}}}`})
	require.NoError(t, err)
	reader, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, reader.Start(ctx))
	defer reader.Close()

	x, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"in": [1, 2.50, "x"]}`})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, x.ExecutionARN))
	d, err := e.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	read, err := reader.DescribeExecution(ctx, x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, read, d)
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.Equal(t, "a cause", d.Cause)
}
