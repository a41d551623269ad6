package enginetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The TestState checks on JSONata states follow the TestState API
// reference and its InspectionData
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_InspectionData.html:
// afterArguments "will only be present when QueryLanguage for the state
// machine or individual states is set to JSONata"; afterInputPath,
// afterParameters, afterResultSelector and afterResultPath are "not
// populated when QueryLanguage is JSONata"; variables are "the set of
// workflow variables after execution of the state", including "variables
// set up as test state input"), and the guide's pages on transforming
// data with JSONata
// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html)
// and on passing data with variables
// (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).
func init() {
	checks = append(checks, testStateJSONataChecks...)
}

var testStateJSONataChecks = []check{
	{"TestStateJSONataTaskArgumentsOutputAssign", func(t *testing.T, h Harness) {
		// A Task's Arguments are its effective input (afterArguments);
		// Output and Assign see $states.result, and Assign sees the
		// variables as they were before the state.
		b := setup(t, h)
		b.registerFunction("TestStateJSONataEcho", []FunctionReply{{Return: json.RawMessage(`{"echoed":"$input"}`)}})
		out := testState(t, h, sfn.TestStateInput{
			Definition: `{"Type":"Task","QueryLanguage":"JSONata","Resource":"arn:aws:states:::lambda:invoke",
			  "Arguments":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:TestStateJSONataEcho","Payload":{"who":"{% $states.input.who %}","n":"{% $count %}"}},
			  "Output":{"said":"{% $states.result.Payload.echoed.who %}","state":"{% $states.context.State.Name %}"},
			  "Assign":{"count":"{% $count + 1 %}","was":"{% $count %}"},"Next":"Done"}`,
			Input: `{"who":"Ada"}`, Variables: `{"count":1}`, InspectionLevel: sfn.InspectionDebug, RoleARN: roleARN,
		})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, "Done", out.NextState)
		require.Equal(t, `{"said":"Ada","state":"TestState"}`, out.Output)
		d := out.InspectionData
		require.NotNil(t, d)
		require.Equal(t, `{"who":"Ada"}`, d.Input)
		require.JSONEq(t, `{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:TestStateJSONataEcho","Payload":{"who":"Ada","n":1}}`, d.AfterArguments)
		var result struct{ Payload json.RawMessage }
		require.NoError(t, json.Unmarshal([]byte(d.Result), &result))
		require.JSONEq(t, `{"echoed":{"who":"Ada","n":1}}`, string(result.Payload))
		require.JSONEq(t, `{"count":2,"was":1}`, d.Variables)
		require.Empty(t, d.AfterInputPath, "not populated when QueryLanguage is JSONata")
		require.Empty(t, d.AfterParameters)
		require.Empty(t, d.AfterResultSelector)
		require.Empty(t, d.AfterResultPath)
	}},
	{"TestStateJSONataPassAndMachineQueryLanguage", func(t *testing.T, h Harness) {
		// stateName picks a state of a machine whose QueryLanguage is
		// JSONata; a Pass state's Output is by default its input.
		machine := `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		  "A":{"Type":"Pass","Output":{"total":"{% $sum($states.input.prices) %}","who":"{% $name %}"},"Next":"B"},
		  "B":{"Type":"Pass","Assign":{"seen":"{% $states.input.prices[0] %}"},"End":true}}}`
		out := testState(t, h, sfn.TestStateInput{Definition: machine, StateName: "A", Input: `{"prices":[1,2,3.5]}`, Variables: `{"name":"Ada"}`})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, "B", out.NextState)
		require.Equal(t, `{"total":6.5,"who":"Ada"}`, out.Output)
		out = testState(t, h, sfn.TestStateInput{Definition: machine, StateName: "B", Input: `{"prices":[4]}`, InspectionLevel: sfn.InspectionDebug})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Empty(t, out.NextState)
		require.Equal(t, `{"prices":[4]}`, out.Output)
		require.JSONEq(t, `{"seen":4}`, out.InspectionData.Variables)
	}},
	{"TestStateJSONataChoiceCondition", func(t *testing.T, h Harness) {
		// A rule's Condition picks the next state; the rule's Output and
		// Assign apply, and the state's when the Default is taken.
		def := `{"Type":"Choice","QueryLanguage":"JSONata","Choices":[
		  {"Condition":"{% $states.input.n > $limit %}","Output":{"big":"{% $states.input.n %}"},"Assign":{"path":"big"},"Next":"Big"}],
		  "Default":"Small","Assign":{"path":"small"}}`
		out := testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"n":5}`, Variables: `{"limit":3}`, InspectionLevel: sfn.InspectionDebug})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, "Big", out.NextState)
		require.Equal(t, `{"big":5}`, out.Output)
		require.JSONEq(t, `{"limit":3,"path":"big"}`, out.InspectionData.Variables)
		out = testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"n":1}`, Variables: `{"limit":3}`, InspectionLevel: sfn.InspectionDebug})
		require.Equal(t, "Small", out.NextState)
		require.Equal(t, `{"n":1}`, out.Output)
		require.JSONEq(t, `{"limit":3,"path":"small"}`, out.InspectionData.Variables)
		// A Condition that is not a boolean fails the state.
		out = testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"n":"x"}`, Variables: `{"limit":3}`})
		require.Equal(t, sfn.TestStatusFailed, out.Status)
		require.Equal(t, "States.QueryEvaluationError", out.Error)
	}},
	{"TestStateJSONataCatchSeesErrorOutput", func(t *testing.T, h Harness) {
		// A Catcher's Output and Assign see $states.errorOutput; a
		// Retrier with attempts left makes the state RETRIABLE.
		def := `{"Type":"Task","QueryLanguage":"JSONata","Resource":"arn:aws:states:us-east-1:123456789012:activity:review",
		  "Retry":[{"ErrorEquals":["Review.Busy"],"MaxAttempts":1}],
		  "Catch":[{"ErrorEquals":["States.ALL"],"Output":{"failed":"{% $states.errorOutput.Error %}","order":"{% $states.input.id %}"},
		    "Assign":{"why":"{% $states.errorOutput.Cause %}"},"Next":"Handle"}],"End":true}`
		in := sfn.TestStateInput{Definition: def, Input: `{"id":"o-1"}`, InspectionLevel: sfn.InspectionDebug,
			Mock: &sfn.TestStateMock{ErrorOutput: &sfn.TestStateMockError{Error: "Review.Rejected", Cause: "no"}}}
		out := testState(t, h, in)
		require.Equal(t, sfn.TestStatusCaughtError, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, "Handle", out.NextState)
		require.Equal(t, "Review.Rejected", out.Error)
		require.Equal(t, `{"failed":"Review.Rejected","order":"o-1"}`, out.Output)
		require.JSONEq(t, `{"why":"no"}`, out.InspectionData.Variables)
		require.Equal(t, 0, *out.InspectionData.ErrorDetails.CatchIndex)
		in.Mock = &sfn.TestStateMock{ErrorOutput: &sfn.TestStateMockError{Error: "Review.Busy"}}
		out = testState(t, h, in)
		require.Equal(t, sfn.TestStatusRetriable, out.Status)
		require.Equal(t, 0, *out.InspectionData.ErrorDetails.RetryIndex)
	}},
	{"TestStateJSONataFailAndQueryError", func(t *testing.T, h Harness) {
		// A Fail state's Error and Cause may be expressions; an
		// expression that returns nothing fails the state with
		// States.QueryEvaluationError.
		out := testState(t, h, sfn.TestStateInput{Definition: `{"Type":"Fail","QueryLanguage":"JSONata","Error":"{% $states.input.code %}","Cause":"{% 'order ' & $states.input.id %}"}`,
			Input: `{"code":"Order.Invalid","id":"o-1"}`})
		require.Equal(t, sfn.TestStatusFailed, out.Status)
		require.Equal(t, "Order.Invalid", out.Error)
		require.Equal(t, "order o-1", out.Cause)
		out = testState(t, h, sfn.TestStateInput{Definition: `{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input.missing %}","End":true}`, Input: `{}`})
		require.Equal(t, sfn.TestStatusFailed, out.Status)
		require.Equal(t, "States.QueryEvaluationError", out.Error)
		require.Contains(t, out.Cause, "$states.input.missing")
		// So does a TimeoutSeconds expression that gives no integer, before
		// the task is called.
		out = testState(t, h, sfn.TestStateInput{Definition: `{"Type":"Task","QueryLanguage":"JSONata",
		  "Resource":"arn:aws:lambda:us-east-1:123456789012:function:TestStateNeverCalled","TimeoutSeconds":"{% $states.input.wait %}","End":true}`,
			Input: `{"wait":"soon"}`})
		require.Equal(t, sfn.TestStatusFailed, out.Status)
		require.Equal(t, "States.QueryEvaluationError", out.Error)
		require.Contains(t, out.Cause, "TimeoutSeconds")
		// A JSONPath field in a JSONata state is refused, as at creation.
		_, err := tester(t, h).TestState(t.Context(), sfn.TestStateInput{Definition: `{"Type":"Pass","QueryLanguage":"JSONata","Parameters":{"a":1},"End":true}`})
		requireAPIError(t, err, sfn.CodeInvalidDefinition)
	}},
	{"TestStateJSONataMockedMap", func(t *testing.T, h Harness) {
		// A Map state's Items and ItemSelector ($states.context.Map.Item)
		// show as afterItemSelector; afterItemsPath is JSONPath's.
		def := `{"Type":"Map","QueryLanguage":"JSONata","Items":"{% $states.input.orders %}",
		  "ItemSelector":{"id":"{% $states.context.Map.Item.Value %}","at":"{% $states.context.Map.Item.Index %}"},"MaxConcurrency":2,
		  "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		  "Output":{"count":"{% $count($states.result) %}"},"End":true}`
		out := testState(t, h, sfn.TestStateInput{Definition: def, Input: `{"orders":["a","b"]}`, InspectionLevel: sfn.InspectionDebug,
			Mock: &sfn.TestStateMock{Result: `[{"ok":true},{"ok":true}]`}})
		require.Equal(t, sfn.TestStatusSucceeded, out.Status, "%s: %s", out.Error, out.Cause)
		require.Equal(t, `{"count":2}`, out.Output)
		require.Equal(t, `[{"id":"a","at":0},{"id":"b","at":1}]`, out.InspectionData.AfterItemSelector)
		require.Equal(t, `[{"ok":true},{"ok":true}]`, out.InspectionData.Result)
		require.Empty(t, out.InspectionData.AfterItemsPath)
		require.Equal(t, 2, *out.InspectionData.MaxConcurrency)
	}},
}
