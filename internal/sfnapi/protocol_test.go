package sfnapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const target = "AWSStepFunctions."
	tests := []struct {
		name     string
		target   string
		body     string
		header   []string
		status   int
		code     string
		contains []string
	}{
		{"unknown operation", target + "FlyToTheMoon", `{}`, nil, 400, "UnknownOperationException", []string{"FlyToTheMoon"}},
		{"operation of another service", "AmazonSQS.SendMessage", `{}`, nil, 400, "UnknownOperationException", []string{"AmazonSQS.SendMessage"}},
		{"no target", "", `{}`, nil, 400, "UnknownOperationException", []string{"X-Amz-Target"}},
		{"malformed JSON", target + "DescribeExecution", `{"executionArn":`, nil, 400, "SerializationException", []string{"DescribeExecution", "not a JSON object"}},
		{"not an object", target + "DescribeExecution", `["executionArn"]`, nil, 400, "SerializationException", []string{"not a JSON object"}},
		{"trailing data", target + "DescribeExecution", `{} {}`, nil, 400, "SerializationException", []string{"not a JSON object"}},
		{"unknown member", target + "DescribeExecution", `{"executionArn":"arn","executionARN":"arn"}`, nil, 400, "SerializationException", []string{"unknown member executionARN"}},
		{"string of the wrong type", target + "DescribeExecution", `{"executionArn":42}`, nil, 400, "SerializationException", []string{"member executionArn", "must be a string, not a number"}},
		{"integer of the wrong type", target + "ListStateMachines", `{"maxResults":"ten"}`, nil, 400, "SerializationException", []string{"member maxResults", "must be an integer, not a string"}},
		{"integer with a fraction", target + "ListStateMachines", `{"maxResults":1.5}`, nil, 400, "SerializationException", []string{"member maxResults", "must be an integer, not 1.5"}},
		{"boolean of the wrong type", target + "GetExecutionHistory", `{"executionArn":"a","reverseOrder":"yes"}`, nil, 400, "SerializationException", []string{"member reverseOrder", "must be a boolean"}},
		{"missing member", target + "StartExecution", `{"input":"{}"}`, nil, 400, "ValidationException", []string{"'stateMachineArn'", "must not be null"}},
		{"null member", target + "DeleteStateMachine", `{"stateMachineArn":null}`, nil, 400, "ValidationException", []string{"'stateMachineArn'", "must not be null"}},
		{"maxResults too large", target + "ListExecutions", `{"stateMachineArn":"a","maxResults":1001}`, nil, 400, "ValidationException", []string{"'maxResults'", "less than or equal to 1000"}},
		{"maxResults negative", target + "ListStateMachines", `{"maxResults":-1}`, nil, 400, "ValidationException", []string{"'maxResults'", "greater than or equal to 0"}},
		{"bad enum", target + "ListExecutions", `{"stateMachineArn":"a","statusFilter":"DONE"}`, nil, 400, "ValidationException", []string{"'statusFilter'", "RUNNING"}},
		{"bad type", target + "CreateStateMachine", `{"name":"n","definition":"{}","roleArn":"r","type":"FAST"}`, nil, 400, "ValidationException", []string{"'type'", "STANDARD, EXPRESS"}},
		{"a version description without publish", target + "CreateStateMachine", `{"name":"n","definition":"{}","roleArn":"arn:aws:iam::123456789012:role/r","versionDescription":"d"}`, nil, 400, "ValidationException", []string{"versionDescription", "publish"}},
		{"a role that is no IAM role", target + "CreateStateMachine", `{"name":"n","definition":"{}","roleArn":"r"}`, nil, 400, "InvalidArn", []string{"roleArn"}},
		{"Map Runs are not supported", target + "ListExecutions", `{"stateMachineArn":"a","mapRunArn":"m"}`, nil, 400, "ValidationException", []string{"member mapRunArn"}},
		{"unknown member before a missing one", target + "StartExecution", `{"stateMachineARN":"a"}`, nil, 400, "SerializationException", []string{"unknown member stateMachineARN"}},
		{"wrong content type", target + "ListStateMachines", `{}`, []string{"Content-Type", "text/plain"}, 400, "SerializationException", []string{"text/plain"}},
		{"engine error", target + "DescribeExecution", `{"executionArn":"not-an-arn"}`, nil, 400, "InvalidArn", []string{"not-an-arn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b.post(t, tt.target, tt.body, tt.header...).requireError(t, tt.status, tt.code, tt.contains...)
		})
	}
}

