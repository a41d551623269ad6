package sfnapi_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// TestTextIsGated: a NUL, invalid UTF-8 or a lone surrogate anywhere in a
// request, or in the JSON document a member holds, is refused with the
// error Step Functions answers for that member, naming where; nothing of
// it reaches the engine.
func TestTextIsGated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const target = "AWSStepFunctions."
	sm := b.createStateMachine(t, "waits", "STANDARD", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	start, err := b.sfn.StartExecution(b.ctx, &sdksfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"n": 1}`)})
	require.NoError(t, err)
	exec := *start.ExecutionArn

	for _, tc := range []struct {
		name, op, body, code string
		contains             []string
	}{
		{"a NUL in an input's value", "StartExecution", `{"stateMachineArn":"` + sm + `","input":"{\"note\": \"x\\u0000\"}"}`, "InvalidExecutionInput", []string{"/note", "NUL"}},
		{"a lone surrogate in an input", "StartExecution", `{"stateMachineArn":"` + sm + `","input":"{\"a\": [\"\\ud800\"]}"}`, "InvalidExecutionInput", []string{"/a/0", "surrogate"}},
		{"a NUL in the input member itself", "StartExecution", `{"stateMachineArn":"` + sm + `","input":"{}\u0000"}`, "InvalidExecutionInput", []string{"/input"}},
		{"invalid UTF-8 in a sync input", "StartSyncExecution", "{\"stateMachineArn\":\"" + sm + "\",\"input\":\"{\\\"a\\\": \\\"\xff\\\"}\"}", "InvalidExecutionInput", []string{"/input", "not UTF-8"}},
		{"a NUL in an execution's name", "StartExecution", `{"stateMachineArn":"` + sm + `","name":"run\u0000"}`, "ValidationException", []string{"'name'"}},
		{"a NUL in a stop cause", "StopExecution", `{"executionArn":"` + exec + `","cause":"because\u0000"}`, "ValidationException", []string{"'cause'", "NUL"}},
		{"a lone surrogate in a stop error", "StopExecution", `{"executionArn":"` + exec + `","error":"\udc00"}`, "ValidationException", []string{"'error'", "surrogate"}},
		{"a NUL in a task's output", "SendTaskSuccess", `{"taskToken":"tok","output":"{\"r\": \"\\u0000\"}"}`, "InvalidOutput", []string{"/r"}},
		{"invalid UTF-8 in a task's output member", "SendTaskSuccess", "{\"taskToken\":\"tok\",\"output\":\"\xc3\"}", "InvalidOutput", []string{"/output"}},
		{"a NUL in a failure's cause", "SendTaskFailure", `{"taskToken":"tok","cause":"\u0000"}`, "ValidationException", []string{"'cause'"}},
		{"a NUL in a key", "DescribeExecution", `{"executionArn":"a","x\u0000":1}`, "ValidationException", []string{"a key of the root object"}},
		{"a NUL in a definition", "CreateStateMachine", `{"name":"n","roleArn":"r","definition":"{\"Comment\":\"\u0000\"}"}`, "ValidationException", []string{"'definition'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b.post(t, target+tc.op, tc.body).requireError(t, 400, tc.code, tc.contains...)
		})
	}

	// Through the SDK, as a caller meets it: typed errors.
	_, err = b.sfn.StartExecution(b.ctx, &sdksfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String("{\"note\": \"a\x00b\"}")})
	var badInput *types.InvalidExecutionInput
	require.ErrorAs(t, err, &badInput)
	_, err = b.sfn.SendTaskSuccess(b.ctx, &sdksfn.SendTaskSuccessInput{TaskToken: aws.String("tok"), Output: aws.String(`{"r": "\u0000"}`)})
	var badOutput *types.InvalidOutput
	require.ErrorAs(t, err, &badOutput)
	_, err = b.sfn.StopExecution(b.ctx, &sdksfn.StopExecutionInput{ExecutionArn: aws.String(exec), Cause: aws.String("stop\x00")})
	var validation *types.ValidationException
	require.ErrorAs(t, err, &validation)

	// The execution was not stopped, and no other one started.
	x, err := b.eng.DescribeExecution(b.ctx, exec)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusRunning, x.Status)
	list, err := b.eng.ListExecutions(b.ctx, sfn.ListExecutionsInput{StateMachineARN: sm})
	require.NoError(t, err)
	require.Len(t, list.Executions, 1)
}
