package config

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
)

// noBlobs is a step worker's Blobs when no AIFLOW_BLOB_* is set.
var noBlobs = Blobs{Store: BlobStoreNone, Threshold: blob.DefaultThreshold, MaxResolvedBytes: blob.DefaultMaxResolvedBytes}

func TestLoadBlobs(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env     map[string]string
		want    Blobs
		problem string
	}{
		"a bucket means s3": {
			env:  map[string]string{"AIFLOW_BLOB_BUCKET": "aiflow-blobs-1", "AIFLOW_BLOB_THRESHOLD": "100000"},
			want: Blobs{Store: BlobStoreS3, Bucket: "aiflow-blobs-1", Threshold: 100000, MaxResolvedBytes: blob.DefaultMaxResolvedBytes},
		},
		"postgres": {
			env:  map[string]string{"AIFLOW_BLOB_STORE": "postgres", "DATABASE_URL": "postgres://u:p@localhost/aiflow"},
			want: Blobs{Store: BlobStorePostgres, Threshold: blob.DefaultThreshold, MaxResolvedBytes: blob.DefaultMaxResolvedBytes},
		},
		"postgres without a database": {
			env: map[string]string{"AIFLOW_BLOB_STORE": "postgres"}, problem: "DATABASE_URL: is required with AIFLOW_BLOB_STORE=postgres",
		},
		"s3 without a bucket": {
			env: map[string]string{"AIFLOW_BLOB_STORE": "s3"}, problem: "AIFLOW_BLOB_BUCKET: is required with AIFLOW_BLOB_STORE=s3",
		},
		"a bucket URL": {
			env: map[string]string{"AIFLOW_BLOB_BUCKET": "s3://b/p"}, problem: "is not an S3 bucket name",
		},
		"a threshold over the limit": {
			env: map[string]string{"AIFLOW_BLOB_THRESHOLD": "300000"}, problem: "AIFLOW_BLOB_THRESHOLD",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadMCPStep(env(tc.env))
			if tc.problem != "" {
				require.ErrorContains(t, err, tc.problem)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Blobs)
		})
	}
}

func TestLoadAPIFunctionBlobs(t *testing.T) {
	t.Parallel()
	c, err := LoadAPIFunction(env(map[string]string{"DATABASE_URL": "postgres://u:p@localhost/aiflow", "AIFLOW_BLOB_STORE": "postgres"}))
	require.NoError(t, err)
	require.Equal(t, Blobs{Store: BlobStorePostgres, Threshold: blob.DefaultThreshold, MaxResolvedBytes: DefaultAPIMaxResolvedBytes}, c.Blobs)
}
