package awssfn_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

// The adapter has the engine's methods and errors, whichever Step
// Functions endpoint it talks to: here the engine's own HTTP API.
func Example() {
	ctx := context.Background()
	eng, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := eng.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	srv := httptest.NewServer(sfnapi.NewHandler(eng, sfnapi.Options{}))
	defer srv.Close()

	c, err := awssfn.NewClient(ctx, srv.URL, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	states := awssfn.New(c)
	sm, err := states.CreateStateMachine(ctx, sfn.CreateStateMachineInput{
		Name:       "hello",
		RoleARN:    "arn:aws:iam::123456789012:role/hello",
		Definition: `{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	run, err := states.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "first", Input: `{"n":1}`})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.ExecutionARN)

	err = states.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: "not-a-token", Output: `{}`})
	var apiErr *sfn.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code)
	}
	// Output:
	// arn:aws:states:us-east-1:123456789012:execution:hello:first
	// InvalidToken
}
