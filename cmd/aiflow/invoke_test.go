package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

func TestInvokeAPIHealthzAndApprovals(t *testing.T) {
	t.Parallel()
	// On Lambda the JWT authorizer checks tokens; the API reads its claims.
	// The Step Functions endpoint is not called by /healthz or by storing
	// an approval.
	vars := map[string]string{"DATABASE_URL": pgclustertest.Database(t), "AIFLOW_AUTH_MODE": "authorizer", "AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:1"}
	te := newTestEnv(vars)
	code := run(context.Background(), []string{"invoke", "api", "--event", "../../events/api-healthz.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	var res struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
	require.Equal(t, 200, res.StatusCode, res.Body)
	require.True(t, json.Valid([]byte(res.Body)), res.Body)

	// The same function takes the approvals queue's messages.
	te = newTestEnv(vars)
	code = run(context.Background(), []string{"invoke", "ApiFunction", "--event", "../../events/api-approvals-sqs.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	require.JSONEq(t, `{"batchItemFailures":null}`, te.stdout.String(), "no message failed")
}

func TestInvokeMCPServerToolsList(t *testing.T) {
	t.Parallel()
	// The sample's token is signed with the key the support desk's docs
	// give for it; listing tools needs no database.
	te := newTestEnv(map[string]string{
		"DATABASE_URL":                "postgres://aiflow_support@127.0.0.1:1/aiflow?sslmode=disable",
		"AIFLOW_SUPPORT_TOKEN_SECRET": "sample-event-secret-do-not-deploy-0123456789",
	})
	code := run(context.Background(), []string{"invoke", "mcpserver", "--event", "../../events/mcpserver-tools-list.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	var res struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
	require.Equal(t, 200, res.StatusCode, res.Body)
	require.Contains(t, res.Body, `"issue_refund"`)
}

// sampleStatusChange is the detail of events/recorder-status-change.json.
func sampleStatusChange(t *testing.T) recorder.StatusChange {
	t.Helper()
	raw, err := os.ReadFile("../../events/recorder-status-change.json")
	require.NoError(t, err)
	var ev struct {
		Detail recorder.StatusChange `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(raw, &ev))
	return ev.Detail
}

func TestInvokeRecorderWithItsSampleEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	detail := sampleStatusChange(t)

	// The local engine (its default region and account are those of the
	// sample) runs the sample's execution behind its Step Functions API.
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { _ = e.Close() })
	srv := httptest.NewServer(sfnapi.NewHandler(e, sfnapi.Options{}))
	t.Cleanup(srv.Close)
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "support-triage",
		Definition: `{"StartAt":"Classify","States":{"Classify":{"Type":"Pass","Result":{"category":"order_status"},"ResultPath":"$.classify","Next":"Done"},"Done":{"Type":"Succeed"}}}`})
	require.NoError(t, err)
	require.Equal(t, detail.StateMachineARN, sm.StateMachineARN)
	st, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: detail.Name, Input: *detail.Input})
	require.NoError(t, err)
	require.Equal(t, detail.ExecutionARN, st.ExecutionARN)
	require.Eventually(t, func() bool {
		d, err := e.DescribeExecution(ctx, st.ExecutionARN)
		require.NoError(t, err)
		return d.Status.Closed()
	}, 10*time.Second, 5*time.Millisecond)

	vars := map[string]string{"DATABASE_URL": pgclustertest.Database(t), "AIFLOW_SFN_ENDPOINT": srv.URL, "AIFLOW_LOG_FORMAT": "text"}
	invoke := func() recorder.Result {
		t.Helper()
		te := newTestEnv(vars)
		code := run(ctx, []string{"invoke", "recorder", "--event", "../../events/recorder-status-change.json"}, te.env())
		require.Equal(t, 0, code, te.stderr.String())
		var res recorder.Result
		require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
		return res
	}
	first := invoke()
	require.Equal(t, detail.ExecutionARN, first.ExecutionARN)
	require.Equal(t, "SUCCEEDED", first.Status)
	require.Positive(t, first.HistoryEvents)
	require.Equal(t, first.HistoryEvents, first.Appended)
	again := invoke()
	require.Equal(t, 0, again.Appended, "a re-delivered event stores nothing twice")
	require.Equal(t, first.Version, again.Version)

	// A handler's error is printed as Lambda's error JSON.
	te := newTestEnv(vars)
	code := run(ctx, []string{"invoke", "RecorderFunction", "--event", "../../events/api-healthz.json"}, te.env())
	require.Equal(t, 1, code)
	var failed invokeError
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &failed), te.stdout.String())
	require.Contains(t, failed.ErrorMessage, "not \"Step Functions Execution Status Change\"")
	require.NotEmpty(t, failed.ErrorType)
}

func TestInvokeUsage(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		args []string
		vars map[string]string
		code int
		want string
	}{
		"no function":       {args: []string{"invoke"}, code: 2, want: "usage: aiflow invoke"},
		"no event":          {args: []string{"invoke", "api"}, code: 2, want: "usage: aiflow invoke"},
		"unknown function":  {args: []string{"invoke", "frobnicator", "--event", "x.json"}, code: 2, want: `no function "frobnicator"`},
		"missing event":     {args: []string{"invoke", "api", "--event", "no-such-event.json"}, code: 1, want: "reading the event"},
		"bad configuration": {args: []string{"invoke", "recorder", "--event", "../../events/recorder-status-change.json"}, code: 1, want: "DATABASE_URL: is required"},
		"bad timeout":       {args: []string{"invoke", "api", "--event", "x.json", "--timeout", "0s"}, code: 2, want: "not positive"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			te := newTestEnv(tc.vars)
			require.Equal(t, tc.code, run(context.Background(), tc.args, te.env()), te.stderr.String())
			require.Contains(t, te.stderr.String(), tc.want)
		})
	}
}

func TestInvokeTargetsAreFunctions(t *testing.T) {
	t.Parallel()
	for _, target := range invokeTargets {
		_, err := os.Stat(filepath.Join("../../functions", target.name, "main.go"))
		require.NoError(t, err, "aiflow invoke %s has no functions/%s", target.name, target.name)
		samples, err := filepath.Glob(filepath.Join("../../events", target.name+"-*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, samples, "events/ has no sample event for %s", target.name)
	}
}

// TestInvokeAIStepWorker runs the aistep function's handler on its sample
// event, built as its main builds it. The sample's model is an OpenAI one
// and only the scripted provider is configured, so the step fails at once;
// its callback goes over the Step Functions API to a local engine, which
// does not know the sample's task token: the runtime drops a callback for
// a task that is gone, so no message fails.
func TestInvokeAIStepWorker(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, eng.Start(context.Background()))
	t.Cleanup(func() { _ = eng.Close() })
	srv := httptest.NewServer(sfnapi.NewHandler(eng, sfnapi.Options{}))
	t.Cleanup(srv.Close)
	te := newTestEnv(map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted",
		"AIFLOW_AI_SCRIPT":    "../../examples/scripts/scripted.yaml", "AIFLOW_SFN_ENDPOINT": srv.URL,
	})
	code := run(context.Background(), []string{"invoke", "aistep", "--event", "../../events/aistep-sqs.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	require.JSONEq(t, `{"batchItemFailures":null}`, te.stdout.String(), te.stderr.String())

	// Without the Step Functions API to call back, the message comes back.
	te = newTestEnv(map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted", "AIFLOW_AI_SCRIPT": "../../examples/scripts/scripted.yaml", "AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:1",
	})
	code = run(context.Background(), []string{"invoke", "aistep", "--event", "../../events/aistep-sqs.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	require.Contains(t, te.stdout.String(), `"itemIdentifier"`)
}

// TestInvokeMigrate runs the migrations' custom resource handler on its
// sample event, which has no ResponseURL: the response is printed instead
// of sent to CloudFormation.
func TestInvokeMigrate(t *testing.T) {
	t.Parallel()
	te := newTestEnv(map[string]string{"DATABASE_URL": pgclustertest.EmptyDatabase(t), "AIFLOW_LOG_FORMAT": "text"})
	code := run(context.Background(), []string{"invoke", "migrate", "--event", "../../events/migrate-create.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	var res cfn.Response
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
	require.Equal(t, cfn.StatusSuccess, res.Status, res.Reason)
	require.Equal(t, "DatabaseMigrations", res.LogicalResourceID)
	require.Equal(t, strconv.FormatInt(migrate.Latest(), 10), res.Data["Applied"])
	require.Equal(t, "true", res.Data["Seeded"])
}
