package main

import (
	"bytes"
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
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

func TestInvokeAPIHealthzAndApprovals(t *testing.T) {
	t.Parallel()
	// On Lambda the JWT authorizer checks tokens; the API reads its claims.
	// The Step Functions endpoint is not called by /healthz or, under
	// invoke (which checks no token of the operator's event), by storing an
	// approval.
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

	// And the template's schedule's events, which finish the approval
	// decisions a crash left half done: none here.
	te = newTestEnv(vars)
	code = run(context.Background(), []string{"invoke", "api", "--event", "../../events/api-resume-decisions.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	require.JSONEq(t, `{"finished":0}`, te.stdout.String())
}

// TestInvokeAPIRegistersAService: the API function serves the service
// registry on its PostgreSQL store: a new version is 201, the same again
// 200.
func TestInvokeAPIRegistersAService(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgclustertest.Database(t), "AIFLOW_AUTH_MODE": "authorizer", "AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:1"}
	for _, want := range []int{201, 200} {
		te := newTestEnv(vars)
		code := run(context.Background(), []string{"invoke", "api", "--event", "../../events/api-register-service.json"}, te.env())
		require.Equal(t, 0, code, te.stderr.String())
		var res struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
		require.Equal(t, want, res.StatusCode, res.Body)
		require.Contains(t, res.Body, `"id":"ti-1"`)
	}

	// The egress guard checks an endpoint when it is registered: an
	// instance on a loopback address that is not internal is refused.
	te := newTestEnv(vars)
	event := sampleWith(t, "api-register-service.json", `https://ti-1.example.com`, `http://0x7f.1:8080`)
	code := run(context.Background(), []string{"invoke", "api", "--event", event}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	var res struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
	require.Equal(t, 422, res.StatusCode, res.Body)
	require.Contains(t, res.Body, `/instances/0/endpoint`)
	require.Contains(t, res.Body, `127.0.0.1 is a loopback address`)
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
func sampleStatusChange(t *testing.T) sfn.ExecutionStatusChange {
	t.Helper()
	raw, err := os.ReadFile("../../events/recorder-status-change.json")
	require.NoError(t, err)
	var ev struct {
		Detail sfn.ExecutionStatusChange `json:"detail"`
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
	invoke := func() (recorder.Result, []metricstest.EMFLine) {
		t.Helper()
		te := newTestEnv(vars)
		code := run(ctx, []string{"invoke", "recorder", "--event", "../../events/recorder-status-change.json"}, te.env())
		require.Equal(t, 0, code, te.stderr.String())
		var res recorder.Result
		require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
		return res, metricstest.ParseEMF(t, te.stderr.Bytes())
	}
	first, lines := invoke()
	require.Equal(t, detail.ExecutionARN, first.ExecutionARN)
	require.Equal(t, "SUCCEEDED", first.Status)
	require.Positive(t, first.HistoryEvents)
	require.Equal(t, first.HistoryEvents, first.Appended)
	finished := 0.0
	for _, l := range lines {
		if _, ok := l.Root["aiflow_executions_finished_total"]; ok && l.Root["workflow"] == "support-triage" && l.Root["status"] == "succeeded" {
			finished += l.Value("aiflow_executions_finished_total")
		}
	}
	require.Equal(t, 1.0, finished, "the EMF lines count the execution stored")
	again, lines := invoke()
	require.Equal(t, 0, again.Appended, "a re-delivered event stores nothing twice")
	require.Equal(t, first.Version, again.Version)
	require.Empty(t, lines, "and counts nothing")

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
		"no function":                           {args: []string{"invoke"}, code: 2, want: "usage: aiflow invoke"},
		"no event":                              {args: []string{"invoke", "api"}, code: 2, want: "usage: aiflow invoke"},
		"unknown function":                      {args: []string{"invoke", "frobnicator", "--event", "x.json"}, code: 2, want: `no function "frobnicator"`},
		"missing event":                         {args: []string{"invoke", "api", "--event", "no-such-event.json"}, code: 1, want: "reading the event"},
		"bad configuration":                     {args: []string{"invoke", "recorder", "--event", "../../events/recorder-status-change.json"}, code: 1, want: "DATABASE_URL: is required"},
		"a service worker without its registry": {args: []string{"invoke", "servicestep", "--event", "../../events/servicestep-sqs.json"}, code: 1, want: "DATABASE_URL: is required: the service registry is read from the database"},
		"bad timeout":                           {args: []string{"invoke", "api", "--event", "x.json", "--timeout", "0s"}, code: 2, want: "not positive"},
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
// event, built as its main builds it, with the step's kind made one the
// worker does not run, so the step fails at once with Steps.UnknownKind.
// Its callback goes over the Step Functions API to a local engine, which
// does not know the sample's task token, so the runtime drops it and no
// message fails; the step failed all the same, and invoke says so. (A
// worker checks the token before the step runs and would drop the
// message; invoke runs the operator's event all the same.)
func TestInvokeAIStepWorker(t *testing.T) {
	t.Parallel()
	event := sampleWith(t, "aistep-sqs.json", `\"kind\":\"ai\"`, `\"kind\":\"service\"`)
	te := newTestEnv(map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted",
		"AIFLOW_AI_SCRIPT":    "../../examples/scripts/scripted.yaml", "AIFLOW_SFN_ENDPOINT": sfnAPIServer(t).URL,
	})
	code := run(context.Background(), []string{"invoke", "aistep", "--event", event}, te.env())
	require.Equal(t, 1, code, te.stderr.String())
	require.JSONEq(t, `{"batchItemFailures":null}`, te.stdout.String(), te.stderr.String())
	require.Contains(t, te.stderr.String(), `aiflow invoke aistep: the step failed: error Steps.UnknownKind, cause: this worker runs no "service" steps (step "classify")`)

	// Without the Step Functions API to call back, the message comes back,
	// and invoke says why.
	te = newTestEnv(map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted", "AIFLOW_AI_SCRIPT": "../../examples/scripts/scripted.yaml", "AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:1",
	})
	code = run(context.Background(), []string{"invoke", "aistep", "--event", event}, te.env())
	require.Equal(t, 1, code, te.stderr.String())
	require.Contains(t, te.stdout.String(), `"itemIdentifier": "51d24864-949b-45e2-8459-31450277fa74"`)
	require.Contains(t, te.stderr.String(), "aiflow invoke aistep: message 51d24864-949b-45e2-8459-31450277fa74 failed (SQS would deliver it again): checking the task token: ")
	require.Contains(t, te.stderr.String(), "connection refused")
}

// sampleWith writes a copy of a sample of events/ with old replaced by
// replacement and returns its path.
func sampleWith(t *testing.T, name, old, replacement string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../events", name))
	require.NoError(t, err)
	require.Contains(t, string(raw), old)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, bytes.ReplaceAll(raw, []byte(old), []byte(replacement)), 0o600))
	return path
}

// sfnAPIServer is a local engine, in memory, behind its Step Functions API.
func sfnAPIServer(t *testing.T) *httptest.Server {
	t.Helper()
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, eng.Start(context.Background()))
	t.Cleanup(func() { _ = eng.Close() })
	srv := httptest.NewServer(sfnapi.NewHandler(eng, sfnapi.Options{}))
	t.Cleanup(srv.Close)
	return srv
}

// TestInvokeSampleTimesAreNow runs the aistep sample with a model the
// scripted provider answers. Its step entered its state on the day the
// sample was written, with a 90 s timeout: as it is written it has long
// timed out, but invoke moves its times to now, so the step succeeds.
func TestInvokeSampleTimesAreNow(t *testing.T) {
	t.Parallel()
	event := sampleWith(t, "aistep-sqs.json", "openai/gpt-4.1-mini", "scripted/gpt-4.1-mini")
	vars := map[string]string{
		"AIFLOW_AI_PROVIDERS": "scripted", "AIFLOW_AI_SCRIPT": "../../examples/scripts/scripted.yaml",
		"AIFLOW_SFN_ENDPOINT": sfnAPIServer(t).URL,
	}

	te := newTestEnv(vars)
	code := run(context.Background(), []string{"invoke", "aistep", "--event", event}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	require.JSONEq(t, `{"batchItemFailures":null}`, te.stdout.String(), te.stderr.String())
	require.NotContains(t, te.stderr.String(), "failed")

	te = newTestEnv(vars)
	code = run(context.Background(), []string{"invoke", "aistep", "--event", event, "--keep-times"}, te.env())
	require.Equal(t, 1, code, te.stderr.String())
	require.Contains(t, te.stderr.String(), `the step failed: error AI.Timeout, cause: step "classify" ran out of its timeout`)
}

// TestInvokeRecorderError: the recorder's sample names an execution the
// engine does not have; the recorder's error is printed as Lambda's error
// JSON and said on stderr, and invoke exits 1.
func TestInvokeRecorderError(t *testing.T) {
	t.Parallel()
	te := newTestEnv(map[string]string{"DATABASE_URL": pgclustertest.Database(t), "AIFLOW_SFN_ENDPOINT": sfnAPIServer(t).URL})
	code := run(context.Background(), []string{"invoke", "recorder", "--event", "../../events/recorder-status-change.json"}, te.env())
	require.Equal(t, 1, code, te.stderr.String())
	var failed invokeError
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &failed), te.stdout.String())
	require.Contains(t, failed.ErrorMessage, "ExecutionDoesNotExist")
	require.Contains(t, te.stderr.String(), "aiflow invoke recorder: the handler returned an error")
	require.Contains(t, te.stderr.String(), "ExecutionDoesNotExist")
}

func TestInvokeResponseFailures(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		out  string
		errs []string
		want []string
	}{
		"an HTTP answer":         {out: `{"statusCode":200,"body":"{}"}`},
		"an HTTP 4xx answer":     {out: `{"statusCode":404,"body":"{}"}`},
		"an HTTP 5xx answer":     {out: `{"statusCode":503,"body":"{\"error\":\"not ready\"}"}`, want: []string{`the function answered HTTP 503: {"error":"not ready"}`}},
		"a batch without errors": {out: `{"batchItemFailures":null}`},
		"a batch item failed":    {out: `{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m2"}]}`, want: []string{"message m1, m2 failed (SQS would deliver it again): the function's log above says why"}},
		"with the callbacks' errors": {out: `{"batchItemFailures":[{"itemIdentifier":"m1"}]}`, errs: []string{"sending the step's result: refused"},
			want: []string{"message m1 failed (SQS would deliver it again): sending the step's result: refused"}},
		"not an object": {out: `[1, 2]`},
		"a string":      {out: `"ok"`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, responseFailures([]byte(tc.out), tc.errs))
		})
	}
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
