package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// awsCLI runs the AWS CLI's stepfunctions commands against an endpoint.
// TestState's host prefix ("sync-") names no host here, so the CLI
// reaches the engine through it as a proxy, as docs/local-engine.md says.
type awsCLI struct {
	path, endpoint string
}

// run runs one command and decodes its JSON answer (nil for an empty
// one). ok is false, and the test says so, when this CLI lacks the
// command or one of its options.
func (c awsCLI) run(t *testing.T, args ...string) (res map[string]any, ok bool) {
	t.Helper()
	cmd := exec.Command(c.path, append([]string{"stepfunctions", "--endpoint-url", c.endpoint, "--output", "json"}, args...)...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		up := strings.ToUpper(kv)
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(up, "HTTP_PROXY=") || strings.HasPrefix(up, "NO_PROXY=")
	}), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	if args[0] == "test-state" {
		cmd.Env = append(cmd.Env, "HTTP_PROXY="+c.endpoint)
	}
	out, err := cmd.CombinedOutput()
	if err != nil && (strings.Contains(string(out), "Invalid choice") || strings.Contains(string(out), "Unknown options")) {
		t.Logf("this AWS CLI lacks `aws stepfunctions %s` (or one of its options): that step is skipped", args[0])
		return nil, false
	}
	require.NoError(t, err, "aws stepfunctions %s: %s", strings.Join(args, " "), out)
	if strings.TrimSpace(string(out)) == "" {
		return nil, true
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	return res, true
}

// must is run for the commands every supported CLI has.
func (c awsCLI) must(t *testing.T, args ...string) map[string]any {
	t.Helper()
	res, ok := c.run(t, args...)
	require.True(t, ok, "the AWS CLI lacks `aws stepfunctions %s`", args[0])
	return res
}

