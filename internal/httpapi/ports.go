package httpapi

import (
	"context"

	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/sfn"
)

// StateMachines is everything the API asks of Step Functions or of the
// local engine, a part of sfn.Service: what the use cases ask
// (control.Engine), and the reads of executions and their history.
// *engine.Engine and *awssfn.Client both satisfy it, and their errors are
// *sfn.Error values either way.
type StateMachines interface {
	control.Engine
	ListExecutions(ctx context.Context, in sfn.ListExecutionsInput) (sfn.ListExecutionsOutput, error)
	GetExecutionHistory(ctx context.Context, in sfn.GetExecutionHistoryInput) (sfn.GetExecutionHistoryOutput, error)
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
