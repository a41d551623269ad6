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
