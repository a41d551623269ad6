package stackmodel_test

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/samtemplate"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

func ExampleResolve() {
	tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  LogLevel: {Type: String, Default: info, AllowedValues: [debug, info]}
Globals:
  Function:
    Timeout: 29
    Environment:
      Variables:
        AIFLOW_LOG_LEVEL: !Ref LogLevel
Resources:
  StepQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
  StepFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties:
      CodeUri: .
      Environment:
        Variables:
          QUEUE_URL: !Ref StepQueue
      Events:
        Steps:
          Type: SQS
          Properties:
            Queue: !GetAtt StepQueue.Arn
            BatchSize: 5
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := stackmodel.Resolve(stackmodel.Params{
		Template:   tmpl,
		Folders:    map[string]string{"StepFunction": "step"},
		Parameters: map[string]string{"LogLevel": "debug"},
		StackName:  "demo",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, _ := s.Function("StepFunction")
	fmt.Println(f.Folder, f.Timeout)
	fmt.Println(f.Environment["AIFLOW_LOG_LEVEL"], f.Environment["QUEUE_URL"])
	fmt.Println(f.SQSEvents[0].Queue, f.SQSEvents[0].BatchSize)

	_, err = stackmodel.Resolve(stackmodel.Params{Template: tmpl, Parameters: map[string]string{"LogLevel": "trace"}})
	fmt.Println(err)
	// Output:
	// functions/step 29s
	// debug https://sqs.us-east-1.amazonaws.com/123456789012/demo-StepQueue
	// StepQueue 5
	// Parameters.LogLevel: "trace" is not one of its AllowedValues debug, info
}
