package sfnapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
)

// debianAWSCLI is where Debian's awscli package installs the AWS CLI,
// which CI installs.
const debianAWSCLI = "/usr/bin/aws"

// awsCLIs returns the AWS CLIs to test with, by label: the one on PATH,
// and Debian's when it is another installation. It skips the test when
// there is none.
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	clis := map[string]string{}
	seen := map[string]bool{}
	add := func(label, path string) {
		real, err := filepath.EvalSymlinks(path)
		if err != nil || seen[real] {
			return
		}
		seen[real] = true
		clis[label] = path
	}
	if path, err := exec.LookPath("aws"); err == nil {
		add("PATH", path)
	}
	if _, err := os.Stat(debianAWSCLI); err == nil {
		add("Debian", debianAWSCLI)
	}
	if len(clis) == 0 {
		t.Skip("the AWS CLI (aws) is not installed; install it to run this test")
	}
	return clis
}

// cannotConnect is what the AWS CLI says when the "sync-" host it made
// from the endpoint does not resolve.
const cannotConnect = "Could not connect to the endpoint URL"

// TestAWSCLISyncOperations drives the operations whose endpoint the AWS
// CLI gives the "sync-" host prefix (StartSyncExecution, TestState) with
// the settings docs/local-engine.md documents: HTTP_PROXY naming the
// engine, which every CLI version honours and the engine answers for any
// host, and AWS_DISABLE_HOST_PREFIX_INJECTION, which newer ones read.
func TestAWSCLISyncOperations(t *testing.T) {
	t.Parallel()
	guide, err := os.ReadFile("../../docs/local-engine.md")
	require.NoError(t, err)
	for _, setting := range []string{"HTTP_PROXY=http://127.0.0.1:8083 aws stepfunctions", "AWS_DISABLE_HOST_PREFIX_INJECTION=true"} {
		require.Contains(t, string(guide), setting, "the guide documents the setting this test uses")
	}
	for label, path := range awsCLIs(t) {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			cli := awsjsontest.NewCLIAt(t, path, "stepfunctions", b.srv.URL)
			arn := cli.Run(t, b.ctx, "create-state-machine", "--name", "hello", "--type", "EXPRESS",
				"--role-arn", testRole,
				"--definition", `{"StartAt":"Hello","States":{"Hello":{"Type":"Pass","Parameters":{"greeting.$":"$.name"},"End":true}}}`,
			)["stateMachineArn"].(string)

			run := func(env string, args ...string) ([]byte, error) {
				t.Helper()
				cmd := cli.Command(b.ctx, args...)
				cmd.Env = append(cmd.Env, env)
				return cmd.CombinedOutput()
			}
			startSync := func(env string) ([]byte, error) {
				t.Helper()
				return run(env, "start-sync-execution", "--state-machine-arn", arn, "--input", `{"name":"Ada"}`)
			}

			out, err := startSync("HTTP_PROXY=" + b.srv.URL)
			require.NoError(t, err, "%s", out)
			var x struct {
				Status string `json:"status"`
				Output string `json:"output"`
			}
			require.NoError(t, json.Unmarshal(out, &x), "%s", out)
			require.Equal(t, "SUCCEEDED", x.Status)
			require.JSONEq(t, `{"greeting":"Ada"}`, x.Output)

			out, err = startSync("AWS_DISABLE_HOST_PREFIX_INJECTION=true")
			if err != nil && strings.Contains(string(out), cannotConnect) {
				t.Logf("this AWS CLI predates AWS_DISABLE_HOST_PREFIX_INJECTION; HTTP_PROXY is its setting: %s", out)
			} else {
				require.NoError(t, err, "%s", out)
				require.Contains(t, string(out), `"SUCCEEDED"`)
			}

			// TestState has the same host prefix.
			out, err = run("HTTP_PROXY="+b.srv.URL, "test-state", "--role-arn", testRole, "--input", `{"who":"Ada"}`,
				"--inspection-level", "DEBUG",
				"--definition", `{"Type":"Pass","Parameters":{"greeting.$":"States.Format('hello {}', $.who)"},"ResultPath":"$.result","Next":"Done"}`)
			if err != nil && strings.Contains(string(out), "Invalid choice") {
				t.Log("this AWS CLI predates test-state")
				return
			}
			require.NoError(t, err, "%s", out)
			var ts struct {
				Status         string `json:"status"`
				Output         string `json:"output"`
				NextState      string `json:"nextState"`
				InspectionData struct {
					AfterParameters string `json:"afterParameters"`
				} `json:"inspectionData"`
			}
			require.NoError(t, json.Unmarshal(out, &ts), "%s", out)
			require.Equal(t, "SUCCEEDED", ts.Status)
			require.Equal(t, "Done", ts.NextState)
			require.Equal(t, `{"who":"Ada","result":{"greeting":"hello Ada"}}`, ts.Output)
			require.Equal(t, `{"greeting":"hello Ada"}`, ts.InspectionData.AfterParameters)
		})
	}
}
