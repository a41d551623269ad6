package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// coverBundle is one started engine on a memory store, for the tests of
// the cover_*_test.go files.
type coverBundle struct {
	t     *testing.T
	ctx   context.Context
	e     *engine.Engine
	store *engine.MemoryStore
	fns   *engine.FunctionRegistry
	runs  int // state machines made by run
}

// coverSetup starts an engine with a function registry and cfg's queues
// and functions when set; cfg.Store, when nil, is a new memory store.
func coverSetup(t *testing.T, cfg engine.Config) *coverBundle {
	t.Helper()
	b := &coverBundle{t: t, ctx: t.Context()}
	if cfg.Store == nil {
		b.store = engine.NewMemoryStore()
		cfg.Store = b.store
	}
	if cfg.Functions == nil {
		b.fns = &engine.FunctionRegistry{}
		cfg.Functions = b.fns
	}
	e, err := engine.New(cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(b.ctx))
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	b.e = e
	return b
}

// machine creates a state machine of the definition and returns its ARN.
func (b *coverBundle) machine(name, definition string) string {
	b.t.Helper()
	out, err := b.e.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: name, Definition: definition})
	require.NoError(b.t, err)
	return out.StateMachineARN
}

// start starts an execution and returns its ARN.
func (b *coverBundle) start(smARN, input string) string {
	b.t.Helper()
	out, err := b.e.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: smARN, Input: input})
	require.NoError(b.t, err)
	return out.ExecutionARN
}

// finish waits, at most ten seconds, for the execution to close and
// describes it.
func (b *coverBundle) finish(arn string) sfn.Execution {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	require.NoError(b.t, b.e.Wait(ctx, arn))
	d, err := b.e.DescribeExecution(b.ctx, arn)
	require.NoError(b.t, err)
	return d
}

// run runs the definition on the input to its end.
func (b *coverBundle) run(definition, input string) sfn.Execution {
	b.t.Helper()
	b.runs++
	return b.finish(b.start(b.machine(fmt.Sprintf("%s-%d", coverName(b.t), b.runs), definition), input))
}

// events returns the types of an execution's history events.
func (b *coverBundle) events(arn string) []string {
	b.t.Helper()
	h, err := b.e.GetExecutionHistory(b.ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	require.NoError(b.t, err)
	types := make([]string, len(h.Events))
	for i, ev := range h.Events {
		types[i] = ev.Type
	}
	return types
}

// coverName makes a state machine name from the test's name.
func coverName(t *testing.T) string {
	name := []byte(t.Name())
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			name[i] = '-'
		}
	}
	if len(name) > 80 {
		name = name[len(name)-80:]
	}
	return string(name)
}

// coverRequireCode requires err to be an *sfn.Error with the code.
func coverRequireCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *sfn.Error
	require.True(t, errors.As(err, &ae), "want an *sfn.Error with code %s, got %v", code, err)
	require.Equal(t, code, ae.Code, ae.Message)
}
