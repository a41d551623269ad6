package sqsapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
)

// requireAPIError checks that err is an API error with the given code
// (the query-compatible code the SDK reports) whose message mentions
// each of mentions, and returns it.
func requireAPIError(t *testing.T, err error, code string, mentions ...string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, code, ae.ErrorCode(), "%v", err)
	require.Equal(t, smithy.FaultClient, ae.ErrorFault())
	for _, m := range mentions {
		require.Contains(t, ae.ErrorMessage(), m)
	}
	return ae
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.createQueue(t, "typed", nil)
	missing := b.srv.URL + "/123456789012/missing"

	t.Run("QueueDoesNotExist", func(t *testing.T) {
		t.Parallel()
		for _, call := range []func() error{
			func() error {
				_, err := b.sqs.GetQueueUrl(b.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
				return err
			},
			func() error {
				_, err := b.sqs.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(missing), MessageBody: aws.String("x")})
				return err
			},
			func() error {
				_, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(missing)})
				return err
			},
			func() error {
				_, err := b.sqs.DeleteQueue(b.ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(missing)})
				return err
			},
			func() error {
				_, err := b.sqs.SendMessageBatch(b.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(missing),
					Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("1"), MessageBody: aws.String("x")}}})
				return err
			},
		} {
			err := call()
			var typed *types.QueueDoesNotExist
			require.ErrorAs(t, err, &typed)
			requireAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "missing")
		}
	})

	t.Run("QueueNameExists", func(t *testing.T) {
		t.Parallel()
		_, err := b.sqs.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String("typed"),
			Attributes: map[string]string{"DelaySeconds": "5"}})
		var typed *types.QueueNameExists
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "QueueAlreadyExists", "typed")
	})

	t.Run("ReceiptHandleIsInvalid", func(t *testing.T) {
		t.Parallel()
		_, err := b.sqs.DeleteMessage(b.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("bogus")})
		var typed *types.ReceiptHandleIsInvalid
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "ReceiptHandleIsInvalid", "bogus")
		_, err = b.sqs.ChangeMessageVisibility(b.ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("bogus"), VisibilityTimeout: 5})
		require.ErrorAs(t, err, &typed)
	})

	t.Run("InvalidAttributeName", func(t *testing.T) {
		t.Parallel()
		_, err := b.sqs.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String("other"),
			Attributes: map[string]string{"VisibilityTimeOut": "5"}})
		var typed *types.InvalidAttributeName
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "InvalidAttributeName", "VisibilityTimeOut")
		_, err = b.sqs.GetQueueAttributes(b.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{"NoSuchAttribute"}})
		require.ErrorAs(t, err, &typed)
	})

	t.Run("InvalidAttributeValue", func(t *testing.T) {
		t.Parallel()
		for attr, value := range map[string]string{
			"VisibilityTimeout":      "43201",
			"DelaySeconds":           "soon",
			"MessageRetentionPeriod": "59",
			"RedrivePolicy":          `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:typed","maxReceiveCount":0}`,
		} {
			_, err := b.sqs.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String("bad-values"),
				Attributes: map[string]string{attr: value}})
			var typed *types.InvalidAttributeValue
			require.ErrorAs(t, err, &typed, attr)
			requireAPIError(t, err, "InvalidAttributeValue", attr)
		}
	})

	t.Run("InvalidMessageContents", func(t *testing.T) {
		t.Parallel()
		_, err := b.sqs.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("bell \a")})
		var typed *types.InvalidMessageContents
		require.ErrorAs(t, err, &typed)
	})

	t.Run("MessageNotInflight", func(t *testing.T) {
		t.Parallel()
		q := b.createQueue(t, "inflight", nil)
		b.send(t, q, "x")
		out, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q)})
		require.NoError(t, err)
		h := out.Messages[0].ReceiptHandle
		_, err = b.sqs.ChangeMessageVisibility(b.ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: h, VisibilityTimeout: 0})
		require.NoError(t, err)
		_, err = b.sqs.ChangeMessageVisibility(b.ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: h, VisibilityTimeout: 0})
		var typed *types.MessageNotInflight
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "AWS.SimpleQueueService.MessageNotInflight")
	})

	t.Run("UnsupportedOperation", func(t *testing.T) {
		t.Parallel()
		var typed *types.UnsupportedOperation
		_, err := b.sqs.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs.fifo"),
			Attributes: map[string]string{"FifoQueue": "true"}})
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "AWS.SimpleQueueService.UnsupportedOperation", "FIFO")
		_, err = b.sqs.CreateQueue(b.ctx, &sqs.CreateQueueInput{QueueName: aws.String("secret"),
			Attributes: map[string]string{"KmsMasterKeyId": "alias/aws/sqs"}})
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "AWS.SimpleQueueService.UnsupportedOperation", "KmsMasterKeyId")
		_, err = b.sqs.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
		require.ErrorAs(t, err, &typed)
		_, err = b.sqs.SetQueueAttributes(b.ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"DelaySeconds": "1"}})
		require.ErrorAs(t, err, &typed)
		requireAPIError(t, err, "AWS.SimpleQueueService.UnsupportedOperation", "SetQueueAttributes")
		// FifoQueue false and SSE off ask for nothing and pass.
		b.createQueue(t, "plain", map[string]string{"FifoQueue": "false", "SqsManagedSseEnabled": "false"})
	})

	t.Run("batch errors", func(t *testing.T) {
		t.Parallel()
		send := func(entries ...types.SendMessageBatchRequestEntry) error {
			if entries == nil {
				entries = []types.SendMessageBatchRequestEntry{} // nil is refused by the SDK itself
			}
			_, err := b.sqs.SendMessageBatch(b.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
			return err
		}
		entry := func(id string) types.SendMessageBatchRequestEntry {
			return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("x")}
		}
		var empty *types.EmptyBatchRequest
		require.ErrorAs(t, send(), &empty)
		var tooMany *types.TooManyEntriesInBatchRequest
		var many []types.SendMessageBatchRequestEntry
		for i := range 11 {
			many = append(many, entry(strings.Repeat("x", i+1)))
		}
		require.ErrorAs(t, send(many...), &tooMany)
		var distinct *types.BatchEntryIdsNotDistinct
		require.ErrorAs(t, send(entry("a"), entry("a")), &distinct)
		var badID *types.InvalidBatchEntryId
		require.ErrorAs(t, send(entry("not ok")), &badID)
		var tooLong *types.BatchRequestTooLong
		big := strings.Repeat("y", 200_000)
		var bigs []types.SendMessageBatchRequestEntry
		for i := range 6 {
			bigs = append(bigs, types.SendMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), MessageBody: aws.String(big)})
		}
		require.ErrorAs(t, send(bigs...), &tooLong)
		_, err := b.sqs.DeleteMessageBatch(b.ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{}})
		require.ErrorAs(t, err, &empty)
	})

	t.Run("InvalidParameterValue", func(t *testing.T) {
		t.Parallel()
		_, err := b.sqs.ReceiveMessage(b.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11})
		requireAPIError(t, err, "InvalidParameterValue", "MaxNumberOfMessages")
		_, err = b.sqs.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x"), DelaySeconds: 901})
		requireAPIError(t, err, "InvalidParameterValue", "DelaySeconds")
		var generic *smithy.GenericAPIError
		require.True(t, errors.As(err, &generic), "an error SQS does not model is generic: %T", err)
	})
}
