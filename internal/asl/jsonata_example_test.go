package asl_test

import (
	"encoding/json"
	"fmt"

	"github.com/aiflow/aiflow/internal/asl"
)

// The Arguments of a JSONata Task state, from the Step Functions guide
// "Transforming data with JSONata": expression strings are evaluated,
// other strings are literals.
func ExampleEvalJSONata() {
	env := asl.JSONataEnv{
		States: map[string]any{"input": map[string]any{"title": "Doctor"}},
		Vars:   map[string]any{"customerName": "Ana"},
	}
	args, err := asl.EvalJSONata("Arguments", json.RawMessage(`{
		"static": "Hello",
		"title": "{% $states.input.title %}",
		"name": "{% $customerName %}",
		"not-evaluated": "$customerName"
	}`), env)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := json.Marshal(args)
	fmt.Println(string(out))

	_, err = asl.EvalJSONata("Output", json.RawMessage(`{"v": "{% $states.input.missing %}"}`), env)
	fmt.Println(err)
	// Output:
	// {"static":"Hello","title":"Doctor","name":"Ana","not-evaluated":"$customerName"}
	// The JSONata expression '$states.input.missing' specified for the field 'Output/v' returned nothing (undefined).
}
