package engine_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

const waitHour = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`

// newEngineOn starts an engine on store, to be closed by the caller (a
// second engine on the same store stands for a restart).
func newEngineOn(t *testing.T, store engine.Store) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	return e
}

// TestVersionsSurviveRestart: versions, aliases, tags, the version count
// and the version an execution runs are the store's, not the engine's
// memory.
func TestVersionsSurviveRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := engine.NewMemoryStore()
	first := newEngineOn(t, store)
	out, err := first.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "kept", Definition: waitHour, Publish: true,
		Tags: []sfn.Tag{{Key: "team", Value: "core"}}})
	require.NoError(t, err)
	sm := out.StateMachineARN
	_, err = first.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(passMachine), Publish: true})
	require.NoError(t, err)
	require.NoError(t, first.DeleteStateMachineVersion(ctx, sm+":2"))
	alias, err := first.CreateStateMachineAlias(ctx, sfn.CreateAliasInput{Name: "live",
		RoutingConfiguration: []sfn.RoutingConfig{{StateMachineVersionARN: sm + ":1", Weight: 100}}})
	require.NoError(t, err)
	running, err := first.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: alias.StateMachineAliasARN, Name: "running"})
	require.NoError(t, err)
	require.NoError(t, first.Close())

	second := newEngineOn(t, store)
	t.Cleanup(func() { _ = second.Close() })
	a, err := second.DescribeStateMachineAlias(ctx, alias.StateMachineAliasARN)
	require.NoError(t, err)
	require.Equal(t, []sfn.RoutingConfig{{StateMachineVersionARN: sm + ":1", Weight: 100}}, a.RoutingConfiguration)
	tags, err := second.ListTagsForResource(ctx, sm)
	require.NoError(t, err)
	require.Equal(t, []sfn.Tag{{Key: "team", Value: "core"}}, tags)
	x, err := second.DescribeExecution(ctx, running.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusRunning, x.Status)
	require.Equal(t, sm+":1", x.StateMachineVersionARN)
	require.Equal(t, alias.StateMachineAliasARN, x.StateMachineAliasARN)
	_, err = second.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(`{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`)})
	require.NoError(t, err)
	v, err := second.PublishStateMachineVersion(ctx, sfn.PublishVersionInput{StateMachineARN: sm})
	require.NoError(t, err)
	require.Equal(t, sm+":3", v.StateMachineVersionARN, "version 2 was deleted before the restart; its number stays used")
}

// TestDeletingSurvivesRestart: a state machine deleted while an execution
// runs is DELETING after a restart too, and goes when the execution ends.
func TestDeletingSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := engine.NewMemoryStore()
	first := newEngineOn(t, store)
	out, err := first.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "deleted", Definition: waitHour})
	require.NoError(t, err)
	x, err := first.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: out.StateMachineARN, Name: "waits"})
	require.NoError(t, err)
	require.NoError(t, first.DeleteStateMachine(ctx, out.StateMachineARN))
	require.NoError(t, first.Close())

	second := newEngineOn(t, store)
	t.Cleanup(func() { _ = second.Close() })
	d, err := second.DescribeStateMachine(ctx, out.StateMachineARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StateMachineDeleting, d.Status)
	_, err = second.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: out.StateMachineARN, Definition: new(passMachine)})
	requireCode(t, err, sfn.CodeStateMachineDeleting)
	_, err = second.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: x.ExecutionARN})
	require.NoError(t, err)
	// The state machine goes before the execution's end is announced.
	require.NoError(t, second.Wait(ctx, x.ExecutionARN))
	_, err = second.DescribeStateMachine(ctx, out.StateMachineARN)
	requireCode(t, err, sfn.CodeStateMachineDoesNotExist)
}

// TestVersionAndAliasQuotas: a state machine has at most 1000 versions
// and 100 aliases; one more is ServiceQuotaExceededException, and
// deleting a version makes room again.
func TestVersionAndAliasQuotas(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEngineOn(t, engine.NewMemoryStore())
	t.Cleanup(func() { _ = e.Close() })
	out, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "many", Definition: passResultDef(0), Publish: true})
	require.NoError(t, err)
	sm := out.StateMachineARN
	for i := 1; i < sfn.MaxVersions; i++ {
		_, err := e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(passResultDef(i)), Publish: true})
		require.NoError(t, err, "version %d", i+1)
	}
	_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(passResultDef(sfn.MaxVersions)), Publish: true})
	requireCode(t, err, sfn.CodeServiceQuotaExceeded)
	_, err = e.PublishStateMachineVersion(ctx, sfn.PublishVersionInput{StateMachineARN: sm})
	requireCode(t, err, sfn.CodeServiceQuotaExceeded)
	require.NoError(t, e.DeleteStateMachineVersion(ctx, sm+":1"))
	v, err := e.PublishStateMachineVersion(ctx, sfn.PublishVersionInput{StateMachineARN: sm})
	require.NoError(t, err)
	require.Equal(t, sm+":1001", v.StateMachineVersionARN)

	routing := []sfn.RoutingConfig{{StateMachineVersionARN: v.StateMachineVersionARN, Weight: 100}}
	for i := range sfn.MaxAliases {
		_, err := e.CreateStateMachineAlias(ctx, sfn.CreateAliasInput{Name: "a" + strconv.Itoa(i), RoutingConfiguration: routing})
		require.NoError(t, err)
	}
	_, err = e.CreateStateMachineAlias(ctx, sfn.CreateAliasInput{Name: "one-more", RoutingConfiguration: routing})
	requireCode(t, err, sfn.CodeServiceQuotaExceeded)
	page, err := e.ListStateMachineAliases(ctx, sfn.ListAliasesInput{StateMachineARN: sm, MaxResults: 60})
	require.NoError(t, err)
	require.Len(t, page.StateMachineAliases, 60)
	rest, err := e.ListStateMachineAliases(ctx, sfn.ListAliasesInput{StateMachineARN: sm, NextToken: page.NextToken})
	require.NoError(t, err)
	require.Len(t, rest.StateMachineAliases, 40)
	require.Empty(t, rest.NextToken)
}

func passResultDef(i int) string {
	return `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":` + strconv.Itoa(i) + `,"End":true}}}`
}
