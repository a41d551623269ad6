package sfn

import (
	"context"
	"time"
)

// StateMachines creates, changes, reads and deletes state machines.
type StateMachines interface {
	CreateStateMachine(ctx context.Context, in CreateStateMachineInput) (CreateStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in UpdateStateMachineInput) (UpdateStateMachineOutput, error)
	DescribeStateMachine(ctx context.Context, arn string) (StateMachine, error)
	ListStateMachines(ctx context.Context, in ListStateMachinesInput) (ListStateMachinesOutput, error)
	DeleteStateMachine(ctx context.Context, arn string) error
	ValidateStateMachineDefinition(ctx context.Context, definition string) (ValidateOutput, error)
}

// Executions starts, reads and stops executions.
type Executions interface {
	StartExecution(ctx context.Context, in StartExecutionInput) (StartExecutionOutput, error)
	StartSyncExecution(ctx context.Context, in StartExecutionInput) (Execution, error)
	DescribeExecution(ctx context.Context, arn string) (Execution, error)
	ListExecutions(ctx context.Context, in ListExecutionsInput) (ListExecutionsOutput, error)
	StopExecution(ctx context.Context, in StopExecutionInput) (stopDate time.Time, err error)
}

// History reads an execution's history, a page at a time.
type History interface {
	GetExecutionHistory(ctx context.Context, in GetExecutionHistoryInput) (GetExecutionHistoryOutput, error)
}

// Callbacks report the end of a task started with a task token (the
// .waitForTaskToken pattern), or that it is still alive.
type Callbacks interface {
	SendTaskSuccess(ctx context.Context, in SendTaskSuccessInput) error
	SendTaskFailure(ctx context.Context, in SendTaskFailureInput) error
	SendTaskHeartbeat(ctx context.Context, taskToken string) error
}

// Service is the whole Step Functions API aiflow uses. *engine.Engine
// implements it in process and *awssfn.Client over the AWS SDK, and one
// conformance suite (engine/enginetest) runs against both. Errors a caller
// can act on are *Error, matched by Code; any other error is a failure of
// the service itself.
type Service interface {
	StateMachines
	Executions
	Redriver
	History
	Callbacks
	Versions
	Aliases
	Tags
	ExecutionMachines
}

// QueueSender puts messages on queues by URL: the SQS SendMessage action
// of the sqs:sendMessage task resources.
type QueueSender interface {
	SendMessage(ctx context.Context, p SendMessageParams) (messageID string, err error)
}

// SendMessageParams is one message to send.
type SendMessageParams struct {
	QueueURL string
	Body     string
	// Attributes are the message attributes, string values only.
	Attributes map[string]string
	// TraceHeader becomes the message's AWSTraceHeader system attribute.
	TraceHeader string
	// DelaySeconds delays the message's first delivery.
	DelaySeconds int
}

// FunctionInvoker invokes Lambda functions: the lambda:invoke task
// resources and function ARNs.
type FunctionInvoker interface {
	// Invoke calls the function synchronously. A function error (the
	// handler returned an error) is reported in the result, not as err;
	// err is for a call that could not be made.
	Invoke(ctx context.Context, p InvokeParams) (InvokeResult, error)
}

// InvokeParams is one synchronous invocation.
type InvokeParams struct {
	// FunctionName is a name, a function ARN or a partial ARN, with an
	// optional :qualifier.
	FunctionName string
	Payload      []byte
	// ClientContext is the base64 client context, if any.
	ClientContext string
}

// InvokeResult is the response of a synchronous invocation.
type InvokeResult struct {
	StatusCode      int
	Payload         []byte
	ExecutedVersion string
	// FunctionError is "Unhandled" or "Handled" when the function failed;
	// Payload then holds {"errorType": ..., "errorMessage": ...}.
	FunctionError string
}
