package sqsapi_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"
)

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestQueueLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.createQueue(t, "ai-steps", map[string]string{
		"VisibilityTimeout":             "60",
		"DelaySeconds":                  "0",
		"MessageRetentionPeriod":        "3600",
		"ReceiveMessageWaitTimeSeconds": "1",
	})

	// Creating it again with the same attributes is the same queue.
	again := b.createQueue(t, "ai-steps", map[string]string{
		"VisibilityTimeout": "60", "MessageRetentionPeriod": "3600", "ReceiveMessageWaitTimeSeconds": "1",
	})
	require.Equal(t, url, again)

	got, err := b.sqs.GetQueueUrl(b.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("ai-steps")})
	require.NoError(t, err)
	require.Equal(t, url, *got.QueueUrl)

	b.createQueue(t, "ai-steps-dlq", nil)
	b.createQueue(t, "mcp-steps", nil)
	list, err := b.sqs.ListQueues(b.ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("ai-")})
	require.NoError(t, err)
	require.Len(t, list.QueueUrls, 2)
	require.Equal(t, url, list.QueueUrls[0])
	require.Nil(t, list.NextToken)

	// Paging.
	page, err := b.sqs.ListQueues(b.ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2)})
	require.NoError(t, err)
	require.Len(t, page.QueueUrls, 2)
	require.NotNil(t, page.NextToken)
	page, err = b.sqs.ListQueues(b.ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2), NextToken: page.NextToken})
	require.NoError(t, err)
	require.Len(t, page.QueueUrls, 1)
	require.Nil(t, page.NextToken)

	// Send one message, and a batch with attributes of every type.
	trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	one, err := b.sqs.SendMessage(b.ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(`{"taskToken":"t1"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"attribName1": {DataType: aws.String("String"), StringValue: aws.String("attribValue 1")},
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(trace)},
		},
	})
	require.NoError(t, err)
	require.Equal(t, md5Hex(`{"taskToken":"t1"}`), *one.MD5OfMessageBody)
	// The digest SQS gives this one attribute, as published with
	// independent implementations of the algorithm.
	require.Equal(t, "19e27d4e946b072f3f58da80d94fd778", *one.MD5OfMessageAttributes)
	require.NotEmpty(t, aws.ToString(one.MD5OfMessageSystemAttributes))

	batch, err := b.sqs.SendMessageBatch(b.ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(url),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("body a"), MessageAttributes: map[string]types.MessageAttributeValue{
				"kind":  {DataType: aws.String("String"), StringValue: aws.String("ai")},
				"tries": {DataType: aws.String("Number.int"), StringValue: aws.String("3")},
				"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xff}},
			}},
			{Id: aws.String("b"), MessageBody: aws.String("body b")},
			{Id: aws.String("bad"), MessageBody: aws.String("body"), MessageAttributes: map[string]types.MessageAttributeValue{
				"n": {DataType: aws.String("Number"), StringValue: aws.String("not a number")},
			}},
		},
	})
	require.NoError(t, err)
	require.Len(t, batch.Successful, 2)
	require.Len(t, batch.Failed, 1)
	require.Equal(t, "bad", *batch.Failed[0].Id)
	require.True(t, batch.Failed[0].SenderFault)
	require.Equal(t, "InvalidParameterValue", *batch.Failed[0].Code)
	require.Contains(t, *batch.Failed[0].Message, "not a number")
	sentDigest := map[string]string{}
	for _, e := range batch.Successful {
		sentDigest[*e.Id] = aws.ToString(e.MD5OfMessageAttributes)
	}
	require.Len(t, sentDigest["a"], 32)
	require.Empty(t, sentDigest["b"])

	attrs, err := b.sqs.GetQueueAttributes(b.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"QueueArn":                              "arn:aws:sqs:us-east-1:123456789012:ai-steps",
		"ApproximateNumberOfMessages":           "3",
		"ApproximateNumberOfMessagesNotVisible": "0",
		"ApproximateNumberOfMessagesDelayed":    "0",
		"VisibilityTimeout":                     "60",
		"DelaySeconds":                          "0",
		"MessageRetentionPeriod":                "3600",
		"MaximumMessageSize":                    "262144",
		"ReceiveMessageWaitTimeSeconds":         "1",
	}, attrs.Attributes)

	// Receive all three with every attribute; the SDK checks the body
	// digests, the test the attribute digests.
	recv, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             0,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	require.NoError(t, err)
	require.Len(t, recv.Messages, 3)
	first := recv.Messages[0]
	require.Equal(t, *one.MessageId, *first.MessageId)
	require.Equal(t, "19e27d4e946b072f3f58da80d94fd778", *first.MD5OfMessageAttributes)
	require.Equal(t, trace, first.Attributes["AWSTraceHeader"])
	require.Equal(t, "1", first.Attributes["ApproximateReceiveCount"])
	sent, err := strconv.ParseInt(first.Attributes["SentTimestamp"], 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().UnixMilli(), sent, float64(time.Hour.Milliseconds()))
	a := recv.Messages[1]
	require.Equal(t, "body a", *a.Body)
	require.Equal(t, sentDigest["a"], *a.MD5OfMessageAttributes)
	require.Equal(t, "Number.int", *a.MessageAttributes["tries"].DataType)
	require.Equal(t, "3", *a.MessageAttributes["tries"].StringValue)
	require.Equal(t, []byte{0, 1, 2, 0xff}, a.MessageAttributes["blob"].BinaryValue)
	require.Nil(t, recv.Messages[2].MessageAttributes)
	require.Nil(t, recv.Messages[2].MD5OfMessageAttributes)

	attrs, err = b.sqs.GetQueueAttributes(b.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "3"}, attrs.Attributes)

	// Make the first visible again and receive it with only some of its
	// attributes: the digest is of those.
	_, err = b.sqs.ChangeMessageVisibility(b.ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0,
	})
	require.NoError(t, err)
	again2, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MessageAttributeNames: []string{"nothing.*"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	require.NoError(t, err)
	require.Len(t, again2.Messages, 1)
	require.Equal(t, map[string]string{"ApproximateReceiveCount": "2"}, again2.Messages[0].Attributes)
	require.Nil(t, again2.Messages[0].MessageAttributes)
	require.Nil(t, again2.Messages[0].MD5OfMessageAttributes)

	// Batch delete: two good handles, one replaced by the later receive,
	// one made up.
	del, err := b.sqs.DeleteMessageBatch(b.ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(url),
		Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("first"), ReceiptHandle: again2.Messages[0].ReceiptHandle},
			{Id: aws.String("a"), ReceiptHandle: a.ReceiptHandle},
			{Id: aws.String("stale"), ReceiptHandle: first.ReceiptHandle},
			{Id: aws.String("made-up"), ReceiptHandle: aws.String("no-such-handle")},
		},
	})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"first", "a"}, []string{*del.Successful[0].Id, *del.Successful[1].Id})
	require.Len(t, del.Failed, 2)
	for _, f := range del.Failed {
		require.Equal(t, "ReceiptHandleIsInvalid", *f.Code)
		require.True(t, f.SenderFault)
	}

	// ChangeMessageVisibilityBatch, then DeleteMessage of the last one.
	last := recv.Messages[2]
	vis, err := b.sqs.ChangeMessageVisibilityBatch(b.ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(url),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("last"), ReceiptHandle: last.ReceiptHandle, VisibilityTimeout: 120},
			{Id: aws.String("gone"), ReceiptHandle: a.ReceiptHandle, VisibilityTimeout: 120},
		},
	})
	require.NoError(t, err)
	require.Len(t, vis.Successful, 1)
	require.Equal(t, "last", *vis.Successful[0].Id)
	require.Len(t, vis.Failed, 1)
	require.Equal(t, "gone", *vis.Failed[0].Id)
	_, err = b.sqs.DeleteMessage(b.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: last.ReceiptHandle})
	require.NoError(t, err)

	// Purge, then delete the queue.
	b.send(t, url, "to purge")
	b.send(t, url, "to purge too")
	_, err = b.sqs.PurgeQueue(b.ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	require.NoError(t, err)
	empty, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 0})
	require.NoError(t, err)
	require.Empty(t, empty.Messages)

	_, err = b.sqs.DeleteQueue(b.ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	require.NoError(t, err)
	_, err = b.sqs.GetQueueUrl(b.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("ai-steps")})
	var notFound *types.QueueDoesNotExist
	require.ErrorAs(t, err, &notFound)
}

func TestLongPoll(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.createQueue(t, "long", nil)

	type result struct {
		out *sqs.ReceiveMessageOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		done <- result{out, err}
	}()
	id := b.send(t, url, "wake up")
	select {
	case r := <-done:
		require.NoError(t, r.err)
		require.Len(t, r.out.Messages, 1)
		require.Equal(t, id, *r.out.Messages[0].MessageId)
	case <-time.After(30 * time.Second):
		t.Fatal("the long poll did not return the message sent while it waited")
	}

	// The long poll ends with the caller's context.
	ctx, cancel := context.WithTimeout(b.ctx, 200*time.Millisecond)
	defer cancel()
	_, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
	require.Error(t, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dlq := b.createQueue(t, "steps-dlq", nil)
	dlqAttrs, err := b.sqs.GetQueueAttributes(b.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlq), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	require.NoError(t, err)
	policy, err := json.Marshal(map[string]any{"deadLetterTargetArn": dlqAttrs.Attributes["QueueArn"], "maxReceiveCount": "2"})
	require.NoError(t, err)
	url := b.createQueue(t, "steps", map[string]string{"RedrivePolicy": string(policy)})

	attrs, err := b.sqs.GetQueueAttributes(b.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy},
	})
	require.NoError(t, err)
	require.JSONEq(t, `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:steps-dlq","maxReceiveCount":2}`, attrs.Attributes["RedrivePolicy"])

	id := b.send(t, url, "poison")
	for i := 1; i <= 2; i++ {
		out, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), VisibilityTimeout: 0,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		require.NoError(t, err)
		require.Len(t, out.Messages, 1, "receive %d", i)
		require.Equal(t, strconv.Itoa(i), out.Messages[0].Attributes["ApproximateReceiveCount"])
		// A visibility timeout of 0 on the receive returns it at once; so
		// does this.
		_, err = b.sqs.ChangeMessageVisibility(b.ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(url), ReceiptHandle: out.Messages[0].ReceiptHandle, VisibilityTimeout: 0,
		})
		if err != nil {
			var notInflight *types.MessageNotInflight
			require.ErrorAs(t, err, &notInflight)
		}
	}
	out, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	require.NoError(t, err)
	require.Empty(t, out.Messages, "the message received maxReceiveCount times left the queue")

	out, err = b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(dlq), WaitTimeSeconds: 5,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	require.Equal(t, id, *out.Messages[0].MessageId)
	require.Equal(t, "poison", *out.Messages[0].Body)
	require.Equal(t, "1", out.Messages[0].Attributes["ApproximateReceiveCount"])
}
