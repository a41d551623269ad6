package stepworker

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/s3blob"
	"github.com/aiflow/aiflow/internal/config"
)

// blobStore makes the S3 blob store of c (AIFLOW_BLOB_BUCKET); nil for
// none. The PostgreSQL one is made with the worker's database pool.
func blobStore(ctx context.Context, c config.Blobs) (blob.Store, error) {
	if c.Store != config.BlobStoreS3 {
		return nil, nil
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration of the blob store: %w", err)
	}
	return s3blob.NewFromConfig(awsCfg, c.Bucket), nil
}