// TestEngineParityWithTheAWSCLI drives `aiflow engine` with the AWS CLI
// through issue 19's operations: a JSONata state machine whose activity
// task fails, is redriven and resumes at the failed state; versions and
// an alias with routing weights, an execution started on the alias and
// the definition it ran; tags; and test-state on a JSONata state. A step
// whose command this CLI lacks (an older CLI has no redrive, versions or
// aliases) is skipped and logged.
func TestEngineParityWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not installed; install it to run this test")
	}
	p := startEngine(t, nil, "--in-memory")
	cli := awsCLI{path: path, endpoint: p.endpoint}
	const role = "arn:aws:iam::123456789012:role/local"

	t.Run("ActivityRedriveJSONata", func(t *testing.T) {
		t.Parallel()
		activity := cli.must(t, "create-activity", "--name", "packer")["activityArn"].(string)
		definition := `{"QueryLanguage": "JSONata", "StartAt": "Prepare", "States": {
		  "Prepare": {"Type": "Pass", "Assign": {"order": "{% $states.input.order %}"}, "Next": "Pack"},
		  "Pack": {"Type": "Task", "Resource": "` + activity + `", "Arguments": {"order": "{% $order %}"},
		    "Output": {"order": "{% $order %}", "packed": "{% $states.result.box %}"}, "End": true}}}`
		sm := cli.must(t, "create-state-machine", "--name", "packing", "--role-arn", role, "--definition", definition)["stateMachineArn"].(string)
		exec := cli.must(t, "start-execution", "--state-machine-arn", sm, "--input", `{"order": "o-1"}`)["executionArn"].(string)

		task := cli.must(t, "get-activity-task", "--activity-arn", activity, "--worker-name", "w1")
		require.JSONEq(t, `{"order": "o-1"}`, task["input"].(string), "the worker gets the task's Arguments")
		cli.must(t, "send-task-failure", "--task-token", task["taskToken"].(string), "--error", "Packer.Busy", "--cause", "no boxes")
		failed := waitClosed(t, p.client(t), exec)
		require.Equal(t, sfn.StatusFailed, failed.Status)
		require.Equal(t, "Packer.Busy", failed.Error)

		if _, ok := cli.run(t, "redrive-execution", "--execution-arn", exec); !ok {
			return
		}
		task = cli.must(t, "get-activity-task", "--activity-arn", activity, "--worker-name", "w2")
		require.JSONEq(t, `{"order": "o-1"}`, task["input"].(string), "the redriven task sees the variables the execution had")
		cli.must(t, "send-task-success", "--task-token", task["taskToken"].(string), "--task-output", `{"box": "b-7"}`)
		require.Equal(t, sfn.StatusSucceeded, waitClosed(t, p.client(t), exec).Status)
		d := cli.must(t, "describe-execution", "--execution-arn", exec)
		require.Equal(t, "SUCCEEDED", d["status"])
		require.EqualValues(t, 1, d["redriveCount"])
		require.JSONEq(t, `{"order": "o-1", "packed": "b-7"}`, d["output"].(string))
		// Redrive resumed at the failed state: Prepare ran once, the
		// activity was scheduled twice.
		types := historyTypes(t, p.client(t), exec)
		count := func(typ string) int {
			return len(slices.DeleteFunc(slices.Clone(types), func(s string) bool { return s != typ }))
		}
		require.Equal(t, 1, count("PassStateEntered"), "%v", types)
		require.Equal(t, 2, count("ActivityScheduled"), "%v", types)
		require.Equal(t, 1, count("ExecutionRedriven"), "%v", types)
	})

	t.Run("VersionsAliases", func(t *testing.T) {
		t.Parallel()
		pass := func(v string) string {
			return `{"StartAt": "Answer", "States": {"Answer": {"Type": "Pass", "Result": "` + v + `", "End": true}}}`
		}
		sm := cli.must(t, "create-state-machine", "--name", "aliased", "--role-arn", role, "--definition", pass("v1"))["stateMachineArn"].(string)
		pub, ok := cli.run(t, "publish-state-machine-version", "--state-machine-arn", sm, "--description", "first")
		if !ok {
			return
		}
		v1 := pub["stateMachineVersionArn"].(string)
		require.Equal(t, sm+":1", v1)
		v2 := cli.must(t, "update-state-machine", "--state-machine-arn", sm, "--definition", pass("v2"), "--publish")["stateMachineVersionArn"].(string)
		require.Equal(t, sm+":2", v2)

		alias := cli.must(t, "create-state-machine-alias", "--name", "live", "--routing-configuration",
			`[{"stateMachineVersionArn": "`+v1+`", "weight": 90}, {"stateMachineVersionArn": "`+v2+`", "weight": 10}]`)["stateMachineAliasArn"].(string)
		require.Equal(t, sm+":live", alias)
		cli.must(t, "update-state-machine-alias", "--state-machine-alias-arn", alias, "--routing-configuration",
			`[{"stateMachineVersionArn": "`+v2+`", "weight": 100}]`)
		d := cli.must(t, "describe-state-machine-alias", "--state-machine-alias-arn", alias)
		require.Equal(t, "live", d["name"])
		require.Equal(t, []any{map[string]any{"stateMachineVersionArn": v2, "weight": float64(100)}}, d["routingConfiguration"])
		list := cli.must(t, "list-state-machine-aliases", "--state-machine-arn", sm)["stateMachineAliases"].([]any)
		require.Len(t, list, 1)
		require.Equal(t, alias, list[0].(map[string]any)["stateMachineAliasArn"])

		exec := cli.must(t, "start-execution", "--state-machine-arn", alias, "--input", `{}`)["executionArn"].(string)
		x := waitClosed(t, p.client(t), exec)
		require.Equal(t, `"v2"`, x.Output)
		def := cli.must(t, "describe-state-machine-for-execution", "--execution-arn", exec)
		require.JSONEq(t, pass("v2"), def["definition"].(string), "the execution ran the version its alias routed it to")
	})

	t.Run("TagsAndTestState", func(t *testing.T) {
		t.Parallel()
		sm := cli.must(t, "create-state-machine", "--name", "tagged", "--role-arn", role,
			"--definition", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}`)["stateMachineArn"].(string)
		if _, ok := cli.run(t, "tag-resource", "--resource-arn", sm, "--tags", `[{"key": "team", "value": "ml"}, {"key": "stage", "value": "dev"}]`); ok {
			cli.must(t, "untag-resource", "--resource-arn", sm, "--tag-keys", "stage")
			tags := cli.must(t, "list-tags-for-resource", "--resource-arn", sm)["tags"]
			require.Equal(t, []any{map[string]any{"key": "team", "value": "ml"}}, tags)
		}

		out, ok := cli.run(t, "test-state", "--inspection-level", "DEBUG", "--variables", `{"limit": 3}`, "--input", `{"n": 5}`,
			"--definition", `{"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [{"Condition": "{% $states.input.n > $limit %}",
			  "Output": {"over": "{% $states.input.n - $limit %}"}, "Assign": {"checked": true}, "Next": "Big"}], "Default": "Small"}`)
		if !ok {
			return
		}
		require.Equal(t, "SUCCEEDED", out["status"])
		require.Equal(t, "Big", out["nextState"])
		require.JSONEq(t, `{"over": 2}`, out["output"].(string))
		insp := out["inspectionData"].(map[string]any)
		require.JSONEq(t, `{"limit": 3, "checked": true}`, insp["variables"].(string))
	})
}
