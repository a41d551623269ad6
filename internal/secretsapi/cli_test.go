package secretsapi_test

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
)

// TestAWSCLI drives the API with the AWS CLI, as docs/deploy.md tells a
// developer to change a secret.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cli := awsjsontest.NewCLI(t, "secretsmanager", b.srv.URL)
	command := func(args ...string) *exec.Cmd { return cli.Command(b.ctx, args...) }
	run := func(args ...string) map[string]any {
		t.Helper()
		return cli.Run(t, b.ctx, args...)
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
