package apistore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestAddApprovals: a batch stores each approval as AddApproval does,
// and a second delivery, or a task token stored under another id,
// changes nothing.
func TestAddApprovals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	// The package's database outlives a run: ids of its own each run.
	run := rand.Uint64()
	exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:add-approvals:%d", run)
	id := func(n int) string { return fmt.Sprintf("apr_add_%d_%d", run, n) }
	a, b, c := approval(id(1), exec), approval(id(2), exec), approval(id(3), exec)
	b.Approvers = []string{"leads", "ops"}
	a.TaskToken, b.TaskToken, c.TaskToken = id(1)+"-token", id(2)+"-token", id(1)+"-token"
	require.NoError(t, s.AddApprovals(ctx, []apistore.Approval{a, b}))
	require.NoError(t, s.AddApprovals(ctx, []apistore.Approval{b, c}), "a second delivery, a known token: nothing changes")
	require.NoError(t, s.AddApprovals(ctx, nil))

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 2)
	for i, want := range []apistore.Approval{a, b} {
		want.Status = apistore.ApprovalPending
		if want.Approvers == nil {
			want.Approvers = []string{}
		}
		require.Equal(t, want, list[i])
	}
}

// TestAddApprovalsKeepsEveryApprover: approvers travel as the text of an
// array; whatever they hold is read back as it was written.
func TestAddApprovalsKeepsEveryApprover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	run := rand.Uint64()
	exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:approvers-text:%d", run)
	odd := [][]string{
		{`a,b`, `{braces}`, `"quoted"`, `back\slash`, `\"`, ` spaced `},
		{`NULL`, ``, `é ✓`, "tab\there", "new\nline"},
		{},
		nil,
	}
	var batch []apistore.Approval
	for i, approvers := range odd {
		a := approval(fmt.Sprintf("apr_text_%d_%d", run, i), exec)
		a.TaskToken = a.ID + "-token"
		a.Approvers = approvers
		batch = append(batch, a)
	}
	require.NoError(t, s.AddApprovals(ctx, batch))

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, len(odd))
	for i, got := range list {
		want := odd[i]
		if want == nil {
			want = []string{}
		}
		require.Equal(t, want, got.Approvers, "approval %d", i)
	}
}

// TestAddApprovalsTwiceInOneBatch: a batch holding the same message twice
// (a delivery and its redelivery read together) stores it once.
func TestAddApprovalsTwiceInOneBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	run := rand.Uint64()
	exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:approvals-twice:%d", run)
	a := approval(fmt.Sprintf("apr_twice_%d", run), exec)
	a.TaskToken = a.ID + "-token"
	other := approval(fmt.Sprintf("apr_twice_other_%d", run), exec)
	other.TaskToken = other.ID + "-token"
	require.NoError(t, s.AddApprovals(ctx, []apistore.Approval{a, other, a}))

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []string{a.ID, other.ID}, []string{list[0].ID, list[1].ID})
}
