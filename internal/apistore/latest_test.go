package apistore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
