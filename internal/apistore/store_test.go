package apistore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func version(name, checksum string) apistore.Version {
	return apistore.Version{Workflow: name, Definition: "name: " + name, ASL: `{"StartAt": "A"}`, Graph: "flowchart TD",
		InputSchema: `{"type": "object"}`, Checksum: checksum, CreatedBy: "ada", CreatedAt: t0}
}

func TestPublishNumbersVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	arn := "arn:aws:states:us-east-1:123456789012:stateMachine:publish-numbers"

	_, err := s.StateMachineARN(ctx, "publish-numbers")
	require.ErrorIs(t, err, apistore.ErrNotFound)
	_, err = s.Workflow(ctx, "publish-numbers")
	require.ErrorIs(t, err, apistore.ErrNotFound)

	res, err := s.Publish(ctx, version("publish-numbers", "sha256:1"), arn)
	require.NoError(t, err)
	require.True(t, res.Created)
	require.Equal(t, 1, res.Version.Version)
	require.Equal(t, apistore.Workflow{Name: "publish-numbers", StateMachineARN: arn, LatestVersion: 1, CreatedAt: t0, UpdatedAt: t0}, res.Workflow)

	again, err := s.Publish(ctx, version("publish-numbers", "sha256:1"), arn)
	require.NoError(t, err)
	require.False(t, again.Created, "the same checksum adds no version")
	require.Equal(t, res.Version, again.Version)

	v2 := version("publish-numbers", "sha256:2")
	v2.InputSchema = ""
	v2.CreatedAt = t0.Add(time.Hour)
	res, err = s.Publish(ctx, v2, arn)
	require.NoError(t, err)
	require.True(t, res.Created)
	require.Equal(t, 2, res.Version.Version)
	require.Equal(t, 2, res.Workflow.LatestVersion)
	require.Equal(t, t0.Add(time.Hour), res.Workflow.UpdatedAt)

	got, err := s.StateMachineARN(ctx, "publish-numbers")
	require.NoError(t, err)
	require.Equal(t, arn, got)
	wf, err := s.Workflow(ctx, "publish-numbers")
	require.NoError(t, err)
	require.Equal(t, res.Workflow, wf)
	wf, err = s.WorkflowByARN(ctx, arn)
	require.NoError(t, err)
	require.Equal(t, "publish-numbers", wf.Name)
	_, err = s.WorkflowByARN(ctx, arn+"-none")
	require.ErrorIs(t, err, apistore.ErrNotFound)

	v, err := s.Version(ctx, "publish-numbers", 1)
	require.NoError(t, err)
	require.Equal(t, `{"type": "object"}`, v.InputSchema)
	v, err = s.Version(ctx, "publish-numbers", 2)
	require.NoError(t, err)
	require.Empty(t, v.InputSchema, "no schema is stored as none")
	require.Equal(t, res.Version, v)
	_, err = s.Version(ctx, "publish-numbers", 3)
	require.ErrorIs(t, err, apistore.ErrNotFound)
}

func TestPublishConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Publish(ctx, version("publish-concurrently", fmt.Sprintf("sha256:%d", i)), "arn:x")
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	wf, err := s.Workflow(ctx, "publish-concurrently")
	require.NoError(t, err)
	require.Equal(t, n, wf.LatestVersion, "versions are numbered without gaps or duplicates")
}

func TestWorkflowsPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.Pool(t)) // its own database: it lists every workflow
	for _, name := range []string{"c", "a", "b"} {
		_, err := s.Publish(ctx, version(name, "sha256:"+name), "arn:"+name)
		require.NoError(t, err)
	}
	page, err := s.Workflows(ctx, "", 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.Equal(t, []string{"a", "b"}, []string{page[0].Name, page[1].Name})
	page, err = s.Workflows(ctx, "b", 2)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "c", page[0].Name)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Workflows(cancelled, "", 2)
	require.ErrorIs(t, err, context.Canceled)
}

func TestClaimKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	// The package's database outlives a run (go test -count): a principal
	// of its own each run.
	principal := fmt.Sprintf("claim-key-%d", rand.Uint64())
	k := apistore.IdempotencyKey{Principal: principal, Key: "order-1", RequestHash: "h1", ExecutionARN: "arn:e1", CreatedAt: t0}
	got, created, err := s.ClaimKey(ctx, k)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, k, got)

	other := k
	other.RequestHash, other.ExecutionARN, other.CreatedAt = "h2", "arn:e2", t0.Add(time.Minute)
	got, created, err = s.ClaimKey(ctx, other)
	require.NoError(t, err)
	require.False(t, created, "a key is claimed once")
	require.Equal(t, "h1", got.RequestHash, "the stored claim comes back")
	require.Equal(t, "arn:e1", got.ExecutionARN)
	require.True(t, t0.Equal(got.CreatedAt))

	other.Principal = principal + "-2"
	_, created, err = s.ClaimKey(ctx, other)
	require.NoError(t, err)
	require.True(t, created, "keys are the principal's")
}

// approval is a pending approval of execution whose task token is made of
// key, its id the token's (apistore.ApprovalID).
func approval(key, execution string) apistore.Approval {
	token := "token-" + key
	return apistore.Approval{ID: apistore.ApprovalID(token), ExecutionARN: execution, StepID: "approve", TaskToken: token,
		Message: "Refund?", CreatedAt: t0}
}

var approvalRuns atomic.Int64

