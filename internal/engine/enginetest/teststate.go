package enginetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The TestState checks follow the TestState API reference
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html)
// and the guide's page on testing a state
// (https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html).
func init() {
	checks = append(checks, testStateChecks...)
}

// tester is the Harness's Service as a StateTester.
func tester(t *testing.T, h Harness) sfn.StateTester {
	t.Helper()
	st, ok := h.Service.(sfn.StateTester)
	require.True(t, ok, "the Service (%T) does not implement sfn.StateTester", h.Service)
	return st
}

func testState(t *testing.T, h Harness, in sfn.TestStateInput) sfn.TestStateOutput {
	t.Helper()
	out, err := tester(t, h).TestState(t.Context(), in)
	require.NoError(t, err)
	return out
}

var testStateChecks = []check{
	{"TestStatePassDebugShowsEachStep", func(t *testing.T, h Harness) {
		// DEBUG "shows the final state output along with the input and
		// output data processing result": each field's data.
		out := testState(t, h, sfn.TestStateInput{
			Definition: `{"Type":"Pass","InputPath":"$.order","Parameters":{"id.$":"$.id","n":1},
			  "ResultPath":"$.result","OutputPath":"$.result","Next":"Ship"}`,
			Input:           `{"order":{"id":"o-1","items":2}}`,
			InspectionLevel: sfn.InspectionDebug,
			RoleARN:         roleARN,
		})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status)
		require.Equal(t, "Ship", out.NextState)
		require.Equal(t, `{"id":"o-1","n":1}`, out.Output)
		d := out.InspectionData
		require.NotNil(t, d)
		require.Equal(t, `{"order":{"id":"o-1","items":2}}`, d.Input)
		require.Equal(t, `{"id":"o-1","items":2}`, d.AfterInputPath)
		require.Equal(t, `{"id":"o-1","n":1}`, d.AfterParameters)
		require.Equal(t, `{"id":"o-1","n":1}`, d.Result)
		require.Equal(t, `{"order":{"id":"o-1","items":2},"result":{"id":"o-1","n":1}}`, d.AfterResultPath)
		require.Empty(t, out.Error)
	}},
	{"TestStateInfoHasNoInspectionData", func(t *testing.T, h Harness) {
		// INFO, the default, "shows the final state output".
		out := testState(t, h, sfn.TestStateInput{Definition: `{"Type":"Pass","Result":{"foo":"bar"},"End":true}`})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status)
		require.Equal(t, `{"foo":"bar"}`, out.Output)
		require.Empty(t, out.NextState, "an End state has no next state")
		require.Nil(t, out.InspectionData)
	}},
	{"TestStateChoiceNextState", func(t *testing.T, h Harness) {
		def := `{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"}`
		out := testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"n":2}`})
		require.Equal(t, "Big", out.NextState)
		require.Equal(t, `{"n":2}`, out.Output)
		out = testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"n":0}`})
		require.Equal(t, "Small", out.NextState)
	}},
	{"TestStateFail", func(t *testing.T, h Harness) {
		out := testState(t, h, sfn.TestStateInput{Definition: `{"Type":"Fail","ErrorPath":"$.e","Cause":"broken"}`, Input: `{"e":"Custom.Error"}`})
		require.Equal(t, sfn.TestStatusFailed, out.Status)
		require.Equal(t, "Custom.Error", out.Error)
		require.Equal(t, "broken", out.Cause)
		require.Empty(t, out.Output)
	}},
	{"TestStateRunsALambdaTask", func(t *testing.T, h Harness) {
		// "All Task types except Activity" run: the function is called.
		b := setup(t, h)
		b.registerFunction("TestStateEcho", []FunctionReply{{Return: json.RawMessage(`{"echoed":"$input"}`)}})
		out := testState(t, h, sfn.TestStateInput{
			Definition: `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			  "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:TestStateEcho","Payload":{"who.$":"$.who"}},
			  "ResultSelector":{"body.$":"$.Payload"},"End":true}`,
			Input: `{"who":"Ada"}`, InspectionLevel: sfn.InspectionDebug, RoleARN: roleARN,
		})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, `{"body":{"echoed":{"who":"Ada"}}}`, out.Output)
		require.Equal(t, `{"body":{"echoed":{"who":"Ada"}}}`, out.InspectionData.AfterResultSelector)
		require.Contains(t, out.InspectionData.Result, `"StatusCode":200`)
	}},
	{"TestStateRetriableThenCaught", func(t *testing.T, h Harness) {
		// A matching retrier with attempts left makes the error RETRIABLE;
		// once stateConfiguration.retrierRetryCount uses them up, the
		// catcher takes it: CAUGHT_ERROR with the catcher's Next.
		b := setup(t, h)
		b.registerFunction("TestStateFails", []FunctionReply{{Error: "Custom.Error", Cause: "boom"}})
		def := `{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:TestStateFails",
		  "Retry":[{"ErrorEquals":["Other"],"MaxAttempts":5},{"ErrorEquals":["Custom.Error"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":2}],
		  "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Recover"}],"End":true}`
		out := testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"a":1}`, InspectionLevel: sfn.InspectionDebug,
			StateConfiguration: &sfn.TestStateConfiguration{RetrierRetryCount: new(1)}})
		require.Equal(t, sfn.TestStatusRetriable, out.Status)
		require.Equal(t, "Custom.Error", out.Error)
		require.Equal(t, 1, *out.InspectionData.ErrorDetails.RetryIndex)
		require.Equal(t, 6, *out.InspectionData.ErrorDetails.RetryBackoffIntervalSeconds, "2 seconds times 3 for the second retry")

		out = testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"a":1}`, InspectionLevel: sfn.InspectionDebug,
			StateConfiguration: &sfn.TestStateConfiguration{RetrierRetryCount: new(2)}})
		require.Equal(t, sfn.TestStatusCaughtError, out.Status)
		require.Equal(t, "Recover", out.NextState)
		require.Equal(t, 0, *out.InspectionData.ErrorDetails.CatchIndex)
		var caught struct {
			A     int `json:"a"`
			Error struct{ Error, Cause string }
		}
		require.NoError(t, json.Unmarshal([]byte(out.Output), &caught))
		require.Equal(t, 1, caught.A)
		require.Equal(t, "Custom.Error", caught.Error.Error)
	}},
	{"TestStateMockedCallbackAndMap", func(t *testing.T, h Harness) {
		// "TestState only supports the following when a mock is
		// specified: Activity tasks, .sync or .waitForTaskToken service
		// integration patterns, Parallel, or Map states."
		callback := `{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		  "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q","MessageBody":{"t.$":"$$.Task.Token"}},"End":true}`
		_, err := tester(t, h).TestState(t.Context(), sfn.TestStateInput{Definition: callback})
		requireAPIError(t, err, sfn.CodeValidation)
		out := testState(t, h, sfn.TestStateInput{Definition: callback, Mock: &sfn.TestStateMock{Result: `{"approved":true}`}})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status)
		require.Equal(t, `{"approved":true}`, out.Output)

		activity := `{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:review","End":true}`
		_, err = tester(t, h).TestState(t.Context(), sfn.TestStateInput{Definition: activity})
		requireAPIError(t, err, sfn.CodeValidation)
		out = testState(t, h, sfn.TestStateInput{Definition: activity, Mock: &sfn.TestStateMock{ErrorOutput: &sfn.TestStateMockError{Error: "Review.Rejected", Cause: "no"}}})
		require.Equal(t, sfn.TestStatusFailed, out.Status)
		require.Equal(t, "Review.Rejected", out.Error)

		mapState := `{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},"MaxConcurrency":2,
		  "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`
		_, err = tester(t, h).TestState(t.Context(), sfn.TestStateInput{Definition: mapState, Input: `{"items":[1]}`})
		requireAPIError(t, err, sfn.CodeValidation)
		out = testState(t, h, sfn.TestStateInput{Definition: mapState, Input: `{"items":["a","b"]}`, InspectionLevel: sfn.InspectionDebug,
			Mock: &sfn.TestStateMock{Result: `[1,2]`}})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, `[1,2]`, out.Output)
		require.Equal(t, `["a","b"]`, out.InspectionData.AfterItemsPath)
		require.Equal(t, `[{"v":"a","i":0},{"v":"b","i":1}]`, out.InspectionData.AfterItemSelector)
		require.Equal(t, 2, *out.InspectionData.MaxConcurrency)
	}},
	{"TestStateMapToleranceAndReaderData", func(t *testing.T, h Harness) {
		// stateConfiguration: mapIterationFailureCount failed iterations
		// fail a mocked Map state beyond its tolerance (caught here), and
		// mapItemReaderData are the items an ItemReader read.
		mapState := `{"Type":"Map","ToleratedFailureCount":1,
		  "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},
		  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		  "Catch":[{"ErrorEquals":["States.ExceedToleratedFailureThreshold"],"Next":"TooMany"}],"End":true}`
		in := sfn.TestStateInput{Definition: mapState, InspectionLevel: sfn.InspectionDebug, Mock: &sfn.TestStateMock{Result: `[1,2,3]`},
			StateConfiguration: &sfn.TestStateConfiguration{MapItemReaderData: `[{"n":1},{"n":2},{"n":3}]`, MapIterationFailureCount: new(1)}}
		out := testState(t, h, in)
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, `[{"n":1},{"n":2},{"n":3}]`, out.InspectionData.AfterItemsPath)
		require.Equal(t, 1, *out.InspectionData.ToleratedFailureCount)
		in.StateConfiguration.MapIterationFailureCount = new(2)
		out = testState(t, h, in)
		require.Equal(t, sfn.TestStatusCaughtError, out.Status)
		require.Equal(t, "TooMany", out.NextState)
		require.Equal(t, "States.ExceedToleratedFailureThreshold", out.Error)
	}},
	{"TestStateVariablesAndStateName", func(t *testing.T, h Harness) {
		// variables "sets variables used in the state under test";
		// stateName picks a state of a whole state machine.
		machine := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
		  "B":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('hello {}', $name)"},"Assign":{"count.$":"States.MathAdd($count, 1)"},"End":true}}}`
		out := testState(t, h, sfn.TestStateInput{Definition: machine, StateName: "B", Variables: `{"name":"Ada","count":1}`, InspectionLevel: sfn.InspectionDebug})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, `{"greeting":"hello Ada"}`, out.Output)
		require.JSONEq(t, `{"name":"Ada","count":2}`, out.InspectionData.Variables)
		_, err := tester(t, h).TestState(t.Context(), sfn.TestStateInput{Definition: machine, StateName: "Z"})
		requireAPIError(t, err, sfn.CodeValidation)
	}},
	{"TestStateRefusals", func(t *testing.T, h Harness) {
		for _, tt := range []struct {
			in   sfn.TestStateInput
			code string
		}{
			{sfn.TestStateInput{Definition: `{"Type":"Pass","Nope":1,"End":true}`}, sfn.CodeInvalidDefinition},
			{sfn.TestStateInput{Definition: `{"Type":"Pass","Next":"X","End":true}`}, sfn.CodeInvalidDefinition},
			{sfn.TestStateInput{Definition: `{"Type":"Pass","End":true}`, Input: `{"a":`}, sfn.CodeInvalidExecutionInput},
			{sfn.TestStateInput{Definition: `{"Type":"Pass","End":true}`, Mock: &sfn.TestStateMock{Result: `{}`}}, sfn.CodeValidation},
			{sfn.TestStateInput{Definition: `{"Type":"Pass","End":true}`, Variables: `[1]`}, sfn.CodeValidation},
			{sfn.TestStateInput{Definition: `{"Type":"Pass","End":true}`, Context: `{}`}, sfn.CodeValidation},
		} {
			_, err := tester(t, h).TestState(t.Context(), tt.in)
			requireAPIError(t, err, tt.code)
		}
	}},
}
