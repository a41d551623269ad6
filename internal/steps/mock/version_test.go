package mock

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/task"
)

// TestWorkerReadsTheTaskMessage: the mock worker reads the
// task message through package task: it answers a step's message from its
// replies, fails the task of a message of a version it does not know with
// Task.UnsupportedVersion, and leaves a message without a token for the
// queue to deliver again.
func TestWorkerReadsTheTaskMessage(t *testing.T) {
	t.Parallel()
	cb := &stepstest.Callbacks{}
	w := NewWorker(WorkerConfig{Replies: Set{"classify": {{Output: json.RawMessage(`{"category":"refund"}`)}}}, Callbacks: cb})
	resp, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "v1", Body: `{"version":1,"taskToken":"tok-1","step":{"id":"classify","kind":"ai","attempt":0}}`},
		{MessageId: "v2", Body: `{"version":2,"taskToken":"tok-2","step":{"id":"classify","kind":"ai"}}`},
		{MessageId: "no-token", Body: `{"version":1,"step":{"id":"classify","kind":"ai"}}`},
	}})
	require.NoError(t, err)
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "no-token"}}, resp.BatchItemFailures)
	require.Len(t, cb.Successes(), 1)
	require.Equal(t, "tok-1", cb.Successes()[0].TaskToken)
	require.JSONEq(t, `{"output":{"category":"refund"}}`, cb.Successes()[0].Output)
	require.Len(t, cb.Failures(), 1)
	require.Equal(t, "tok-2", cb.Failures()[0].TaskToken)
	require.Equal(t, task.CodeUnsupportedVersion, cb.Failures()[0].Error)
}
