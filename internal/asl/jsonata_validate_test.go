package asl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// validJSONataMachine uses every JSONata field of every state type, as
// the Step Functions guide "Transforming data with JSONata" shows them.
const validJSONataMachine = `{
  "QueryLanguage": "JSONata",
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Output": {"title": "{% $states.input.title %}", "static": "Hello"},
      "Assign": {"customerName": "{% $states.input.name %}"}, "Next": "Call"},
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
      "Output": "{% $states.result.Payload %}", "Assign": {"raw": "{% $states.result %}"},
      "TimeoutSeconds": "{% 60 %}", "HeartbeatSeconds": 10,
      "Retry": [{"ErrorEquals": ["States.QueryEvaluationError"], "MaxAttempts": 1}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Assign": {"failedWith": "{% $states.errorOutput.Error %}"}, "Next": "Failed"}],
      "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [
        {"Condition": "{% $states.input.total > 100 %}", "Output": {"big": true}, "Assign": {"route": "big"}, "Next": "Pause"},
        {"Condition": true, "Next": "Fan"}],
      "Default": "Done"},
    "Pause": {"Type": "Wait", "Seconds": "{% $states.input.delay %}", "Next": "Until"},
    "Until": {"Type": "Wait", "Timestamp": "{% $states.input.when %}", "Output": "{% $states.input %}", "Next": "Fan"},
    "Fan": {"Type": "Map", "Items": "{% $states.input.items %}",
      "ItemSelector": {"item": "{% $states.context.Map.Item.Value %}", "index": "{% $states.context.Map.Item.Index %}"},
      "MaxConcurrency": "{% 2 %}",
      "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": true}}},
      "Output": "{% $states.result %}", "Next": "Both"},
    "Both": {"Type": "Parallel", "Arguments": {"x": 1},
      "Branches": [{"StartAt": "B1", "States": {"B1": {"Type": "Succeed", "Output": "{% $states.input.x %}"}}}],
      "Next": "Done"},
    "Done": {"Type": "Succeed", "Output": {"customer": "{% $customerName %}"}},
    "Failed": {"Type": "Fail", "Error": "{% $failedWith %}", "Cause": "it failed"}
  }
}`

func TestValidateJSONataAccepts(t *testing.T) {
	t.Parallel()
	m, err := Parse([]byte(validJSONataMachine))
	require.NoError(t, err)
	require.Empty(t, Validate(m))

	// Marshalling keeps expressions given for numbers.
	out, err := m.MarshalIndent()
	require.NoError(t, err)
	again, err := Parse(out)
	require.NoError(t, err)
	require.Equal(t, "{% 60 %}", again.States["Call"].TimeoutSecondsExpr)
	require.Equal(t, 10, *again.States["Call"].HeartbeatSeconds)
	out2, err := again.MarshalIndent()
	require.NoError(t, err)
	require.Equal(t, string(out), string(out2))

	// A JSONata state in a JSONPath state machine.
	mixed := `{"StartAt": "A", "States": {
	  "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"n": "{% $states.input.n + 1 %}"}, "Next": "B"},
	  "B": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": true}}}`
	m, err = Parse([]byte(mixed))
	require.NoError(t, err)
	require.Empty(t, Validate(m))
}

