package sfnapi_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestAWSCLIRedrive redrives a failed execution with `aws stepfunctions
// redrive-execution` and reads it back as the CLI shows it: described with
// its redrive members, and the ExecutionRedriven event in its history.
func TestAWSCLIRedrive(t *testing.T) {
	t.Parallel()
	guide, err := os.ReadFile("../../docs/local-engine.md")
	require.NoError(t, err)
	const redriveCommand = `aws stepfunctions --endpoint-url http://127.0.0.1:8083 redrive-execution --execution-arn "$EXECUTION_ARN"`
	describeQuery := []string{"--query", "[status, redriveCount, redriveStatus]", "--output", "text"}
	describeCommand := `aws stepfunctions --endpoint-url http://127.0.0.1:8083 describe-execution --execution-arn "$EXECUTION_ARN" --query '[status, redriveCount, redriveStatus]' --output text`
	require.Contains(t, string(guide), redriveCommand, "the guide shows the command this test runs")
	require.Contains(t, string(guide), describeCommand, "the guide shows the command this test runs")
	for label, path := range awsCLIs(t) {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var calls atomic.Int32
			b.fns.Register("Flaky", func(context.Context, json.RawMessage) (json.RawMessage, error) {
				if calls.Add(1) == 1 {
					return nil, &engine.FunctionError{Type: "Flaky.Error", Message: "not yet"}
				}
				return json.RawMessage(`{"ok":true}`), nil
			})
			sm := b.createStateMachine(t, "flaky", sfn.TypeStandard, `{"StartAt":"Prepare","States":{
				"Prepare":{"Type":"Pass","Result":"ready","ResultPath":"$.prepared","Next":"Call"},
				"Call":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Flaky","ResultPath":"$.call","End":true}}}`)
			started, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm, Name: "first", Input: `{"n":1}`})
			require.NoError(t, err)
			arn := started.ExecutionARN
			require.Equal(t, sfn.StatusFailed, b.wait(t, arn).Status)

			cli := awsjsontest.NewCLIAt(t, path, "stepfunctions", b.srv.URL)
			msg, err := cli.Command(b.ctx, "redrive-execution", "--execution-arn", arn).CombinedOutput()
			if err != nil && strings.Contains(string(msg), "Invalid choice") {
				t.Skip("this AWS CLI predates redrive-execution")
			}
			require.NoError(t, err, "%s", msg)
			var out map[string]any
			require.NoError(t, json.Unmarshal(msg, &out), "%s", msg)
			require.NotEmpty(t, out["redriveDate"], "redrive-execution answers the redrive date: %v", out)
			require.Equal(t, sfn.StatusSucceeded, b.wait(t, arn).Status)

			text, err := cli.Command(b.ctx, append([]string{"describe-execution", "--execution-arn", arn}, describeQuery...)...).CombinedOutput()
			require.NoError(t, err, "%s", text)
			require.Equal(t, "SUCCEEDED\t1\tNOT_REDRIVABLE", strings.TrimSpace(string(text)))
			x := cli.Run(t, b.ctx, "describe-execution", "--execution-arn", arn)
			require.Equal(t, "SUCCEEDED", x["status"])
			require.JSONEq(t, `{"n":1,"prepared":"ready","call":{"ok":true}}`, x["output"].(string))
			require.Equal(t, float64(1), x["redriveCount"])
			require.NotEmpty(t, x["redriveDate"])
			require.Equal(t, "NOT_REDRIVABLE", x["redriveStatus"])
			require.Equal(t, sfn.RedriveReasonSucceeded, x["redriveStatusReason"])

			h := cli.Run(t, b.ctx, "get-execution-history", "--execution-arn", arn)
			var redriven map[string]any
			entered := 0
			for _, ev := range h["events"].([]any) {
				e := ev.(map[string]any)
				switch e["type"] {
				case "ExecutionRedriven":
					redriven = e
				case "PassStateEntered":
					entered++
				}
			}
			require.NotNil(t, redriven, "the history has an ExecutionRedriven event")
			require.Equal(t, map[string]any{"redriveCount": float64(1)}, redriven["executionRedrivenEventDetails"])
			require.Equal(t, 1, entered, "the Pass state that succeeded ran once")
			require.Equal(t, int32(2), calls.Load(), "the failed task ran again, once")

			msg, err = cli.Command(b.ctx, "redrive-execution", "--execution-arn", arn).CombinedOutput()
			require.Error(t, err, "a SUCCEEDED execution cannot be redriven: %s", msg)
			require.Contains(t, string(msg), "(ExecutionNotRedrivable)")
		})
	}
}
