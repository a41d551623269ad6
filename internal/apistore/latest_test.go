package apistore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestLatestVersionIsWhatWorkflowAndVersionRead: a start's one read gives
// the workflow and its latest version as the two reads give them, without
// the definition, ASL and graph.
func TestLatestVersionIsWhatWorkflowAndVersionRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apistore.New(pgclustertest.PackagePool(t))
	// The package's database outlives a run: each run has its workflow.
	name := fmt.Sprintf("latest-version-%d", rand.Uint64())
	arn := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name

	_, _, err := s.LatestVersion(ctx, name)
	require.ErrorIs(t, err, apistore.ErrNotFound)

	v1 := version(name, "sha256:1")
	v1.StateMachineVersionARN = arn + ":1"
	_, err = s.Publish(ctx, v1, arn)
	require.NoError(t, err)
	v2 := version(name, "sha256:2")
	v2.InputSchema, v2.CreatedAt = "", t0.Add(time.Hour)
	_, err = s.Publish(ctx, v2, arn)
	require.NoError(t, err)

	requireLatest := func(want int) {
		t.Helper()
		wf, v, err := s.LatestVersion(ctx, name)
		require.NoError(t, err)
		wantWF, err := s.Workflow(ctx, name)
		require.NoError(t, err)
		require.Equal(t, wantWF, wf)
		wantV, err := s.Version(ctx, name, want)
		require.NoError(t, err)
		wantV.Definition, wantV.ASL, wantV.Graph = "", "", ""
		require.Equal(t, wantV, v)
	}
	requireLatest(2)
	v3 := version(name, "sha256:1")
	v3.StateMachineVersionARN = arn + ":3"
	_, err = s.Publish(ctx, v3, arn)
	require.NoError(t, err)
	requireLatest(3)
}

// TestLatestVersionsReadAtOnceAreOneQuery: starts reading their
// workflows' latest versions at once are answered, each with its own
// workflow's (or ErrNotFound), in fewer queries than reads.
func TestLatestVersionsReadAtOnceAreOneQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, queries := pgclustertest.CountingPool(t, "WHERE w.name = ANY")
	s := apistore.New(pool)
	names := []string{"alpha", "beta", "gamma"}
	for i, name := range names {
		arn := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
		for k := range i + 1 { // alpha at version 1, beta at 2, gamma at 3
			_, err := s.Publish(ctx, version(name, fmt.Sprintf("sha256:%d", k)), arn)
			require.NoError(t, err)
		}
	}
	const readers = 300
	before := queries.Load()
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			name := "missing"
			if i%4 != 3 {
				name = names[i%4]
			}
			wf, v, err := s.LatestVersion(ctx, name)
			switch {
			case name == "missing":
				if !errors.Is(err, apistore.ErrNotFound) {
					errs[i] = fmt.Errorf("read %d: %v, not ErrNotFound", i, err)
				}
			case err != nil:
				errs[i] = err
			case wf.Name != name || v.Workflow != name || v.Version != i%4+1 || wf.LatestVersion != v.Version:
				errs[i] = fmt.Errorf("read %d of %s: %+v, %+v", i, name, wf, v)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d reads in %d queries", readers, queries.Load()-before)
	require.Less(t, queries.Load()-before, int64(readers))
}
