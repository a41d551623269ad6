package eventbridge_test

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/eventbridge"
)

func ExampleCompilePatternJSON() {
	p, err := eventbridge.CompilePatternJSON([]byte(`{
		"source": ["aws.states"],
		"detail": {"status": [{"anything-but": ["RUNNING"]}], "stateMachineArn": [{"prefix": "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-"}]}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, status := range []string{"RUNNING", "FAILED"} {
		ok, _ := p.MatchJSON([]byte(`{"source": "aws.states", "detail": {"status": "` + status +
			`", "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-summary"}}`))
		fmt.Println(status, ok)
	}

	_, err = eventbridge.CompilePatternJSON([]byte(`{"detail": {"status": [{"contains": "FAIL"}]}}`))
	fmt.Println(err)
	// Output:
	// RUNNING false
	// FAILED true
	// event pattern $.detail.status[0]: "contains": is not an operator of EventBridge event patterns that this bus implements (prefix, suffix, equals-ignore-case, wildcard, anything-but, exists, numeric, cidr)
}
