package httpapi

import (
	"context"
	"time"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Machines creates and updates the state machines workflows compile to.
type Machines interface {
	CreateStateMachine(ctx context.Context, in sfn.CreateStateMachineInput) (sfn.CreateStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in sfn.UpdateStateMachineInput) (sfn.UpdateStateMachineOutput, error)
}

// Executions starts, reads and stops executions.
type Executions interface {
	StartExecution(ctx context.Context, in sfn.StartExecutionInput) (sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, arn string) (sfn.Execution, error)
	ListExecutions(ctx context.Context, in sfn.ListExecutionsInput) (sfn.ListExecutionsOutput, error)
	StopExecution(ctx context.Context, in sfn.StopExecutionInput) (time.Time, error)
	GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error)
}

// TaskResolver answers the task token of an approval step.
type TaskResolver interface {
	SendTaskSuccess(ctx context.Context, in sfn.SendTaskSuccessInput) error
}

// StateMachines is everything the API asks of Step Functions or of the
// local engine, a part of sfn.Service: *engine.Engine and *awssfn.Client
// both satisfy it, and their errors are *sfn.Error values either way.
type StateMachines interface {
	Machines
	Executions
	TaskResolver
}

// DetailReader reads the detail events step workers recorded beside an
// execution's history (tokens, cost). *detailstore.Store is one.
type DetailReader interface {
	Details(ctx context.Context, executionID string) ([]eventstore.Event, error)
}

// TokenStream hands out the model tokens ai steps stream, by execution;
// *stepevent.Broker's Subscribe is wrapped by BrokerStream.
type TokenStream interface {
	// SubscribeTokens returns a channel of the execution's streamed text
	// and a function that ends the subscription and closes the channel.
	SubscribeTokens(executionARN string) (<-chan TokenEvent, func())
}

// TokenEvent is one piece of an ai step's streamed answer.
type TokenEvent struct {
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Turn    int    `json:"turn"`
	Text    string `json:"text"`
}
