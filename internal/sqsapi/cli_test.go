package sqsapi_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAWSCLI drives the API with the AWS CLI, which checks the digests of
// bodies and message attributes itself.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH; install it to run this test")
	}
	b := setup(t)
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.CommandContext(b.ctx, awsPath, append([]string{"sqs", "--endpoint-url", b.srv.URL, "--output", "json"}, args...)...)
		cmd.Env = []string{
			"PATH=" + filepath.Dir(awsPath) + ":/usr/bin:/bin",
			"HOME=" + dir,
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
			"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
			"AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1",
			"AWS_PAGER=",
			"AWS_MAX_ATTEMPTS=1",
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws sqs %v: %s", args, out)
		res := map[string]any{}
		if len(out) > 0 {
			require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		}
		return res
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
