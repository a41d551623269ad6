package archivesink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// S3Client is the part of *s3.Client that S3 uses.
type S3Client interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ eventstore.ArchiveSink = (*S3)(nil)

// maxPutObjectBytes is the most one S3 PutObject stores (5 GiB).
const maxPutObjectBytes = 5 << 30

// S3 is an eventstore.ArchiveSink on an S3 bucket: a name is stored as
// the object prefix+name.
type S3 struct {
	client S3Client
	bucket string
	prefix string
}

// NewS3 returns a sink that keeps its files in bucket under prefix (a
// folder such as "aiflow/archive"; a trailing slash is added when missing,
// and an empty prefix means the top of the bucket).
func NewS3(client S3Client, bucket, prefix string) *S3 {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}
}

// Key returns the object key of name.
func (s *S3) Key(name string) string { return s.prefix + name }

// URL returns the s3:// URL of name.
func (s *S3) URL(name string) string { return "s3://" + s.bucket + "/" + s.Key(name) }

// Put stores body as one object (PutObject), which S3 makes visible whole
// or not at all. A body that cannot seek is first copied to a temporary
// file, because PutObject needs the length up front and the SDK rewinds
// the body to checksum it; so an object may be at most 5 GiB.
func (s *S3) Put(ctx context.Context, name string, body io.Reader) error {
	var (
		rs   io.ReadSeeker
		size int64
	)
	switch b := body.(type) {
	case *bytes.Reader:
		rs, size = b, int64(b.Len())
	default:
		f, err := os.CreateTemp("", "aiflow-s3-put-*")
		if err != nil {
			return fmt.Errorf("putting %s: making a temporary file: %w", s.URL(name), err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		n, err := io.Copy(f, ctxReader{ctx, io.LimitReader(body, maxPutObjectBytes+1)})
		if err != nil {
			return fmt.Errorf("putting %s: %w", s.URL(name), err)
		}
		if n > maxPutObjectBytes {
			return fmt.Errorf("putting %s: it is more than the 5 GiB one S3 PutObject stores", s.URL(name))
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("putting %s: %w", s.URL(name), err)
		}
		rs, size = f, n
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.Key(name)),
		Body:          rs,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType(name)),
	})
	if err != nil {
		return fmt.Errorf("putting %s: %w", s.URL(name), err)
	}
	return nil
}

// Get opens the object of name (GetObject). It returns an error matching
// eventstore.ErrArchiveObjectNotFound when S3 answers NoSuchKey.
func (s *S3) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.Key(name))})
	var noKey *types.NoSuchKey
	if errors.As(err, &noKey) {
		return nil, fmt.Errorf("getting %s: %w", s.URL(name), eventstore.ErrArchiveObjectNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", s.URL(name), err)
	}
	return out.Body, nil
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	}
	return "application/octet-stream"
}

// UsePathStyleForEndpoint is an s3.Options function that turns on
// path-style addressing (https://host/bucket/key) when an endpoint URL is
// set (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or config), as S3-compatible
// servers such as LocalStack and MinIO expect; against AWS itself the
// default virtual-hosted style stays. Pass it to s3.NewFromConfig.
func UsePathStyleForEndpoint(o *s3.Options) {
	if o.BaseEndpoint != nil && *o.BaseEndpoint != "" {
		o.UsePathStyle = true
	}
}
