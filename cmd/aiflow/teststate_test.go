package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// TestDocumentedTestState runs docs/local-engine.md's test-state command
// against `aiflow engine`: through the sfn client always, and with the
// AWS CLI where it is installed and knows test-state, whose output must be
// the one the guide shows.
func TestDocumentedTestState(t *testing.T) {
	t.Parallel()
	line := strings.TrimSpace(markedBlock(t, "docs/local-engine.md", "engine-test-state"))
	want := markedBlock(t, "docs/local-engine.md", "engine-test-state-output")
	f := shellFields(t, line)
	require.Equal(t, []string{"HTTP_PROXY=http://127.0.0.1:8083", "aws", "stepfunctions", "--endpoint-url", "http://127.0.0.1:8083", "test-state"}, f[:6])
	opts := map[string]string{}
	for i := 6; i+1 < len(f); i += 2 {
		opts[strings.TrimPrefix(f[i], "--")] = f[i+1]
	}

	p := startEngine(t, nil, "--in-memory")
	out, err := p.client(t).TestState(context.Background(), sfn.TestStateInput{
		Definition: opts["definition"], Input: opts["input"], InspectionLevel: opts["inspection-level"],
	})
	require.NoError(t, err)
	require.Equal(t, sfn.TestStatusSucceeded, out.Status)
	require.Contains(t, want, `"nextState": "`+out.NextState+`"`)
	require.Contains(t, want, strings.ReplaceAll(strings.ReplaceAll(out.Output, `\`, `\\`), `"`, `\"`))

	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Log("the AWS CLI is not installed: the command was checked through the sfn client only")
		return
	}
	args := slices.Clone(f[2:])
	args[2] = p.endpoint
	run := exec.Command(aws, args...)
	run.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(strings.ToUpper(kv), "HTTP_PROXY=")
	}), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "HTTP_PROXY="+p.endpoint)
	got, err := run.CombinedOutput()
	if err != nil && strings.Contains(string(got), "Invalid choice") {
		t.Log("this AWS CLI predates test-state: the command was checked through the sfn client only")
		return
	}
	require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), got)
	require.Equal(t, want, string(got))
}
