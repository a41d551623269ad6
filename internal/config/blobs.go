package config

import (
	"log/slog"
	"strings"

	"github.com/aiflow/aiflow/internal/blob"
)

// The blob stores AIFLOW_BLOB_STORE names.
const (
	BlobStoreNone     = "none"
	BlobStoreS3       = "s3"
	BlobStorePostgres = "postgres"
)

// Blobs is where the step workers keep the results of steps marked large
// that are over the threshold, and where the API reads them back (package
// blob; docs/local-engine.md, "Large results").
type Blobs struct {
	// Store is AIFLOW_BLOB_STORE: s3 (the bucket AIFLOW_BLOB_BUCKET),
	// postgres (the table eventstore.blobs of the database DATABASE_URL
	// or AIFLOW_DATABASE_SECRET names) or none; default s3 when
	// AIFLOW_BLOB_BUCKET is set, none otherwise. With none, a large
	// step's result over the payload limit fails with
	// Steps.OutputTooLarge, as any other step's does.
	Store string
	// Bucket is AIFLOW_BLOB_BUCKET, the S3 bucket (a name, not a URL);
	// required with s3. AWS_ENDPOINT_URL_S3 points the S3 client
	// elsewhere (path-style addressing then).
	Bucket string
	// Threshold is AIFLOW_BLOB_THRESHOLD, the size of a large step's
	// result (bytes of JSON) above which it is stored: 1024 to 262144,
	// default blob.DefaultThreshold (229376, 224 KiB).
	Threshold int
	// MaxResolvedBytes is AIFLOW_BLOB_MAX_RESOLVED_BYTES, the most bytes
	// a payload may have once its references are read: a step's data in
	// a worker (default 64 MiB), an answer of the API (default 5 MiB,
	// under a Lambda function's 6 MB response).
	MaxResolvedBytes int
}

// Configured reports whether a store is configured.
func (b Blobs) Configured() bool { return b.Store == BlobStoreS3 || b.Store == BlobStorePostgres }

// readBlobs reads the variables of Blobs; db is the database of the
// binary, which the postgres store needs, and maxResolved the default of
// MaxResolvedBytes.
func (r *reader) blobs(db Database, maxResolved int) Blobs {
	b := Blobs{
		Bucket:           r.string("AIFLOW_BLOB_BUCKET", ""),
		Threshold:        r.int("AIFLOW_BLOB_THRESHOLD", blob.DefaultThreshold, 1024, 256*1024),
		MaxResolvedBytes: r.int("AIFLOW_BLOB_MAX_RESOLVED_BYTES", maxResolved, 256*1024, 1<<30),
	}
	def := BlobStoreNone
	if b.Bucket != "" {
		def = BlobStoreS3
	}
	b.Store = r.enum("AIFLOW_BLOB_STORE", def, BlobStoreNone, BlobStoreS3, BlobStorePostgres)
	if b.Bucket != "" && (!bucketNameRE.MatchString(b.Bucket) || strings.Contains(b.Bucket, "..")) {
		r.problem("AIFLOW_BLOB_BUCKET", "aiflow-blobs-123456789012", "%s is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)", show("AIFLOW_BLOB_BUCKET", b.Bucket))
		b.Bucket = ""
	}
	switch {
	case b.Store == BlobStoreS3 && b.Bucket == "":
		r.problem("AIFLOW_BLOB_BUCKET", "aiflow-blobs-123456789012", "is required with AIFLOW_BLOB_STORE=s3")
	case b.Store == BlobStorePostgres && !db.IsSet():
		r.problem("DATABASE_URL", "postgres://aiflow_worker:secret@localhost:5432/aiflow", "is required with AIFLOW_BLOB_STORE=postgres: the blobs are kept in its table eventstore.blobs")
	}
	return b
}

// LogValue shows the configuration in logs.
func (b Blobs) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("store", b.Store),
		slog.String("bucket", b.Bucket),
		slog.Int("threshold", b.Threshold),
		slog.Int("max_resolved_bytes", b.MaxResolvedBytes),
	)
}
