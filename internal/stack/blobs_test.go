package stack_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/s3blob"
)

// requireBlobBucketServed checks that the bucket the template gives the
// step workers and the API (AIFLOW_BLOB_BUCKET, lowercase as
// CloudFormation names it) is served by the stack's S3 API at the
// endpoint their AWS_ENDPOINT_URL_S3 names, with the S3 client of the
// blob store.
func requireBlobBucketServed(t *testing.T, b *bundle) {
	t.Helper()
	buckets := map[string]bool{}
	for _, f := range b.stack.Model().Functions {
		if v, ok := f.Environment["AIFLOW_BLOB_BUCKET"]; ok {
			buckets[v] = true
		}
	}
	require.Len(t, buckets, 1, "the step workers and the API share one bucket")
	var bucket string
	for k := range buckets {
		bucket = k
	}
	client := s3.NewFromConfig(b.cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(b.stack.Endpoints().S3) }, s3blob.UsePathStyleForEndpoint)
	st := s3blob.New(client, bucket)
	ctx := context.Background()
	big := []byte(`{"report":"large"}`)
	ref, r, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: "arn:aws:states:us-east-1:123456789012:execution:wf:r", Step: "s", Value: big})
	require.NoError(t, err)
	out, err := blob.Resolve(ctx, st, ref, 0)
	require.NoError(t, err)
	require.Equal(t, string(big), string(out))
	require.Contains(t, r.URI, "s3://"+bucket+"/")
}
