package enginetest

import (
	"context"
	"encoding/json"

	"github.com/aiflow/aiflow/internal/engine"
)

// Store is an engine.Store for injecting failures: each method calls its
// XxxFunc when that is set and the same method of Base otherwise. A
// CommitFunc that blocks, fails or refuses shows what the engine does when
// its store hangs, is unavailable or refuses a transition; it may call
// Base itself to let a commit through.
type Store struct {
	// Base answers the calls that have no XxxFunc, usually
	// engine.NewMemoryStore().
	Base engine.Store

	PutStateMachineFunc    func(ctx context.Context, sm engine.StateMachineRecord) error
	DeleteStateMachineFunc func(ctx context.Context, arn string) error
	StateMachinesFunc      func(ctx context.Context) ([]engine.StateMachineRecord, error)
	CommitFunc             func(ctx context.Context, commits []engine.Commit) error
	BatchesFunc            func(ctx context.Context, executionARN string) ([]json.RawMessage, error)
	ExecutionFunc          func(ctx context.Context, arn string) (engine.ExecutionRecord, bool, error)
	ExecutionsFunc         func(ctx context.Context, f engine.ExecutionFilter) ([]engine.ExecutionRecord, string, error)
	OpenExecutionsFunc     func(ctx context.Context) ([]engine.ExecutionRecord, error)
}

var _ engine.Store = (*Store)(nil)

// PutStateMachine calls PutStateMachineFunc or Base.
func (s *Store) PutStateMachine(ctx context.Context, sm engine.StateMachineRecord) error {
	if s.PutStateMachineFunc != nil {
		return s.PutStateMachineFunc(ctx, sm)
	}
	return s.Base.PutStateMachine(ctx, sm)
}

// DeleteStateMachine calls DeleteStateMachineFunc or Base.
func (s *Store) DeleteStateMachine(ctx context.Context, arn string) error {
	if s.DeleteStateMachineFunc != nil {
		return s.DeleteStateMachineFunc(ctx, arn)
	}
	return s.Base.DeleteStateMachine(ctx, arn)
}

// StateMachines calls StateMachinesFunc or Base.
func (s *Store) StateMachines(ctx context.Context) ([]engine.StateMachineRecord, error) {
	if s.StateMachinesFunc != nil {
		return s.StateMachinesFunc(ctx)
	}
	return s.Base.StateMachines(ctx)
}

// Commit calls CommitFunc or Base.
func (s *Store) Commit(ctx context.Context, commits []engine.Commit) error {
	if s.CommitFunc != nil {
		return s.CommitFunc(ctx, commits)
	}
	return s.Base.Commit(ctx, commits)
}

// Batches calls BatchesFunc or Base.
func (s *Store) Batches(ctx context.Context, executionARN string) ([]json.RawMessage, error) {
	if s.BatchesFunc != nil {
		return s.BatchesFunc(ctx, executionARN)
	}
	return s.Base.Batches(ctx, executionARN)
}

// Execution calls ExecutionFunc or Base.
func (s *Store) Execution(ctx context.Context, arn string) (engine.ExecutionRecord, bool, error) {
	if s.ExecutionFunc != nil {
		return s.ExecutionFunc(ctx, arn)
	}
	return s.Base.Execution(ctx, arn)
}

// Executions calls ExecutionsFunc or Base.
func (s *Store) Executions(ctx context.Context, f engine.ExecutionFilter) ([]engine.ExecutionRecord, string, error) {
	if s.ExecutionsFunc != nil {
		return s.ExecutionsFunc(ctx, f)
	}
	return s.Base.Executions(ctx, f)
}

// OpenExecutions calls OpenExecutionsFunc or Base.
func (s *Store) OpenExecutions(ctx context.Context) ([]engine.ExecutionRecord, error) {
	if s.OpenExecutionsFunc != nil {
		return s.OpenExecutionsFunc(ctx)
	}
	return s.Base.OpenExecutions(ctx)
}
