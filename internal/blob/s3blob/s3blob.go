// Package s3blob is the blob store (internal/blob) on an S3 bucket: each
// value one object at its key, named s3://bucket/key. It is the store of
// the step workers and the API on AWS (AIFLOW_BLOB_BUCKET), where the
// bucket's lifecycle rule expires the objects (template.yaml).
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/aiflow/aiflow/internal/blob"
)

// Client is the part of *s3.Client that Store uses.
type Client interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Store is a blob.Store on one bucket.
type Store struct {
	client Client
	bucket string
}

var _ blob.Store = (*Store)(nil)

// New returns a store on bucket.
func New(client Client, bucket string) *Store { return &Store{client: client, bucket: bucket} }

// UsePathStyleForEndpoint is an s3.Options function that turns on
// path-style addressing (http://host/bucket/key) when an endpoint URL is
// set (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL), as S3-compatible servers
// expect; against AWS the default virtual-hosted style stays.
func UsePathStyleForEndpoint(o *s3.Options) {
	if o.BaseEndpoint != nil && *o.BaseEndpoint != "" {
		o.UsePathStyle = true
	}
}

// NewFromConfig returns a store on bucket with an S3 client of cfg.
func NewFromConfig(cfg aws.Config, bucket string) *Store {
	return New(s3.NewFromConfig(cfg, UsePathStyleForEndpoint), bucket)
}

// Put stores body as the object key (PutObject), application/json.
func (s *Store) Put(ctx context.Context, key string, body []byte) (string, error) {
	uri := "s3://" + s.bucket + "/" + key
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(blob.ContentType),
	})
	if err != nil {
		return "", fmt.Errorf("storing %s: %w", uri, err)
	}
	return uri, nil
}

// Get reads the object of uri (GetObject). A URI of another bucket, or
// not s3://, is ErrForeign; NoSuchKey is ErrNotFound.
func (s *Store) Get(ctx context.Context, uri string) ([]byte, error) {
	key, ok := strings.CutPrefix(uri, "s3://"+s.bucket+"/")
	if !ok || key == "" {
		return nil, fmt.Errorf("reading %s: %w: this store reads s3://%s/", uri, blob.ErrForeign, s.bucket)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	var noKey *types.NoSuchKey
	if errors.As(err, &noKey) {
		return nil, fmt.Errorf("reading %s: %w", uri, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", uri, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", uri, err)
	}
	return body, nil
}
