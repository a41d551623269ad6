package sfnapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

// Serve the local engine as a Step Functions endpoint and drive it with
// the AWS SDK's own client, as the AWS CLI does with --endpoint-url.
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

	client, err := awssfn.NewClient(ctx, srv.URL, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	sm, err := client.CreateStateMachine(ctx, &sdksfn.CreateStateMachineInput{
		Name:       aws.String("hello"),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/hello"),
		Type:       types.StateMachineTypeExpress,
		Definition: aws.String(`{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := client.StartSyncExecution(ctx, &sdksfn.StartSyncExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"name":"world"}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(aws.ToString(sm.StateMachineArn))
	fmt.Println(x.Status, aws.ToString(x.Output))

	_, err = client.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:hello:missing")})
	var missing *types.ExecutionDoesNotExist
	fmt.Println(errors.As(err, &missing))
	// Output:
	// arn:aws:states:us-east-1:123456789012:stateMachine:hello
	// SUCCEEDED {"greeting":"Hello, world!"}
	// true
}
