package enginetest

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The conformance checks of versions, aliases, tags and the state machine
// answers that go with them, from the Step Functions API reference and
// the developer guide (state machine versions and aliases).
func init() { checks = append(checks, versionChecks...) }

// passResult is a state machine that succeeds with result.
func passResult(result string) string {
	return `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":` + strconv.Quote(result) + `,"End":true}}}`
}

var versionChecks = []check{
	{"VersionsPinExecutions", func(t *testing.T, h Harness) {
		// Versions are immutable snapshots: an execution started on a
		// version runs its definition after the state machine changes;
		// numbers start at 1, grow, and are never reused.
		b := setup(t, h)
		out, err := h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: uniqueName("pinned"), Definition: passResult("v1"),
			RoleARN: roleARN, Publish: true, VersionDescription: "first"})
		require.NoError(t, err)
		sm := out.StateMachineARN
		require.Equal(t, sm+":1", out.StateMachineVersionARN)
		d, err := h.Service.DescribeStateMachine(b.ctx, sm+":1")
		require.NoError(t, err)
		require.Equal(t, sm+":1", d.StateMachineARN)
		require.Equal(t, "first", d.Description)

		upd, err := h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(passResult("v2")), Publish: true})
		require.NoError(t, err)
		require.Equal(t, sm+":2", upd.StateMachineVersionARN)
		again, err := h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm})
		require.NoError(t, err)
		require.Equal(t, sm+":2", again.StateMachineVersionARN, "publishing the same revision again is idempotent")
		_, err = h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm, RevisionID: "not-the-revision"})
		requireAPIError(t, err, sfn.CodeConflict)

		_, err = h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(passResult("v3"))})
		require.NoError(t, err)
		onV1 := b.start(sm+":1", "on-v1", `{}`)
		latest := b.start(sm, "latest", `{}`)
		x := b.waitClosed(onV1)
		require.JSONEq(t, `"v1"`, x.Output)
		require.Equal(t, sm, x.StateMachineARN)
		require.Equal(t, sm+":1", x.StateMachineVersionARN)
		require.Empty(t, x.StateMachineAliasARN)
		y := b.waitClosed(latest)
		require.JSONEq(t, `"v3"`, y.Output)
		require.Empty(t, y.StateMachineVersionARN, "an execution started on the unqualified ARN has no version")
		m, err := h.Service.DescribeStateMachineForExecution(b.ctx, onV1)
		require.NoError(t, err)
		require.Equal(t, passResult("v1"), m.Definition)

		list, err := h.Service.ListExecutions(b.ctx, sfn.ListExecutionsInput{StateMachineARN: sm + ":1"})
		require.NoError(t, err)
		require.Len(t, list.Executions, 1)
		require.Equal(t, onV1, list.Executions[0].ExecutionARN)
		require.Equal(t, sm+":1", list.Executions[0].StateMachineVersionARN)
		started := b.history(onV1, false, 0)[0]
		require.Equal(t, "ExecutionStarted", started.Type)
		require.Equal(t, sm+":1", started.ExecutionStarted.StateMachineVersionARN, "ExecutionStarted names the version")

		vs, err := h.Service.ListStateMachineVersions(b.ctx, sfn.ListVersionsInput{StateMachineARN: sm, MaxResults: 1})
		require.NoError(t, err)
		require.Len(t, vs.StateMachineVersions, 1)
		require.Equal(t, sm+":2", vs.StateMachineVersions[0].StateMachineVersionARN, "newest first")
		rest, err := h.Service.ListStateMachineVersions(b.ctx, sfn.ListVersionsInput{StateMachineARN: sm, NextToken: vs.NextToken})
		require.NoError(t, err)
		require.Len(t, rest.StateMachineVersions, 1)
		require.Equal(t, sm+":1", rest.StateMachineVersions[0].StateMachineVersionARN)

		require.NoError(t, h.Service.DeleteStateMachineVersion(b.ctx, sm+":2"))
		v3, err := h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm})
		require.NoError(t, err)
		require.Equal(t, sm+":3", v3.StateMachineVersionARN, "a deleted version's number is not used again")
		_, err = h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm + ":2"})
		requireAPIError(t, err, sfn.CodeStateMachineDoesNotExist)
	}},
	{"AliasesRouteByWeight", func(t *testing.T, h Harness) {
		// An alias routes to one or two versions of one state machine
		// with weights adding up to 100; a version an alias routes to
		// cannot be deleted.
		b := setup(t, h)
		sm, _ := b.createStateMachine("aliased", passResult("v1"), "")
		// revisionId INITIAL names the revision of a state machine never
		// updated (PublishStateMachineVersion API reference).
		v1, err := h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm, Description: "one", RevisionID: sfn.RevisionInitial})
		require.NoError(t, err)
		upd, err := h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(passResult("v2"))})
		require.NoError(t, err)
		_, err = h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm, RevisionID: sfn.RevisionInitial})
		requireAPIError(t, err, sfn.CodeConflict)
		v2, err := h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm, RevisionID: upd.RevisionID})
		require.NoError(t, err)

		for _, bad := range [][]sfn.RoutingConfig{
			{{StateMachineVersionARN: v1.StateMachineVersionARN, Weight: 50}},
			{{StateMachineVersionARN: v1.StateMachineVersionARN, Weight: 50}, {StateMachineVersionARN: v1.StateMachineVersionARN, Weight: 50}},
			{},
		} {
			_, err = h.Service.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "bad", RoutingConfiguration: bad})
			requireAPIError(t, err, sfn.CodeValidation)
		}
		_, err = h.Service.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "gone",
			RoutingConfiguration: []sfn.RoutingConfig{{StateMachineVersionARN: sm + ":9", Weight: 100}}})
		requireAPIError(t, err, sfn.CodeResourceNotFound)
		_, err = h.Service.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "42",
			RoutingConfiguration: []sfn.RoutingConfig{{StateMachineVersionARN: v1.StateMachineVersionARN, Weight: 100}}})
		requireAPIError(t, err, sfn.CodeInvalidName)

		prod := []sfn.RoutingConfig{{StateMachineVersionARN: v1.StateMachineVersionARN, Weight: 100}}
		a, err := h.Service.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "PROD", Description: "live", RoutingConfiguration: prod})
		require.NoError(t, err)
		require.Equal(t, sm+":PROD", a.StateMachineAliasARN)
		same, err := h.Service.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "PROD", Description: "live", RoutingConfiguration: prod})
		require.NoError(t, err, "creating the same alias again is idempotent")
		require.Equal(t, a.StateMachineAliasARN, same.StateMachineAliasARN)
		_, err = h.Service.CreateStateMachineAlias(b.ctx, sfn.CreateAliasInput{Name: "PROD", Description: "other", RoutingConfiguration: prod})
		requireAPIError(t, err, sfn.CodeConflict)

		err = h.Service.DeleteStateMachineVersion(b.ctx, v1.StateMachineVersionARN)
		requireAPIError(t, err, sfn.CodeConflict)

		x := b.waitClosed(b.start(a.StateMachineAliasARN, "via-alias", `{}`))
		require.JSONEq(t, `"v1"`, x.Output)
		require.Equal(t, v1.StateMachineVersionARN, x.StateMachineVersionARN)
		require.Equal(t, a.StateMachineAliasARN, x.StateMachineAliasARN)

		split := []sfn.RoutingConfig{{StateMachineVersionARN: v1.StateMachineVersionARN, Weight: 0}, {StateMachineVersionARN: v2.StateMachineVersionARN, Weight: 100}}
		_, err = h.Service.UpdateStateMachineAlias(b.ctx, sfn.UpdateAliasInput{StateMachineAliasARN: a.StateMachineAliasARN, RoutingConfiguration: split})
		require.NoError(t, err)
		got, err := h.Service.DescribeStateMachineAlias(b.ctx, a.StateMachineAliasARN)
		require.NoError(t, err)
		require.Equal(t, split, got.RoutingConfiguration)
		require.Equal(t, "live", got.Description)
		y := b.waitClosed(b.start(a.StateMachineAliasARN, "after-update", `{}`))
		require.JSONEq(t, `"v2"`, y.Output, "a weight of 0 routes nothing")

		byAlias, err := h.Service.ListExecutions(b.ctx, sfn.ListExecutionsInput{StateMachineARN: a.StateMachineAliasARN})
		require.NoError(t, err)
		require.Len(t, byAlias.Executions, 2)
		aliases, err := h.Service.ListStateMachineAliases(b.ctx, sfn.ListAliasesInput{StateMachineARN: v2.StateMachineVersionARN})
		require.NoError(t, err)
		require.Len(t, aliases.StateMachineAliases, 1)

		require.NoError(t, h.Service.DeleteStateMachineAlias(b.ctx, a.StateMachineAliasARN))
		_, err = h.Service.DescribeStateMachineAlias(b.ctx, a.StateMachineAliasARN)
		requireAPIError(t, err, sfn.CodeResourceNotFound)
		require.NoError(t, h.Service.DeleteStateMachineVersion(b.ctx, v1.StateMachineVersionARN), "no alias routes to it any more")
	}},
	{"TagsOnStateMachines", func(t *testing.T, h Harness) {
		// TagResource, UntagResource, ListTagsForResource and tags on
		// CreateStateMachine; at most 50 tags (TooManyTags).
		b := setup(t, h)
		name := uniqueName("tagged")
		out, err := h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: name, Definition: passResult("t"), RoleARN: roleARN,
			Tags: []sfn.Tag{{Key: "team", Value: "core"}}})
		require.NoError(t, err)
		sm := out.StateMachineARN
		require.NoError(t, h.Service.TagResource(b.ctx, sm, []sfn.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "ai"}}))
		tags, err := h.Service.ListTagsForResource(b.ctx, sm)
		require.NoError(t, err)
		require.ElementsMatch(t, []sfn.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "ai"}}, tags)
		require.NoError(t, h.Service.UntagResource(b.ctx, sm, []string{"env", "absent"}))
		tags, err = h.Service.ListTagsForResource(b.ctx, sm)
		require.NoError(t, err)
		require.Equal(t, []sfn.Tag{{Key: "team", Value: "ai"}}, tags)
		many := make([]sfn.Tag, 50)
		for i := range many {
			many[i] = sfn.Tag{Key: "k" + strconv.Itoa(i), Value: "v"}
		}
		requireAPIError(t, h.Service.TagResource(b.ctx, sm, many), sfn.CodeTooManyTags)
		requireAPIError(t, h.Service.TagResource(b.ctx, sm+"-none", many[:1]), sfn.CodeResourceNotFound)
		requireAPIError(t, h.Service.TagResource(b.ctx, sm, []sfn.Tag{{Key: "bad*key", Value: "v"}}), sfn.CodeValidation)
	}},
	{"DeletedStateMachineIsDeletingWhileExecutionsRun", func(t *testing.T, h Harness) {
		// DeleteStateMachine: the state machine is DELETING until its
		// executions end, and cannot be started meanwhile; its versions
		// and aliases go with it; a qualified ARN is refused.
		b := setup(t, h)
		sm, _ := b.createStateMachine("deleting", waitLong, "")
		v, err := h.Service.PublishStateMachineVersion(b.ctx, sfn.PublishVersionInput{StateMachineARN: sm})
		require.NoError(t, err)
		requireAPIError(t, h.Service.DeleteStateMachine(b.ctx, v.StateMachineVersionARN), sfn.CodeValidation)
		running := b.start(sm, "running", `{}`)
		require.NoError(t, h.Service.DeleteStateMachine(b.ctx, sm))
		d, err := h.Service.DescribeStateMachine(b.ctx, sm)
		require.NoError(t, err)
		require.Equal(t, sfn.StateMachineDeleting, d.Status)
		_, err = h.Service.StartExecution(b.ctx, sfn.StartExecutionInput{StateMachineARN: sm})
		requireAPIError(t, err, sfn.CodeStateMachineDeleting)
		_, err = h.Service.DescribeStateMachine(b.ctx, v.StateMachineVersionARN)
		requireAPIError(t, err, sfn.CodeStateMachineDoesNotExist)
		_, err = h.Service.StopExecution(b.ctx, sfn.StopExecutionInput{ExecutionARN: running})
		require.NoError(t, err)
		b.waitClosed(running)
		b.waitFor("the state machine to go", func() bool {
			_, err := h.Service.DescribeStateMachine(b.ctx, sm)
			var ae *sfn.Error
			return err != nil && errors.As(err, &ae) && ae.Code == sfn.CodeStateMachineDoesNotExist
		})
	}},
	{"ExpressRefusesCallbacks", func(t *testing.T, h Harness) {
		// Express workflows support Request Response only: not Wait for
		// Callback (.waitForTaskToken) nor Run a Job (.sync).
		b := setup(t, h)
		_, err := h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: uniqueName("express-callback"),
			Definition: callback(60), RoleARN: roleARN, Type: sfn.TypeExpress})
		requireAPIError(t, err, sfn.CodeInvalidDefinition)
		var ae *sfn.Error
		require.True(t, errors.As(err, &ae))
		require.Contains(t, ae.Message, "Express state machine does not support '.waitForTaskToken'")
		sm, _ := b.createStateMachine("express", passResult("e"), sfn.TypeExpress)
		_, err = h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, Definition: new(callback(60))})
		requireAPIError(t, err, sfn.CodeInvalidDefinition)
	}},
	{"RoleARNsAreIAMRoles", func(t *testing.T, h Harness) {
		// roleArn must be an IAM role's ARN (InvalidArn otherwise).
		b := setup(t, h)
		for _, role := range []string{"role", "arn:aws:iam::123456789012:user/someone", "arn:aws:iam::12345:role/short-account"} {
			_, err := h.Service.CreateStateMachine(b.ctx, sfn.CreateStateMachineInput{Name: uniqueName("role"), Definition: passResult("r"), RoleARN: role})
			requireAPIError(t, err, sfn.CodeInvalidArn)
		}
		sm, _ := b.createStateMachine("role", passResult("r"), "")
		_, err := h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, RoleARN: new("not-a-role")})
		requireAPIError(t, err, sfn.CodeInvalidArn)
		_, err = h.Service.UpdateStateMachine(b.ctx, sfn.UpdateStateMachineInput{StateMachineARN: sm, RoleARN: new("arn:aws:iam::123456789012:role/service-role/other")})
		require.NoError(t, err)
	}},
}