func TestValidateJSONataRefuses(t *testing.T) {
	t.Parallel()
	machine := func(ql, state string) string {
		return `{"QueryLanguage": "` + ql + `", "StartAt": "S", "States": {"S": ` + state + `, "Z": {"Type": "Succeed"}}}`
	}
	tests := []struct {
		name, definition, path, msg string
	}{
		{"Parameters", machine("JSONata", `{"Type": "Task", "Resource": "r", "Parameters": {"a": 1}, "End": true}`),
			"States.S.Parameters", "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage"},
		{"InputPath", machine("JSONata", `{"Type": "Pass", "InputPath": "$.a", "End": true}`),
			"States.S.InputPath", "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"ResultSelector", machine("JSONata", `{"Type": "Task", "Resource": "r", "ResultSelector": {"a": 1}, "End": true}`),
			"States.S.ResultSelector", "field 'ResultSelector' is only supported for the 'JSONPath' QueryLanguage"},
		{"ResultPath", machine("JSONata", `{"Type": "Pass", "ResultPath": "$.a", "End": true}`),
			"States.S.ResultPath", "field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"OutputPath", machine("JSONata", `{"Type": "Succeed", "OutputPath": "$.a"}`),
			"States.S.OutputPath", "field 'OutputPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"ItemsPath", machine("JSONata", `{"Type": "Map", "ItemsPath": "$.a", "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Succeed"}}}, "End": true}`),
			"States.S.ItemsPath", "field 'ItemsPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"SecondsPath", machine("JSONata", `{"Type": "Wait", "SecondsPath": "$.a", "End": true}`),
			"States.S.SecondsPath", "field 'SecondsPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"CatcherResultPath", machine("JSONata", `{"Type": "Task", "Resource": "r", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "Z"}]}`),
			"States.S.Catch[0].ResultPath", "field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage"},
		{"ChoiceVariable", machine("JSONata", `{"Type": "Choice", "Choices": [{"Variable": "$.a", "BooleanEquals": true, "Next": "Z"}]}`),
			"States.S.Choices[0].Variable", "field 'Variable' is only supported for the 'JSONPath' QueryLanguage"},
		{"ConditionMissing", machine("JSONata", `{"Type": "Choice", "Choices": [{"Next": "Z"}]}`),
			"States.S.Choices[0].Condition", "is required in a Choice Rule of a JSONata state"},
		{"ConditionString", machine("JSONata", `{"Type": "Choice", "Choices": [{"Condition": "yes", "Next": "Z"}]}`),
			"States.S.Choices[0].Condition", "must be true, false or a JSONata expression string"},
		{"Arguments", machine("JSONPath", `{"Type": "Task", "Resource": "r", "Arguments": {}, "End": true}`),
			"States.S.Arguments", "The QueryLanguage is set to 'JSONPath', but field 'Arguments' is only supported for the 'JSONata' QueryLanguage"},
		{"Output", machine("JSONPath", `{"Type": "Pass", "Output": 1, "End": true}`),
			"States.S.Output", "field 'Output' is only supported for the 'JSONata' QueryLanguage"},
		{"Condition", machine("JSONPath", `{"Type": "Choice", "Choices": [{"Condition": true, "Next": "Z"}]}`),
			"States.S.Choices[0].Condition", "field 'Condition' is only supported for the 'JSONata' QueryLanguage"},
		{"ExpressionInJSONPath", machine("JSONPath", `{"Type": "Wait", "Seconds": "{% 1 %}", "End": true}`),
			"States.S.Seconds", "a JSONata expression string is only allowed in a JSONata state"},
		{"NumberAsString", machine("JSONata", `{"Type": "Task", "Resource": "r", "TimeoutSeconds": "60", "End": true}`),
			"States.S.TimeoutSeconds", `must be a number or a JSONata expression string`},
		{"Syntax", machine("JSONata", `{"Type": "Pass", "Output": {"a": ["{% 1 + %}"]}, "End": true}`),
			"States.S.Output.a[0]", "the JSONata expression '1 +' is not valid"},
		{"SyntaxCondition", machine("JSONata", `{"Type": "Choice", "Choices": [{"Condition": "{% $a = %}", "Next": "Z"}]}`),
			"States.S.Choices[0].Condition", "is not valid"},
		{"EmptyExpression", machine("JSONata", `{"Type": "Pass", "Output": "{%  %}", "End": true}`),
			"States.S.Output", "is empty"},
		{"ItemsString", machine("JSONata", `{"Type": "Map", "Items": "a", "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Succeed"}}}, "End": true}`),
			"States.S.Items", "must be a JSON array, a JSON object or a JSONata expression string"},
		{"AssignName", machine("JSONata", `{"Type": "Pass", "Assign": {"a.$": "$.x"}, "End": true}`),
			"States.S.Assign.a.$", "is not a valid variable name"},
		{"AssignStates", machine("JSONata", `{"Type": "Pass", "Assign": {"states": 1}, "End": true}`),
			"States.S.Assign.states", "$states is reserved"},
		{"JSONPathUnderJSONata", machine("JSONata", `{"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}`),
			"States.S.QueryLanguage", "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata"},
		{"NestedScopeAssign", `{"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "Assign": {"x": 1}, "End": true,
		    "ItemProcessor": {"StartAt": "E", "States": {"E": {"Type": "Pass", "Assign": {"x": 2}, "End": true}}}}}}`,
			"States.M.ItemProcessor.States.E.Assign.x", `assigns variable "x", which an enclosing scope assigns`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.definition))
			require.NoError(t, err)
			requireProblem(t, Validate(m), tt.path, tt.msg)
		})
	}
}
