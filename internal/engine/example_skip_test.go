package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// An engine and its queues on a clock.Skipping: a Wait state of two hours
// passes at once, and the history says it took two hours.
func Example_skippingClock() {
	// skipping-example
	clk := clock.NewSkipping()
	defer clk.Close()
	queues := queue.New(queue.Config{Clock: clk})
	defer queues.Close()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Queues: queues, Clock: clk})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		panic(err)
	}
	defer e.Close()
	// /skipping-example

	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "nap",
		Definition: `{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 7200, "End": true}}}`})
	if err != nil {
		panic(err)
	}
	ex, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{}`})
	if err != nil {
		panic(err)
	}
	if err := e.Wait(ctx, ex.ExecutionARN); err != nil {
		panic(err)
	}
	d, err := e.DescribeExecution(ctx, ex.ExecutionARN)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Status, d.StopDate.Sub(d.StartDate).Round(time.Minute))
	// Output: SUCCEEDED 2h0m0s
}
