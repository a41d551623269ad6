package enginebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// PeersFunction is the Lambda function each Task state of PeersDefinition
// names; RunPeers registers an echo handler for it in the engine's
// process.
const PeersFunction = "arn:aws:lambda:us-east-1:123456789012:function:Echo"

// PeersDefinition is the peers' workload: three Task states whose
// function echoes its input, run in the engine's own process (no queue,
// no callback). It is the workload docs/performance.md compares with
// in-memory interpreters, which run Task states as local functions.
const PeersDefinition = `{
  "Comment": "three tasks whose function echoes its input",
  "StartAt": "One",
  "States": {
    "One": {"Type": "Task", "Resource": "` + PeersFunction + `", "Next": "Two"},
    "Two": {"Type": "Task", "Resource": "` + PeersFunction + `", "Next": "Three"},
    "Three": {"Type": "Task", "Resource": "` + PeersFunction + `", "End": true}
  }
}`

// PeersParams is one run of the peers' workload.
type PeersParams struct {
	// Store is the engine's store: engine.NewMemoryStore() or a durable
	// one.
	Store engine.Store
	// Executions is how many executions to run to their end; it must be
	// positive.
	Executions int
	// InFlight is how many run at once; 0 means 1,000.
	InFlight int
}

// PeersInput is the input of execution i, the same for every system the
// comparison runs.
func PeersInput(i int) string {
	return fmt.Sprintf(`{"n":%d,"payload":"0123456789abcdef0123456789abcdef"}`, i)
}

// RunPeers runs p.Executions executions of PeersDefinition, p.InFlight at
// a time, each started, waited for and described, and measures them. The
// Result's latencies and worker count are zero (there is no queue); its
// commits are the engine's group commits. It returns the first execution
// that did not succeed with its output equal to its input, or ctx's error
// when it ends first.
func RunPeers(ctx context.Context, p PeersParams) (Result, error) {
	if p.Executions <= 0 {
		return Result{}, errors.New("running the peers' workload: Executions must be positive")
	}
	inFlight := p.InFlight
	if inFlight <= 0 {
		inFlight = 1000
	}
	store := &timedStore{Store: p.Store}
	functions := &engine.FunctionRegistry{}
	functions.Register(PeersFunction, func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
		return payload, nil
	})
	e, err := engine.New(engine.Config{Store: store, Functions: functions})
	if err != nil {
		return Result{}, fmt.Errorf("running the peers' workload: %w", err)
	}
	if err := e.Start(ctx); err != nil {
		return Result{}, fmt.Errorf("running the peers' workload: starting the engine: %w", err)
	}
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: fmt.Sprintf("peers-%d", time.Now().UnixNano()), Definition: PeersDefinition})
	if err != nil {
		return Result{}, fmt.Errorf("running the peers' workload: creating its state machine: %w", err)
	}

	started, elapsed, cpu, err := runExecutions(ctx, p.Executions, inFlight, 0, func(ctx context.Context, i int) error {
		return runPeer(ctx, e, sm.StateMachineARN, i)
	})
	if err != nil {
		return Result{}, fmt.Errorf("running the peers' workload: %w", err)
	}
	return Result{Executions: started, InFlight: inFlight, Elapsed: elapsed,
		ExecutionsPerSec:  float64(started) / elapsed.Seconds(),
		TransitionsPerSec: float64(started*TransitionsPerExecution) / elapsed.Seconds(),
		StoreCommits:      store.calls.Load(),
		CommitsWritten:    store.commits.Load(),
		CommitTime:        time.Duration(store.nanos.Load()),
		CPU:               cpu}, nil
}

// runPeer starts execution i, waits for its end and checks that it
// succeeded with its input as its output.
func runPeer(ctx context.Context, e *engine.Engine, smARN string, i int) error {
	input := PeersInput(i)
	out, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: smARN, Name: fmt.Sprintf("p%d", i), Input: input})
	if err != nil {
		return err
	}
	if err := e.Wait(ctx, out.ExecutionARN); err != nil {
		return err
	}
	d, err := e.DescribeExecution(ctx, out.ExecutionARN)
	if err != nil {
		return err
	}
	if d.Status != sfn.StatusSucceeded {
		return fmt.Errorf("execution %s ended %s: %s: %s", d.ExecutionARN, d.Status, d.Error, d.Cause)
	}
	if d.Output != input {
		return fmt.Errorf("execution %s returned %s, not its input %s", d.ExecutionARN, d.Output, input)
	}
	return nil
}
