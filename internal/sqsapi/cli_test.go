package sqsapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
)

// TestAWSCLI drives the API with the AWS CLI, which checks the digests of
// bodies and message attributes itself.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cli := awsjsontest.NewCLI(t, "sqs", b.srv.URL)
	run := func(args ...string) map[string]any {
		t.Helper()
		return cli.Run(t, b.ctx, args...)
	}

	url := run("create-queue", "--queue-name", "cli", "--attributes", "VisibilityTimeout=45")["QueueUrl"].(string)
	require.Equal(t, b.srv.URL+"/123456789012/cli", url)
	require.Equal(t, []any{url}, run("list-queues")["QueueUrls"])
	sent := run("send-message", "--queue-url", url, "--message-body", "from the CLI",
		"--message-attributes", `{"kind":{"DataType":"String","StringValue":"ai"},"n":{"DataType":"Number","StringValue":"7"}}`)
	require.NotEmpty(t, sent["MD5OfMessageAttributes"])
	got := run("receive-message", "--queue-url", url, "--wait-time-seconds", "5",
		"--attribute-names", "All", "--message-attribute-names", "All")
	msgs := got["Messages"].([]any)
	require.Len(t, msgs, 1)
	msg := msgs[0].(map[string]any)
	require.Equal(t, "from the CLI", msg["Body"])
	require.Equal(t, sent["MD5OfMessageAttributes"], msg["MD5OfMessageAttributes"])
	attrs := run("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"].(map[string]any)
	require.Equal(t, "45", attrs["VisibilityTimeout"])
	require.Equal(t, "1", attrs["ApproximateNumberOfMessagesNotVisible"])
	run("delete-message", "--queue-url", url, "--receipt-handle", msg["ReceiptHandle"].(string))
	run("delete-queue", "--queue-url", url)
}
