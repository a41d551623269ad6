package stack

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalBlobsKeepLargeResultsInTheDatabase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AIFLOW_BLOB_BUCKET": "aiflow-BlobBucket", "AIFLOW_DATABASE_SECRET": "s"}
	localBlobs(env)
	require.Equal(t, map[string]string{"AIFLOW_BLOB_STORE": "postgres", "AIFLOW_DATABASE_SECRET": "s"}, env)

	other := map[string]string{"AIFLOW_DATABASE_SECRET": "s"}
	localBlobs(other)
	require.Equal(t, map[string]string{"AIFLOW_DATABASE_SECRET": "s"}, other, "a function without a bucket keeps its environment")
}
