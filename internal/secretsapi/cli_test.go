package secretsapi_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAWSCLI drives the API with the AWS CLI, as docs/deploy.md tells a
// developer to change a secret.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH; install it to run this test")
	}
	b := setup(t)
	dir := t.TempDir()
	command := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(b.ctx, awsPath, append([]string{"secretsmanager", "--endpoint-url", b.srv.URL, "--output", "json"}, args...)...)
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
		return cmd
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := command(args...).CombinedOutput()
		require.NoError(t, err, "aws secretsmanager %v: %s", args, out)
		res := map[string]any{}
		require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		return res
	}

	created := run("create-secret", "--name", "aiflow/openai-api-key", "--secret-string", "sk-proj-cli")
	arn := created["ARN"].(string)
	require.Regexp(t, `^arn:aws:secretsmanager:us-east-1:123456789012:secret:aiflow/openai-api-key-[A-Za-z0-9]{6}$`, arn)
	got := run("get-secret-value", "--secret-id", "aiflow/openai-api-key")
	require.Equal(t, "sk-proj-cli", got["SecretString"])
	require.Equal(t, []any{"AWSCURRENT"}, got["VersionStages"])

	run("put-secret-value", "--secret-id", arn, "--secret-string", "sk-proj-changed")
	got = run("get-secret-value", "--secret-id", arn)
	require.Equal(t, "sk-proj-changed", got["SecretString"])
	desc := run("describe-secret", "--secret-id", "aiflow/openai-api-key")
	require.Len(t, desc["VersionIdsToStages"], 2)

	b.create(t, "aiflow/anthropic-api-key", "sk-ant-cli")
	list := run("list-secrets", "--page-size", "1")
	require.Len(t, list["SecretList"], 2, "the CLI follows the pages")

	out, err := command("get-secret-value", "--secret-id", "aiflow/missing").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "ResourceNotFoundException")
}
