package apifunction

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/blob/pgblob"
	"github.com/aiflow/aiflow/internal/blob/s3blob"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// blobReader is the blob store the API resolves references to large step
// results from: the step workers' (config.Blobs); nil for none.
func blobReader(ctx context.Context, c config.Blobs, pool *pgxpool.Pool) (httpapi.BlobReader, error) {
	switch c.Store {
	case config.BlobStorePostgres:
		return pgblob.New(pool), nil
	case config.BlobStoreS3:
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration of the blob store: %w", err)
		}
		return s3blob.NewFromConfig(awsCfg, c.Bucket), nil
	}
	return nil, nil
}
