package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestArchiveDeletesOldBlobs: `aiflow archive --before` deletes the large
// step results stored before the month, with the history it archives.
func TestArchiveDeletesOldBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgclustertest.Database(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st := pgblob.New(pool)
	var refs []blob.Ref
	for _, v := range []string{`"old"`, `"older"`, `"new"`} {
		_, r, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: "arn:aws:states:us-east-1:123456789012:execution:wf:" + v[1:len(v)-1], Step: "s", Value: []byte(v)})
		require.NoError(t, err)
		refs = append(refs, r)
	}
	_, err = pool.Exec(ctx, `UPDATE eventstore.blobs SET created_at = '2020-01-15T00:00:00Z' WHERE body <> '"new"'::bytea`)
	require.NoError(t, err)

	te := newTestEnv(map[string]string{"DATABASE_URL": dbURL, "AIFLOW_DATA_DIR": t.TempDir(), "AIFLOW_ARCHIVE_DIR": t.TempDir()})
	require.Equal(t, 0, run(ctx, []string{"archive", "--before", "2020-03"}, te.env()), te.stderr.String())
	require.Equal(t, "deleted 2 large step results stored before 2020-03\nnothing to archive: no partition before 2020-03\n", te.stdout.String())
	_, err = st.Get(ctx, refs[0].URI)
	require.ErrorIs(t, err, blob.ErrNotFound)
	_, err = st.Get(ctx, refs[2].URI)
	require.NoError(t, err)
}
