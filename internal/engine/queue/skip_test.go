package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/engine/queue"
)

// TestQuiet: the broker is quiet while no message waits and none is in
// flight, but for a delayed message and one its handler failed, which
// wait for a timer; a message received over the API holds it busy until
// it is deleted.
func TestQuiet(t *testing.T) {
	t.Parallel()
	b := queue.New(queue.Config{})
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	var _ clock.Activity = b
	quiet := func() bool {
		q, _ := b.Quiet()
		return q
	}
	require.True(t, quiet(), "no queues")
	url, err := b.CreateQueue(queue.QueueConfig{Name: "work", VisibilityTimeout: time.Hour})
	require.NoError(t, err)
	ctx := context.Background()

	_, epoch := b.Quiet()
	_, err = b.Send(ctx, queue.SendParams{QueueURL: url, Body: "one"})
	require.NoError(t, err)
	q, later := b.Quiet()
	require.False(t, q, "a message waits")
	require.Greater(t, later, epoch, "work arrived")
	recs, err := b.ReceiveMessage(ctx, url, 1, 0)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.False(t, quiet(), "a worker holds the message")
	require.NoError(t, b.DeleteMessage(url, recs[0].ReceiptHandle))
	require.True(t, quiet())

	delay := 60
	_, err = b.Send(ctx, queue.SendParams{QueueURL: url, Body: "later", DelaySeconds: &delay})
	require.NoError(t, err)
	require.True(t, quiet(), "a delayed message waits for its delay")

	failed := make(chan struct{})
	stop, err := b.Subscribe(url, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		defer close(failed)
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
	}, queue.MappingConfig{ReportBatchItemFailures: true})
	require.NoError(t, err)
	t.Cleanup(stop)
	_, err = b.Send(ctx, queue.SendParams{QueueURL: url, Body: "two"})
	require.NoError(t, err)
	<-failed
	require.Eventually(t, quiet, 10*time.Second, time.Millisecond, "a message its handler failed waits for its visibility timeout")
}
