package pgblob_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/blobtest"
	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

func TestStore(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, blobtest.Suite{
		NewFunc: func(t *testing.T) blob.Store { return pgblob.New(pgclustertest.Pool(t)) },
		Scheme:  blob.LocalScheme, Deletes: true,
	})
}

func TestDeleteBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgclustertest.Pool(t)
	st := pgblob.New(pool)
	_, old, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: "e1", Step: "a", Value: []byte(`1`)})
	require.NoError(t, err)
	_, kept, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: "e2", Step: "a", Value: []byte(`2`)})
	require.NoError(t, err)
	key, err := blob.LocalKey(old.URI)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE eventstore.blobs SET created_at = '2026-01-15T00:00:00Z' WHERE key = $1`, key)
	require.NoError(t, err)
	n, err := st.DeleteBefore(ctx, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, err = st.Get(ctx, old.URI)
	require.ErrorIs(t, err, blob.ErrNotFound)
	_, err = st.Get(ctx, kept.URI)
	require.NoError(t, err)
}
