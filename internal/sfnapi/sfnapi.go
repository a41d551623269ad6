// Package sfnapi serves the Step Functions API over HTTP in the AWS JSON 1.0
// protocol, on top of the local engine: POST / with
// X-Amz-Target: AWSStepFunctions.<Operation>. Any Step Functions client (the
// aws-sdk-go-v2 sfn client, the AWS CLI with --endpoint-url, other SDKs)
// can drive the engine through it.
//
// The package owns the wire format only: the request and response members
// as the Step Functions API reference names them, epoch-second timestamps,
// error bodies that SDKs decode into their typed errors, and request ids.
// Semantics (names, ARNs, tokens, executions) belong to the Service.
//
// Requests are not authenticated: SigV4 Authorization headers are accepted
// and ignored, whatever the credentials, as Step Functions Local does.
package sfnapi

import (
	"context"
	"time"

	"github.com/aiflow/aiflow/internal/engine"
)

// Service is what the handler serves: the Step Functions operations of the
// local engine, which *engine.Engine implements. Errors of type
// *engine.Error reach the caller with their Code as the error type; any
// other error is an internal failure whose text the caller never sees.
type Service interface {
	CreateStateMachine(ctx context.Context, in engine.CreateStateMachineInput) (engine.CreateStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in engine.UpdateStateMachineInput) (engine.UpdateStateMachineOutput, error)
	DescribeStateMachine(ctx context.Context, arn string) (engine.StateMachine, error)
	ListStateMachines(ctx context.Context, in engine.ListStateMachinesInput) (engine.ListStateMachinesOutput, error)
	DeleteStateMachine(ctx context.Context, arn string) error
	ValidateStateMachineDefinition(ctx context.Context, definition string) (engine.ValidateOutput, error)
	StartExecution(ctx context.Context, in engine.StartExecutionInput) (engine.StartExecutionOutput, error)
	StartSyncExecution(ctx context.Context, in engine.StartExecutionInput) (engine.Execution, error)
	DescribeExecution(ctx context.Context, arn string) (engine.Execution, error)
	ListExecutions(ctx context.Context, in engine.ListExecutionsInput) (engine.ListExecutionsOutput, error)
	StopExecution(ctx context.Context, in engine.StopExecutionInput) (stopDate time.Time, err error)
	GetExecutionHistory(ctx context.Context, in engine.GetExecutionHistoryInput) (engine.GetExecutionHistoryOutput, error)
	SendTaskSuccess(ctx context.Context, in engine.SendTaskSuccessInput) error
	SendTaskFailure(ctx context.Context, in engine.SendTaskFailureInput) error
	SendTaskHeartbeat(ctx context.Context, taskToken string) error
}