func TestProtocolEnvelope(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("GET is not allowed", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.srv.URL+"/", nil)
		require.NoError(t, err)
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
		r := b.do(t, req)
		r.requireError(t, http.StatusMethodNotAllowed, "UnknownOperationException", "GET")
		require.Equal(t, "POST", r.header.Get("Allow"))
	})
	t.Run("an empty body is an empty object", func(t *testing.T) {
		t.Parallel()
		r := b.post(t, "AWSStepFunctions.ListStateMachines", "")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, []any{}, r.body["stateMachines"])
	})
	t.Run("any SigV4 credentials and any host are accepted", func(t *testing.T) {
		t.Parallel()
		r := b.post(t, "AWSStepFunctions.ListStateMachines", "{}",
			"Authorization", "AWS4-HMAC-SHA256 Credential=whoever/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00",
			"Host", "sync-states.example")
		require.Equal(t, http.StatusOK, r.status)
	})
	t.Run("request ids differ", func(t *testing.T) {
		t.Parallel()
		a := b.post(t, "AWSStepFunctions.ListStateMachines", "{}")
		c := b.post(t, "AWSStepFunctions.ListStateMachines", "{}")
		require.NotEqual(t, a.header.Get("x-amzn-RequestId"), c.header.Get("x-amzn-RequestId"))
	})
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{maxBody: 1024})
	big := `{"definition":"` + strings.Repeat("x", 2048) + `"}`
	b.post(t, "AWSStepFunctions.ValidateStateMachineDefinition", big).
		requireError(t, http.StatusRequestEntityTooLarge, "ValidationException", "exceeds 1024 bytes")
	// A body under the limit passes.
	r := b.post(t, "AWSStepFunctions.ValidateStateMachineDefinition", `{"definition":"{}"}`)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "FAIL", r.body["result"])
}

// TestWireShapes checks members of responses the SDK does not show:
// epoch-second timestamps, and the data details beside payloads.
func TestWireShapes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sm := b.createStateMachine(t, "shapes", "", `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"v":1},"End":true}}}`)

	r := b.post(t, "AWSStepFunctions.DescribeStateMachine", `{"stateMachineArn":"`+sm+`"}`)
	require.Equal(t, http.StatusOK, r.status)
	requireEpochSeconds(t, r.body["creationDate"])
	require.Equal(t, map[string]any{"level": "OFF", "includeExecutionData": false}, r.body["loggingConfiguration"])

	start := b.post(t, "AWSStepFunctions.StartExecution", `{"stateMachineArn":"`+sm+`","name":"one","input":"{\"a\":1}"}`)
	require.Equal(t, http.StatusOK, start.status)
	requireEpochSeconds(t, start.body["startDate"])
	arn := start.body["executionArn"].(string)
	b.wait(t, arn)

	d := b.post(t, "AWSStepFunctions.DescribeExecution", `{"executionArn":"`+arn+`"}`)
	require.Equal(t, http.StatusOK, d.status)
	requireEpochSeconds(t, d.body["startDate"])
	requireEpochSeconds(t, d.body["stopDate"])
	require.Equal(t, map[string]any{"included": true}, d.body["inputDetails"])
	require.Equal(t, map[string]any{"included": true}, d.body["outputDetails"])
	require.Equal(t, "SUCCEEDED", d.body["status"])

	h := b.post(t, "AWSStepFunctions.GetExecutionHistory", `{"executionArn":"`+arn+`"}`)
	require.Equal(t, http.StatusOK, h.status)
	events := h.body["events"].([]any)
	require.NotEmpty(t, events)
	first := events[0].(map[string]any)
	requireEpochSeconds(t, first["timestamp"])
	require.Equal(t, "ExecutionStarted", first["type"])
	require.Equal(t, json.Number("1"), first["id"])
	require.Equal(t, json.Number("0"), first["previousEventId"])
	started := first["executionStartedEventDetails"].(map[string]any)
	require.Equal(t, `{"a":1}`, started["input"])
	require.Equal(t, map[string]any{"truncated": false}, started["inputDetails"])
	var exited map[string]any
	for _, e := range events {
		if e := e.(map[string]any); e["type"] == "PassStateExited" {
			exited = e["stateExitedEventDetails"].(map[string]any)
		}
	}
	require.Equal(t, map[string]any{"truncated": false}, exited["outputDetails"])
	require.Equal(t, map[string]any{"v": "1"}, exited["assignedVariables"])
	require.Equal(t, map[string]any{"truncated": false}, exited["assignedVariablesDetails"])

	// Without execution data, inputs and outputs and their details are
	// left out.
	h = b.post(t, "AWSStepFunctions.GetExecutionHistory", `{"executionArn":"`+arn+`","includeExecutionData":false}`)
	require.Equal(t, http.StatusOK, h.status)
	started = h.body["events"].([]any)[0].(map[string]any)["executionStartedEventDetails"].(map[string]any)
	require.NotContains(t, started, "input")
	require.NotContains(t, started, "inputDetails")
}