func TestApprovals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	// The package's database outlives a run (go test -count): ids of its
	// own each run.
	run := fmt.Sprintf("%d-%d", time.Now().UnixNano(), approvalRuns.Add(1))
	exec := "arn:aws:states:us-east-1:123456789012:execution:approvals:" + run
	id := func(n int) string { return fmt.Sprintf("approvals_%s_%d", run, n) }
	a := approval(id(1), exec)
	require.NoError(t, s.AddApproval(ctx, a))
	require.NoError(t, s.AddApproval(ctx, a), "a second delivery changes nothing")
	b := approval(id(2), exec)
	b.Approvers = []string{"leads"}
	require.NoError(t, s.AddApproval(ctx, b))
	c := approval(id(3), exec)
	c.TaskToken = a.TaskToken
	require.ErrorContains(t, s.AddApproval(ctx, c), "its id must be its task token's",
		"a task token is one approval: another id for it is refused")
	_, err := s.Approval(ctx, c.ID)
	require.ErrorIs(t, err, apistore.ErrNotFound)

	got, err := s.Approval(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, apistore.ApprovalPending, got.Status)
	require.Equal(t, []string{}, got.Approvers)
	require.Nil(t, got.DecidedAt)
	_, err = s.Approval(ctx, "apr_none")
	require.ErrorIs(t, err, apistore.ErrNotFound)

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	first, second := a, b // listed in the order of their ids, the tokens' hashes
	if b.ID < a.ID {
		first, second = b, a
	}
	require.Equal(t, []string{first.ID, second.ID}, []string{list[0].ID, list[1].ID})
	require.Equal(t, []string{"leads"}, list[slices.IndexFunc(list, func(x apistore.Approval) bool { return x.ID == b.ID })].Approvers)
	list, err = s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, After: first.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, second.ID, list[0].ID)

	// A decision is recorded first, fixed: deciding.
	d := apistore.Decision{ID: a.ID, Status: apistore.ApprovalApproved, DecidedBy: "bo", Comment: "fine", At: t0.Add(time.Minute)}
	deciding, began, err := s.BeginDecision(ctx, d)
	require.NoError(t, err)
	require.True(t, began)
	require.Equal(t, apistore.ApprovalDeciding, deciding.Status)
	require.Equal(t, apistore.ApprovalApproved, deciding.Decision)
	require.Equal(t, a.TaskToken, deciding.TaskToken)
	require.Equal(t, "bo", deciding.DecidedBy)
	require.Equal(t, "fine", deciding.Comment)
	require.Equal(t, t0.Add(time.Minute), *deciding.DecidedAt)
	list, err = s.Approvals(ctx, apistore.ApprovalFilter{Status: apistore.ApprovalDeciding, ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	left, err := s.Deciding(ctx, t0.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Contains(t, left, deciding, "a sweeper finds it")

	// The same decision again begins nothing new; another is a conflict.
	same, began, err := s.BeginDecision(ctx, d)
	require.NoError(t, err)
	require.False(t, began)
	require.Equal(t, deciding, same)
	for _, other := range []apistore.Decision{
		{ID: a.ID, Status: apistore.ApprovalRejected, DecidedBy: "bo", Comment: "fine", At: t0},
		{ID: a.ID, Status: apistore.ApprovalApproved, DecidedBy: "cy", Comment: "fine", At: t0},
		{ID: a.ID, Status: apistore.ApprovalApproved, DecidedBy: "bo", Comment: "other", At: t0},
	} {
		got, _, err := s.BeginDecision(ctx, other)
		require.ErrorIs(t, err, apistore.ErrConflict, "a decision being made is fixed")
		require.Equal(t, deciding, got, "the decision recorded is returned")
	}

	decided, err := s.FinishDecision(ctx, a.ID, false)
	require.NoError(t, err)
	require.Equal(t, apistore.ApprovalApproved, decided.Status)
	require.Equal(t, "bo", decided.DecidedBy)
	require.Equal(t, "fine", decided.Comment)
	again, err := s.FinishDecision(ctx, a.ID, true)
	require.NoError(t, err)
	require.Equal(t, decided, again, "a decided approval stays decided")
	same, began, err = s.BeginDecision(ctx, d)
	require.NoError(t, err, "the same decision again returns it")
	require.False(t, began)
	require.Equal(t, decided, same)
	again, _, err = s.BeginDecision(ctx, apistore.Decision{ID: a.ID, Status: apistore.ApprovalRejected, DecidedBy: "cy", At: t0})
	require.ErrorIs(t, err, apistore.ErrConflict, "an approval is decided once")
	require.Equal(t, "bo", again.DecidedBy, "the decision made is returned")

	_, began, err = s.BeginDecision(ctx, apistore.Decision{ID: b.ID, Status: apistore.ApprovalApproved, DecidedBy: "cy", At: t0})
	require.NoError(t, err)
	require.True(t, began)
	expired, err := s.FinishDecision(ctx, b.ID, true)
	require.NoError(t, err)
	require.Equal(t, apistore.ApprovalExpired, expired.Status)
	require.Empty(t, expired.DecidedBy, "nobody decided an expired approval")
	_, _, err = s.BeginDecision(ctx, apistore.Decision{ID: b.ID, Status: apistore.ApprovalApproved, DecidedBy: "cy", At: t0})
	require.ErrorIs(t, err, apistore.ErrConflict, "an expired approval takes no decision")

	_, _, err = s.BeginDecision(ctx, apistore.Decision{ID: "apr_none", Status: apistore.ApprovalApproved, At: t0})
	require.ErrorIs(t, err, apistore.ErrNotFound)
	_, err = s.FinishDecision(ctx, "apr_none", false)
	require.ErrorIs(t, err, apistore.ErrNotFound)

	list, err = s.Approvals(ctx, apistore.ApprovalFilter{Status: apistore.ApprovalExpired, ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, b.ID, list[0].ID)
	list, err = s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, list, "no approval of the execution is pending")
}
