package sfnapi_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestAWSCLIActivitiesAndMapRuns drives activities and Map Runs with the
// AWS CLI: a worker's get-activity-task and send-task-success finish an
// activity task; describe-map-run and list-map-runs show a distributed
// Map's run. Each CLI call takes seconds, so it runs with one CLI
// (Debian's, which CI installs, when there is one) and sets up through
// the SDK.
func TestAWSCLIActivitiesAndMapRuns(t *testing.T) {
	t.Parallel()
	clis := awsCLIs(t)
	path, ok := clis["Debian"]
	if !ok {
		path = clis["PATH"]
	}
	b := setup(t)
	cli := awsjsontest.NewCLIAt(t, path, "stepfunctions", b.srv.URL)
	act := cli.Run(t, b.ctx, "create-activity", "--name", "review")["activityArn"].(string)
	require.True(t, strings.HasSuffix(act, ":activity:review"), act)
	sm, err := b.client.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: "reviewed", RoleARN: testRole,
		Definition: `{"StartAt":"Review","States":{"Review":{"Type":"Task","Resource":"` + act + `","Next":"Each"},
		  "Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
		    "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`})
	require.NoError(t, err)
	st, err := b.client.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{"doc":1}`})
	require.NoError(t, err)

	task := cli.Run(t, b.ctx, "get-activity-task", "--activity-arn", act, "--worker-name", "cli-worker")
	require.JSONEq(t, `{"doc":1}`, task["input"].(string))
	cli.Run(t, b.ctx, "send-task-success", "--task-token", task["taskToken"].(string), "--task-output", `{"items":[1,2]}`)
	require.Equal(t, sfn.StatusSucceeded, b.wait(t, st.ExecutionARN).Status)

	runs := cli.Run(t, b.ctx, "list-map-runs", "--execution-arn", st.ExecutionARN)["mapRuns"].([]any)
	require.Len(t, runs, 1)
	run := runs[0].(map[string]any)["mapRunArn"].(string)
	d := cli.Run(t, b.ctx, "describe-map-run", "--map-run-arn", run)
	require.Equal(t, "SUCCEEDED", d["status"])
	require.EqualValues(t, 2, d["itemCounts"].(map[string]any)["succeeded"])
}
