package control_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/control"
	"github.com/aiflow/aiflow/internal/sfn"
)

// pinningRuns numbers the runs of the pinning tests, whose workflow
// names must be new in the package's database.
var pinningRuns atomic.Int64

func runName(base string) string { return base + "-" + strconv.FormatInt(pinningRuns.Add(1), 10) }

// TestStartPinsTheVersion: publishing a workflow version publishes a Step
// Functions version of its state machine and records its ARN; executions
// start on that ARN, so an execution in flight keeps its definition when
// the next workflow version is published, on AWS as in the engine.
func TestStartPinsTheVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	name := runName("pinned")
	first := b.publish(t, holdWorkflow(name))
	require.Equal(t, first.Workflow.StateMachineARN+":1", first.Version.StateMachineVersionARN)
	v1, err := b.svc.Start(ctx, control.StartParams{Workflow: name, Input: json.RawMessage(`{"message":"one"}`)})
	require.NoError(t, err)

	second := b.publish(t, holdWorkflow(name)+"description: the second\n")
	require.True(t, second.Created)
	require.Equal(t, 2, second.Version.Version)
	require.Equal(t, first.Workflow.StateMachineARN+":2", second.Version.StateMachineVersionARN)
	again := b.publish(t, holdWorkflow(name)+"description: the second\n")
	require.False(t, again.Created)
	require.Equal(t, second.Version.StateMachineVersionARN, again.Version.StateMachineVersionARN, "publishing the same definition again publishes no other version")
	v2, err := b.svc.Start(ctx, control.StartParams{Workflow: name, Input: json.RawMessage(`{"message":"two"}`)})
	require.NoError(t, err)

	x1, err := b.eng.DescribeExecution(ctx, v1.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, first.Version.StateMachineVersionARN, x1.StateMachineVersionARN)
	require.Equal(t, first.Workflow.StateMachineARN, x1.StateMachineARN)
	x2, err := b.eng.DescribeExecution(ctx, v2.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, second.Version.StateMachineVersionARN, x2.StateMachineVersionARN)
	m1, err := b.eng.DescribeStateMachineForExecution(ctx, v1.ExecutionARN)
	require.NoError(t, err)
	sm1, err := b.eng.DescribeStateMachine(ctx, first.Version.StateMachineVersionARN)
	require.NoError(t, err)
	require.Equal(t, sm1.Definition, m1.Definition, "the first execution runs the first version")

	stored, err := b.store.Version(ctx, name, 1)
	require.NoError(t, err)
	require.Equal(t, first.Version.StateMachineVersionARN, stored.StateMachineVersionARN)
}

// unversioned publishes without Step Functions versions, as the API did
// before it recorded them.
type unversioned struct{ control.Engine }

func (u unversioned) CreateStateMachine(ctx context.Context, in sfn.CreateStateMachineInput) (sfn.CreateStateMachineOutput, error) {
	in.Publish = false
	return u.Engine.CreateStateMachine(ctx, in)
}

func (u unversioned) UpdateStateMachine(ctx context.Context, in sfn.UpdateStateMachineInput) (sfn.UpdateStateMachineOutput, error) {
	in.Publish = false
	return u.Engine.UpdateStateMachine(ctx, in)
}

// TestStartWithoutAVersionARN: a workflow version published before
// versions were recorded starts on the state machine's unqualified ARN;
// publishing its definition again records a version for it.
func TestStartWithoutAVersionARN(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	name := runName("legacy")
	old := control.New(control.Options{Store: b.store, Engine: unversioned{b.eng}, QueueURLs: b.urls})
	pub, err := old.Publish(ctx, control.PublishParams{Definition: []byte(holdWorkflow(name)), Principal: "ada"})
	require.NoError(t, err)
	require.Empty(t, pub.Version.StateMachineVersionARN)

	started, err := b.svc.Start(ctx, control.StartParams{Workflow: name, Input: json.RawMessage(`{"message":"old"}`)})
	require.NoError(t, err)
	x, err := b.eng.DescribeExecution(ctx, started.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, pub.Workflow.StateMachineARN, x.StateMachineARN)
	require.Empty(t, x.StateMachineVersionARN, "started on the unqualified ARN")

	again := b.publish(t, holdWorkflow(name))
	require.False(t, again.Created)
	require.Equal(t, 1, again.Version.Version)
	require.Equal(t, pub.Workflow.StateMachineARN+":1", again.Version.StateMachineVersionARN)
	pinned, err := b.svc.Start(ctx, control.StartParams{Workflow: name, Input: json.RawMessage(`{"message":"new"}`)})
	require.NoError(t, err)
	y, err := b.eng.DescribeExecution(ctx, pinned.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, again.Version.StateMachineVersionARN, y.StateMachineVersionARN)
}
