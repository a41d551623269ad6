package recorder_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// TestRedrivenExecutionAppendsTheRest: a failed execution is recorded,
// redriven and fails again; the status change of its second end appends
// the events after the first, ExecutionRedriven's details included.
func TestRedrivenExecutionAppendsTheRest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	// The event store is the package's, kept across runs: a name of its own.
	sm, err := b.client.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "redriven-" + hex.EncodeToString(suffix),
		Definition: `{"StartAt":"Missing","States":{"Missing":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Missing","End":true}}}`})
	require.NoError(t, err)
	out, err := b.client.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "again"})
	require.NoError(t, err)
	arn := out.ExecutionARN
	failed := func() sfn.Execution {
		var d sfn.Execution
		require.Eventually(t, func() bool {
			d, err = b.client.DescribeExecution(ctx, arn)
			require.NoError(t, err)
			return d.Status.Closed()
		}, 10*time.Second, 5*time.Millisecond)
		require.Equal(t, sfn.StatusFailed, d.Status)
		return d
	}
	first, err := b.recorder.Handle(ctx, statusChange(t, failed()))
	require.NoError(t, err)

	_, err = b.client.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: arn})
	require.NoError(t, err)
	d := failed()
	require.Equal(t, 1, d.RedriveCount)
	rest, err := b.recorder.Handle(ctx, statusChange(t, d))
	require.NoError(t, err)
	require.Positive(t, rest.Appended)
	require.Equal(t, first.Appended+rest.Appended, rest.HistoryEvents)
	b.requireStreamIsHistory(t, arn)
}