func requireEpochSeconds(t *testing.T, v any) {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "a timestamp is a JSON number, not %T %v", v, v)
	f, err := n.Float64()
	require.NoError(t, err)
	require.Greater(t, f, 1.6e9, "seconds since the epoch")
	require.Less(t, f, 1e10, "seconds, not milliseconds")
}

// TestSDKTypedErrors checks that the SDK decodes the handler's errors into
// its typed errors.
func TestSDKTypedErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	missing := "arn:aws:states:us-east-1:123456789012:execution:nothing:here"
	_, err := b.sfn.DescribeExecution(b.ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: aws.String(missing)})
	var notFound *types.ExecutionDoesNotExist
	require.ErrorAs(t, err, &notFound)
	require.Contains(t, notFound.ErrorMessage(), missing)

	_, err = b.sfn.StartExecution(b.ctx, &sdksfn.StartExecutionInput{StateMachineArn: aws.String("not-an-arn")})
	var invalid *types.InvalidArn
	require.ErrorAs(t, err, &invalid)

	_, err = b.sfn.ListExecutions(b.ctx, &sdksfn.ListExecutionsInput{MapRunArn: aws.String("arn:aws:states:us-east-1:123456789012:mapRun:x/y:z")})
	var validation *types.ValidationException
	require.ErrorAs(t, err, &validation)
	require.Contains(t, validation.ErrorMessage(), "stateMachineArn")

	// StartSyncExecution goes to the same endpoint, without the "sync-"
	// host prefix that 127.0.0.1 could not take.
	_, err = b.sfn.StartSyncExecution(b.ctx, &sdksfn.StartSyncExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:none")})
	var smMissing *types.StateMachineDoesNotExist
	require.ErrorAs(t, err, &smMissing)
}

// failingService fails DescribeExecution with an internal error.
type failingService struct {
	sfn.Service
}

func (failingService) DescribeExecution(context.Context, string) (sfn.Execution, error) {
	return sfn.Execution{}, errors.New("connecting to db.internal:5432 with password hunter2: refused")
}

func TestInternalFailuresHideTheirText(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{wrap: func(s sfn.Service) sfn.Service { return failingService{s} }})
	r := b.post(t, "AWSStepFunctions.DescribeExecution", `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:a:b"}`)
	r.requireError(t, http.StatusInternalServerError, "InternalFailure", r.header.Get("x-amzn-RequestId"))
	require.NotContains(t, r.body["message"], "hunter2")
	require.Contains(t, b.logs.String(), "hunter2", "the log has the failure")
	require.Contains(t, b.logs.String(), r.header.Get("x-amzn-RequestId"), "the log names the request")

	// Through the adapter, with the SDK's retries off, it is an
	// *sfn.Error with the code.
	opts := b.sfn.Options()
	opts.RetryMaxAttempts = 1
	_, err := awssfn.New(sdksfn.New(opts)).DescribeExecution(b.ctx, "arn:aws:states:us-east-1:123456789012:execution:a:b")
	var ae *sfn.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "InternalFailure", ae.Code)
}

func TestClosedEngineIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.eng.Close())
	r := b.post(t, "AWSStepFunctions.CreateStateMachine", `{"name":"late","definition":"{}","roleArn":"r"}`)
	r.requireError(t, http.StatusServiceUnavailable, "ServiceUnavailable")
	var apiErr smithy.APIError
	_, err := b.sfn.CreateStateMachine(b.ctx, &sdksfn.CreateStateMachineInput{Name: aws.String("late"), Definition: aws.String("{}"), RoleArn: aws.String("r")},
		func(o *sdksfn.Options) { o.RetryMaxAttempts = 1 })
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "ServiceUnavailable", apiErr.ErrorCode())
}

// panickingService panics in ListStateMachines.
type panickingService struct {
	sfn.Service
}

func (panickingService) ListStateMachines(context.Context, sfn.ListStateMachinesInput) (sfn.ListStateMachinesOutput, error) {
	panic("the service broke")
}

func TestPanicIsAnInternalFailure(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOptions{wrap: func(s sfn.Service) sfn.Service { return panickingService{s} }})
	r := b.post(t, "AWSStepFunctions.ListStateMachines", `{}`)
	r.requireError(t, http.StatusInternalServerError, "InternalFailure")
	require.NotContains(t, r.body["message"], "broke")
	require.Contains(t, b.logs.String(), "the service broke")
	// The handler still serves.
	r = b.post(t, "AWSStepFunctions.DescribeExecution", `{"executionArn":"x"}`)
	r.requireError(t, http.StatusBadRequest, "InvalidArn")
}
