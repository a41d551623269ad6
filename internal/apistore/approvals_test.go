package apistore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestAddApprovals: a batch stores each approval as AddApproval does, a
// second delivery changes nothing, and a batch holding a task token under
// another id than its own is refused whole.
func TestAddApprovals(t *testing.T) {
	t.Parallel()
	ctx, s, run, exec := approvalsRun(t, "add-approvals")
	key := func(n int) string { return fmt.Sprintf("add_%d_%d", run, n) }
	a, b, c := approval(key(1), exec), approval(key(2), exec), approval(key(3), exec)
	b.Approvers = []string{"leads", "ops"}
	require.NoError(t, s.AddApprovals(ctx, []apistore.Approval{a, b}))
	require.NoError(t, s.AddApprovals(ctx, []apistore.Approval{b}), "a second delivery: nothing changes")
	c.TaskToken = a.TaskToken
	err := s.AddApprovals(ctx, []apistore.Approval{approval(key(4), exec), c})
	require.ErrorContains(t, err, "recording approval "+c.ID+" of "+exec+": its id must be its task token's, "+a.ID)
	require.NoError(t, s.AddApprovals(ctx, nil))

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 2, "nothing of the refused batch is stored")
	want := []apistore.Approval{a, b}
	slices.SortFunc(want, func(x, y apistore.Approval) int { return strings.Compare(x.ID, y.ID) })
	for i, want := range want {
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
	ctx, s, run, exec := approvalsRun(t, "approvers-text")
	odd := [][]string{
		{`a,b`, `{braces}`, `"quoted"`, `back\slash`, `\"`, ` spaced `},
		{`NULL`, ``, `é ✓`, "tab\there", "new\nline"},
		{},
		nil,
	}
	var batch []apistore.Approval
	byID := map[string]int{}
	for i, approvers := range odd {
		a := approval(fmt.Sprintf("text_%d_%d", run, i), exec)
		a.Approvers = approvers
		batch = append(batch, a)
		byID[a.ID] = i
	}
	require.NoError(t, s.AddApprovals(ctx, batch))

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, len(odd))
	for _, got := range list {
		i := byID[got.ID]
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
	ctx, s, run, exec := approvalsRun(t, "approvals-twice")
	a := approval(fmt.Sprintf("twice_%d", run), exec)
	other := approval(fmt.Sprintf("twice_other_%d", run), exec)
	require.NoError(t, s.AddApprovals(ctx, []apistore.Approval{a, other, a}))

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.ElementsMatch(t, []string{a.ID, other.ID}, []string{list[0].ID, list[1].ID})
}

// approvalsRun is a test's store on the package's database and the run's
// number and execution ARN, named for the test: the database outlives a
// run (go test -count), so each run's ids are its own.
func approvalsRun(t *testing.T, name string) (context.Context, *apistore.Store, uint64, string) {
	t.Helper()
	run := rand.Uint64()
	return context.Background(), apistore.New(pgclustertest.PackagePool(t)), run,
		fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:%s:%d", name, run)
}

// TestAddApprovalsCallsTogether: calls of AddApprovals made in one
// statement answer each as it would alone: a redelivery among them
// changes nothing, and the one call whose approval the database refuses
// fails alone, its approvals not stored and the others' stored.
func TestAddApprovalsCallsTogether(t *testing.T) {
	t.Parallel()
	ctx, s, run, exec := approvalsRun(t, "calls-together")
	key := func(n int) string { return fmt.Sprintf("together_%d_%d", run, n) }
	a, b := approval(key(1), exec), approval(key(2), exec)
	require.Equal(t, []error{nil, nil, nil}, s.AddApprovalCalls(ctx, [][]apistore.Approval{{a}, {b}, {a}}),
		"the same approval twice in one statement is stored once")

	c, d, e := approval(key(3), exec), approval(key(4), exec), approval(key(5), exec)
	d.Message = "a NUL \x00 byte, which text refuses"
	errs := s.AddApprovalCalls(ctx, [][]apistore.Approval{{c}, {d, b}, {e}})
	require.NoError(t, errs[0])
	require.ErrorContains(t, errs[1], "recording approvals "+d.ID+" to "+b.ID+": ")
	require.NoError(t, errs[2])

	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: 10})
	require.NoError(t, err)
	var ids []string
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	want := []string{a.ID, b.ID, c.ID, e.ID}
	slices.Sort(want)
	slices.Sort(ids)
	require.Equal(t, want, ids, "the refused call's approval is not stored; every other is, once")
}

// TestAddApprovalsConcurrently: many calls at once, which go in fewer
// statements, each store their approvals.
func TestAddApprovalsConcurrently(t *testing.T) {
	t.Parallel()
	ctx, s, run, exec := approvalsRun(t, "concurrently")
	const callers, each = 32, 3
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			batch := make([]apistore.Approval, each)
			for j := range batch {
				batch[j] = approval(fmt.Sprintf("concurrently_%d_%d_%d", run, i, j), exec)
			}
			errs <- s.AddApprovals(ctx, batch)
		}()
	}
	for range callers {
		require.NoError(t, <-errs)
	}
	list, err := s.Approvals(ctx, apistore.ApprovalFilter{ExecutionARN: exec, Limit: callers * each})
	require.NoError(t, err)
	require.Len(t, list, callers*each)
}
