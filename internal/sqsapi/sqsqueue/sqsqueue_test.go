package sqsqueue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sqsapi"
	"github.com/aiflow/aiflow/internal/sqsapi/sqsqueue"
)

func TestAdapter(t *testing.T) {
	t.Parallel()
	qb := queue.New(queue.Config{})
	t.Cleanup(func() { require.NoError(t, qb.Close()) })
	b := sqsqueue.New(qb)
	ctx := t.Context()

	dlq, err := b.CreateQueue(ctx, sqsapi.QueueConfig{Name: "dlq"})
	require.NoError(t, err)
	cfg := sqsapi.QueueConfig{Name: "q", URL: "http://example.test/1/q", VisibilityTimeout: time.Minute, DelaySeconds: 1,
		MessageRetention: time.Hour, MaximumMessageSize: 2048, ReceiveMessageWaitTime: 2 * time.Second,
		MaxReceiveCount: 4, DeadLetterURL: dlq}
	url, err := b.CreateQueue(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, cfg.URL, url)
	info, err := b.DescribeQueue(ctx, url)
	require.NoError(t, err)
	require.Equal(t, cfg, info.Config, "every setting goes through and comes back")
	require.Equal(t, "arn:aws:sqs:us-east-1:123456789012:q", info.ARN)

	got, err := b.QueueURL(ctx, "q")
	require.NoError(t, err)
	require.Equal(t, url, got)
	urls, err := b.ListQueues(ctx, "")
	require.NoError(t, err)
	require.Equal(t, []string{dlq, url}, urls)

	zero := 0
	res, err := b.Send(ctx, sqsapi.SendParams{QueueURL: url, Body: "hi", DelaySeconds: &zero, TraceHeader: "Root=1-a-b",
		Attributes: map[string]sqsapi.Attribute{"s": {DataType: "String", StringValue: "v"}, "b": {DataType: "Binary", BinaryValue: []byte{9}}}})
	require.NoError(t, err)
	msgs, err := b.Receive(ctx, sqsapi.ReceiveParams{QueueURL: url, Max: 10})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	m := msgs[0]
	require.Equal(t, res.MessageID, m.ID)
	require.Equal(t, res.MD5OfBody, m.MD5OfBody)
	require.Equal(t, res.MD5OfAttributes, m.MD5OfAttributes)
	require.Equal(t, map[string]sqsapi.Attribute{"s": {DataType: "String", StringValue: "v"}, "b": {DataType: "Binary", BinaryValue: []byte{9}}}, m.Attributes)
	require.Equal(t, "Root=1-a-b", m.SystemAttributes["AWSTraceHeader"])
	require.NoError(t, b.ChangeVisibility(ctx, url, m.ReceiptHandle, time.Minute))
	require.NoError(t, b.DeleteMessage(ctx, url, m.ReceiptHandle))

	// The queue's errors become the API's, with the same code.
	err = b.DeleteMessage(ctx, url, m.ReceiptHandle)
	var e *sqsapi.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, sqsapi.CodeReceiptHandleIsInvalid, e.Code)
	require.NoError(t, b.PurgeQueue(ctx, url))
	require.NoError(t, b.DeleteQueue(ctx, url))
	_, err = b.DescribeQueue(ctx, url)
	require.ErrorAs(t, err, &e)
	require.Equal(t, sqsapi.CodeQueueDoesNotExist, e.Code)
	_, err = b.Send(ctx, sqsapi.SendParams{QueueURL: url, Body: "x"})
	require.ErrorAs(t, err, &e)
	_, err = b.Receive(ctx, sqsapi.ReceiveParams{QueueURL: url, Max: 1})
	require.ErrorAs(t, err, &e)
	require.ErrorAs(t, b.ChangeVisibility(ctx, url, "h", 0), &e)

	// ErrClosed is not the caller's fault and stays as it is.
	require.NoError(t, qb.Close())
	_, err = b.ListQueues(ctx, "")
	require.ErrorIs(t, err, queue.ErrClosed)
}
