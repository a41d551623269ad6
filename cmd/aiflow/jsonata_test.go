package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEngineRunsJSONataWithTheAWSCLI creates, starts and describes a
// JSONata state machine on `aiflow engine` with the AWS CLI.
func TestEngineRunsJSONataWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not installed; install it to run this test")
	}
	p := startEngine(t, nil, "--in-memory")
	cli := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"stepfunctions", "--endpoint-url", p.endpoint, "--output", "json"}, args...)...)
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") }),
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), out)
		var res map[string]any
		require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		return res
	}
	definition := `{"QueryLanguage": "JSONata", "StartAt": "Greet", "States": {"Greet": {"Type": "Pass",
	  "Output": {"greeting": "{% 'Hello, ' & $states.input.name & '!' %}", "letters": "{% $length($states.input.name) %}"}, "End": true}}}`
	sm := cli("create-state-machine", "--name", "greeter", "--role-arn", "arn:aws:iam::123456789012:role/local", "--definition", definition)
	x := cli("start-execution", "--state-machine-arn", sm["stateMachineArn"].(string), "--input", `{"name": "Ada"}`)
	arn := x["executionArn"].(string)
	waitClosed(t, p.client(t), arn)
	d := cli("describe-execution", "--execution-arn", arn)
	require.Equal(t, "SUCCEEDED", d["status"])
	require.JSONEq(t, `{"greeting": "Hello, Ada!", "letters": 3}`, d["output"].(string))
}
