package queue_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
)

func TestQueueAdministration(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	dlq := tb.createQueue(t, queue.QueueConfig{Name: "b-dlq"})
	url := tb.createQueue(t, queue.QueueConfig{Name: "b", DeadLetterURL: dlq, MaxReceiveCount: 3, ReceiveMessageWaitTime: 5 * time.Second})
	tb.createQueue(t, queue.QueueConfig{Name: "a"})

	got, err := tb.b.QueueURL("b")
	require.NoError(t, err)
	require.Equal(t, url, got)
	_, err = tb.b.QueueURL("c")
	requireCode(t, err, queue.CodeQueueDoesNotExist)

	urls, err := tb.b.ListQueues("")
	require.NoError(t, err)
	require.Equal(t, []string{
		"http://sqs.us-east-1.localhost/123456789012/a",
		url,
		dlq,
	}, urls)
	urls, err = tb.b.ListQueues("b-")
	require.NoError(t, err)
	require.Equal(t, []string{dlq}, urls)

	tb.send(t, url, "one")
	tb.send(t, url, "two")
	d := 3
	_, err = tb.b.Send(tb.ctx, queue.SendParams{QueueURL: url, Body: "later", DelaySeconds: &d})
	require.NoError(t, err)
	require.Len(t, tb.receive(t, url, 1), 1)

	info, err := tb.b.Describe(url)
	require.NoError(t, err)
	require.Equal(t, "arn:aws:sqs:us-east-1:123456789012:b", info.ARN)
	require.Equal(t, 5*time.Second, info.Config.ReceiveMessageWaitTime)
	require.Equal(t, 30*time.Second, info.Config.VisibilityTimeout)
	require.Equal(t, queue.Stats{Visible: 1, InFlight: 1, Delayed: 1, Sent: 3}, info.Stats)

	require.NoError(t, tb.b.PurgeQueue(url))
	require.Equal(t, queue.Stats{Sent: 3}, tb.stats(t, url))
	require.Empty(t, tb.receive(t, url, 10))

	// Deleting the dead-letter queue takes the redrive policy off b.
	require.NoError(t, tb.b.DeleteQueue(dlq))
	info, err = tb.b.Describe(url)
	require.NoError(t, err)
	require.Empty(t, info.Config.DeadLetterURL)
	require.Zero(t, info.Config.MaxReceiveCount)
	_, err = tb.b.Stats(dlq)
	requireCode(t, err, queue.CodeQueueDoesNotExist)
	requireCode(t, tb.b.DeleteQueue(dlq), queue.CodeQueueDoesNotExist)
	requireCode(t, tb.b.PurgeQueue(dlq), queue.CodeQueueDoesNotExist)
	// Its name is free again.
	tb.createQueue(t, queue.QueueConfig{Name: "b-dlq"})

	_, err = tb.b.CreateQueue(queue.QueueConfig{Name: "w", ReceiveMessageWaitTime: 21 * time.Second})
	requireCode(t, err, queue.CodeInvalidAttributeValue)

	require.NoError(t, tb.b.Close())
	_, err = tb.b.ListQueues("")
	require.ErrorIs(t, err, queue.ErrClosed)
	_, err = tb.b.QueueURL("b")
	require.ErrorIs(t, err, queue.ErrClosed)
}

func TestDeleteQueueEndsLongPolls(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "going"})
		done := make(chan error, 1)
		go func() {
			_, err := tb.b.ReceiveMessage(tb.ctx, url, 1, 20*time.Second)
			done <- err
		}()
		synctest.Wait()
		require.NoError(t, tb.b.DeleteQueue(url))
		requireCode(t, <-done, queue.CodeQueueDoesNotExist)
	})
}

func TestReceiveVisibilityTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "vis"})
		tb.send(t, url, "x")
		short := 2 * time.Second
		msgs, err := tb.b.Receive(tb.ctx, queue.ReceiveParams{QueueURL: url, Max: 1, VisibilityTimeout: &short})
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		time.Sleep(3 * time.Second) // the bubble's fake clock
		require.Len(t, tb.receive(t, url, 1), 1, "visible again after the receive's own timeout, before the queue's 30 s")

		long := 13 * time.Hour
		_, err = tb.b.Receive(tb.ctx, queue.ReceiveParams{QueueURL: url, Max: 1, VisibilityTimeout: &long})
		requireCode(t, err, queue.CodeInvalidParameterValue)
	})
}

func TestTypedAttributes(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	url := tb.createQueue(t, queue.QueueConfig{Name: "typed"})
	res, err := tb.b.Send(tb.ctx, queue.SendParams{QueueURL: url, Body: "x", Attributes: map[string]queue.Attribute{
		"n":   {DataType: "Number.int", StringValue: "42"},
		"bin": {DataType: "Binary", BinaryValue: []byte{1, 2}},
	}})
	require.NoError(t, err)
	require.Len(t, res.MD5OfAttributes, 32)
	require.Len(t, res.MD5OfBody, 32)
	msgs := tb.receive(t, url, 1)
	require.Equal(t, res.MD5OfAttributes, msgs[0].Md5OfMessageAttributes)
	require.Equal(t, "Number.int", msgs[0].MessageAttributes["n"].DataType)
	require.Equal(t, "42", *msgs[0].MessageAttributes["n"].StringValue)
	require.Equal(t, []byte{1, 2}, msgs[0].MessageAttributes["bin"].BinaryValue)
	require.Nil(t, msgs[0].MessageAttributes["bin"].StringValue)

	for name, a := range map[string]queue.Attribute{
		"empty string":      {DataType: "String"},
		"not a number":      {DataType: "Number", StringValue: "x"},
		"empty binary":      {DataType: "Binary"},
		"binary and string": {DataType: "Binary", BinaryValue: []byte{1}, StringValue: "s"},
		"string and binary": {DataType: "String", StringValue: "s", BinaryValue: []byte{1}},
		"unknown type":      {DataType: "Date", StringValue: "today"},
		"empty label":       {DataType: "String.", StringValue: "s"},
	} {
		_, err := tb.b.Send(tb.ctx, queue.SendParams{QueueURL: url, Body: "x", Attributes: map[string]queue.Attribute{"a": a}})
		requireCode(t, err, queue.CodeInvalidParameterValue)
		require.Contains(t, err.Error(), `"a"`, name)
	}
	bad := -1
	_, err = tb.b.Send(tb.ctx, queue.SendParams{QueueURL: url, Body: "x", DelaySeconds: &bad})
	requireCode(t, err, queue.CodeInvalidParameterValue)
}
