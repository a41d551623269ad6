package steps_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
)

// A worker of ai steps: the runtime hands each message of an SQS event to
// the ai handler and calls back with the step's result.
func ExampleRuntime_Handle() {
	script, err := scripted.Parse([]byte(`turns:
  - match: {prompt: "Translate"}
    reply: {text: Bonjour., usage: {input_tokens: 12, output_tokens: 3}}
`))
	if err != nil {
		panic(err)
	}
	handler := steps.NewAI(steps.AIConfig{
		Providers: map[string]ai.Provider{"scripted": scripted.New(script, scripted.Options{})},
		Prices:    steps.PriceTable{"scripted/small": {InputPerMillion: 1, OutputPerMillion: 4}},
	})
	callbacks := &stepstest.Callbacks{} // the engine, or an awssfn.Client, in a real worker
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: callbacks, Handlers: map[string]steps.Handler{"ai": handler}})
	if err != nil {
		panic(err)
	}
	resp, err := rt.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "m1",
		Body: `{"taskToken": "token-1",
		        "execution": {"id": "arn:aws:states:us-east-1:123456789012:execution:hello:run-1", "name": "run-1"},
		        "step": {"id": "translate", "kind": "ai", "attempt": 0},
		        "spec": {"model": "scripted/small", "timeout_seconds": 60},
		        "data": {"prompt": "Translate into French: Hello."}}`,
	}}})
	if err != nil {
		panic(err)
	}
	fmt.Println("retry:", len(resp.BatchItemFailures))
	for _, s := range callbacks.Successes() {
		fmt.Println(s.TaskToken, s.Output)
	}
	// Output:
	// retry: 0
	// token-1 {"output":"Bonjour.","usage":{"input_tokens":12,"output_tokens":3,"cost_usd":0.000024,"calls":1,"turns":1}}
}
