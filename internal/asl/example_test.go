package asl_test

import (
	"encoding/json"
	"fmt"

	"github.com/aiflow/aiflow/internal/asl"
)

func ExampleStateMachine_MarshalIndent() {
	m := &asl.StateMachine{
		StartAt: "Classify",
		States: map[string]*asl.State{
			"Classify": {
				Type:       asl.TypeTask,
				Resource:   "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
				Parameters: json.RawMessage(`{"MessageBody": {"token.$": "$$.Task.Token", "input.$": "$"}, "QueueUrl": "q"}`),
				ResultPath: asl.Ref("$.steps.classify"),
				Retry:      []asl.Retrier{{ErrorEquals: []string{"AI.Throttled"}, MaxAttempts: new(3)}},
				End:        true,
			},
		},
	}
	if errs := asl.Validate(m); len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	out, err := m.MarshalIndent()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// {
	//   "StartAt": "Classify",
	//   "States": {
	//     "Classify": {
	//       "Type": "Task",
	//       "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	//       "Parameters": {
	//         "MessageBody": {
	//           "input.$": "$",
	//           "token.$": "$$.Task.Token"
	//         },
	//         "QueueUrl": "q"
	//       },
	//       "ResultPath": "$.steps.classify",
	//       "Retry": [
	//         {
	//           "ErrorEquals": [
	//             "AI.Throttled"
	//           ],
	//           "MaxAttempts": 3
	//         }
	//       ],
	//       "End": true
	//     }
	//   }
	// }
}

func ExampleValidate() {
	m, err := asl.Parse([]byte(`{
  "StartAt": "Wait",
  "States": {
    "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
    "Classify": {"Type": "Task", "Retry": [{"ErrorEquals": ["States.ALL", "AI.Throttled"]}], "End": true}
  }
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range asl.Validate(m) {
		fmt.Println(e)
	}
	// Output:
	// States.Classify.Retry[0].ErrorEquals[0]: States.ALL must be the only error name in its ErrorEquals
	// States.Classify.Resource: is required in a Task state
	// States.Wait.Next: state "Done" does not exist
	// States.Classify: state is not reachable from StartAt "Wait"
}

func ExampleParseIntrinsic() {
	c, err := asl.ParseIntrinsic("States.Format('{} has {} items', $.name, States.ArrayLength($.items))")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, len(c.Args))
	fmt.Println(c.Args[1].Path.String(), c.Args[2].Call.Name)
	// Output:
	// States.Format 3
	// $.name States.ArrayLength
}

func ExampleParsePath() {
	p, err := asl.ParsePath("$$.Map.Item.Value['first name']")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Root == asl.RootContext, len(p.Segments), p.IsReference())
	fmt.Println(p)
	// Output:
	// true 4 true
	// $$.Map.Item.Value['first name']
}
