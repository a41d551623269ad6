package sfnapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// jsonataOrders is a JSONata state machine written as the Step Functions
// guide "Transforming data with JSONata" writes them: Output and Assign
// with $states, a Choice Condition, a Map over Items.
const jsonataOrders = `{
  "QueryLanguage": "JSONata",
  "StartAt": "Total",
  "States": {
    "Total": {
      "Type": "Pass",
      "Assign": {"customer": "{% $states.input.customer %}"},
      "Output": {"total": "{% $sum($states.input.items.(price * quantity)) %}", "items": "{% $states.input.items %}"},
      "Next": "Big"
    },
    "Big": {
      "Type": "Choice",
      "Choices": [{"Condition": "{% $states.input.total > 100 %}", "Next": "Label"}],
      "Default": "Small"
    },
    "Small": {"Type": "Fail", "Error": "Order.Small", "Cause": "{% 'total ' & $string($states.input.total) %}"},
    "Label": {
      "Type": "Map",
      "Items": "{% $states.input.items %}",
      "ItemSelector": {"name": "{% $states.context.Map.Item.Value.name %}", "customer": "{% $customer %}"},
      "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "Output": "{% $states.input.name & ' for ' & $states.input.customer %}", "End": true}}},
      "Output": {"labels": "{% $states.result %}", "total": "{% $states.input.total %}"},
      "End": true
    }
  }
}`

// TestAWSCLIJSONata creates, runs and describes a JSONata state machine
// with the AWS CLI, and validates one that uses a JSONPath field.
func TestAWSCLIJSONata(t *testing.T) {
	t.Parallel()
	for label, path := range awsCLIs(t) {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			cli := awsjsontest.NewCLIAt(t, path, "stepfunctions", b.srv.URL)
			arn := cli.Run(t, b.ctx, "create-state-machine", "--name", "orders", "--role-arn", testRole,
				"--definition", jsonataOrders)["stateMachineArn"].(string)

			run := func(input string) map[string]any {
				t.Helper()
				exec := cli.Run(t, b.ctx, "start-execution", "--state-machine-arn", arn, "--input", input)["executionArn"].(string)
				// Wait in process (each CLI call starts an interpreter), then
				// describe with the CLI.
				require.Eventually(t, func() bool {
					x, err := b.eng.DescribeExecution(b.ctx, exec)
					return err == nil && x.Status != sfn.StatusRunning
				}, 30*time.Second, 20*time.Millisecond)
				return cli.Run(t, b.ctx, "describe-execution", "--execution-arn", exec)
			}

			desc := run(`{"customer": "Ana", "items": [{"name": "lamp", "price": 40, "quantity": 2}, {"name": "desk", "price": 90, "quantity": 1}]}`)
			require.Equal(t, "SUCCEEDED", desc["status"], "%v", desc)
			require.JSONEq(t, `{"labels": ["lamp for Ana", "desk for Ana"], "total": 170}`, desc["output"].(string))

			desc = run(`{"customer": "Cy"}`)
			require.Equal(t, "FAILED", desc["status"], "%v", desc)
			require.Equal(t, "States.QueryEvaluationError", desc["error"])
			require.Equal(t, "An error occurred while executing the state 'Total' (entered at the event id #2). "+
				"The JSONata expression '$sum($states.input.items.(price * quantity))' specified for the field 'Output/total' returned nothing (undefined).", desc["cause"])

			out, err := cli.Command(b.ctx, "validate-state-machine-definition", "--definition",
				`{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "OutputPath": "$.a", "End": true}}}`).CombinedOutput()
			if err != nil && strings.Contains(string(out), "Invalid choice") {
				t.Log("this AWS CLI predates validate-state-machine-definition")
				return
			}
			require.NoError(t, err, "%s", out)
			var res map[string]any
			require.NoError(t, json.Unmarshal(out, &res), "%s", out)
			require.Equal(t, "FAIL", res["result"])
			diags := res["diagnostics"].([]any)
			require.Len(t, diags, 1)
			d := diags[0].(map[string]any)
			require.Equal(t, "SCHEMA_VALIDATION_FAILED", d["code"])
			require.Equal(t, "/States/A/OutputPath", d["location"])
			require.Equal(t, "The QueryLanguage is set to 'JSONata', but field 'OutputPath' is only supported for the 'JSONPath' QueryLanguage", d["message"])
		})
	}
}
