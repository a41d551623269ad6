package s3blob_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/archivesink/archivesinktest"
	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/blobtest"
	"github.com/aiflow/aiflow/internal/blob/s3blob"
)

// The store runs the suite against an S3 endpoint on loopback that speaks
// S3's REST wire format and checks what S3 checks (signatures' scope,
// payload hashes, checksums, aws-chunked bodies over TLS), with the real
// SDK client.
func TestStore(t *testing.T) {
	t.Parallel()
	for name, tls := range map[string]bool{"http": false, "https": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			blobtest.Run(t, blobtest.Suite{
				NewFunc: func(t *testing.T) blob.Store {
					_, client := archivesinktest.NewFakeS3(t, tls)
					return s3blob.New(client, archivesinktest.Bucket)
				},
				Scheme: "s3://" + archivesinktest.Bucket + "/",
			})
		})
	}
}

func TestStoreWritesJSONObjects(t *testing.T) {
	t.Parallel()
	fake, client := archivesinktest.NewFakeS3(t, false)
	st := s3blob.New(client, archivesinktest.Bucket)
	_, r, err := blob.Offload(context.Background(), st, blob.OffloadParams{Execution: "arn:aws:states:us-east-1:123456789012:execution:wf:r", Step: "fetch", Value: []byte(`{"a":1}`)})
	require.NoError(t, err)
	key := blob.Key("arn:aws:states:us-east-1:123456789012:execution:wf:r", "fetch", r.SHA256)
	require.Equal(t, "s3://"+archivesinktest.Bucket+"/"+key, r.URI)
	body, ok := fake.Object(key)
	require.True(t, ok)
	require.JSONEq(t, `{"a":1}`, string(body))
	seen := fake.Seen()
	require.Equal(t, blob.ContentType, seen[len(seen)-1].ContentType)

	_, err = s3blob.New(client, "another-bucket").Get(context.Background(), r.URI)
	require.ErrorIs(t, err, blob.ErrForeign)
}
