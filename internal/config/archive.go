package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// Archive is the configuration of `aiflow archive`, which moves whole
// months of events out of the database into an archive (a folder or an S3
// bucket) and back.
type Archive struct {
	// DatabaseURL is DATABASE_URL; empty means the local cluster under
	// DataDir.
	DatabaseURL string
	// DataDir is AIFLOW_DATA_DIR (default .aiflow).
	DataDir string
	// PGBinDir is AIFLOW_PG_BINDIR, an existing directory or empty.
	PGBinDir string
	// Dir is AIFLOW_ARCHIVE_DIR (default DataDir/archive, so
	// .aiflow/archive), the folder archives go to when Bucket is empty.
	Dir string
	// Bucket and Prefix come from AIFLOW_ARCHIVE_BUCKET, an
	// s3://bucket/prefix URL. When Bucket is set, archives go to S3
	// instead of Dir. Prefix has no leading or trailing slash.
	Bucket, Prefix string
	// AWSRegion is AWS_REGION, or AWS_DEFAULT_REGION when that is unset;
	// required when Bucket is set.
	AWSRegion string
	// S3EndpointURL is AWS_ENDPOINT_URL_S3, or AWS_ENDPOINT_URL when that
	// is unset: an S3-compatible endpoint such as LocalStack, reached with
	// path-style addressing. Empty means AWS itself.
	S3EndpointURL string
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// exampleBucketURL is the example shown for a bad AIFLOW_ARCHIVE_BUCKET.
const exampleBucketURL = "s3://my-aiflow-archive/events"

// LoadArchive reads Archive from the environment through lookup. When
// variables are missing or invalid it returns an *Error listing all of
// them, together with an Archive that holds defaults in their place.
func LoadArchive(lookup LookupFunc) (Archive, error) {
	r := newReader(lookup)
	var cfg Archive
	cfg.DatabaseURL = r.postgresURL("DATABASE_URL", false)
	cfg.DataDir = r.string("AIFLOW_DATA_DIR", defaultDataDir)
	cfg.PGBinDir = r.dir("AIFLOW_PG_BINDIR", examplePGBinDir)
	cfg.Dir = r.string("AIFLOW_ARCHIVE_DIR", filepath.Join(cfg.DataDir, "archive"))
	cfg.Bucket, cfg.Prefix = r.s3URL("AIFLOW_ARCHIVE_BUCKET")
	cfg.AWSRegion = r.awsRegion(cfg.Bucket != "", "when AIFLOW_ARCHIVE_BUCKET is set", "AWS_REGION", "AWS_DEFAULT_REGION")
	cfg.S3EndpointURL = r.endpointURL("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	cfg.Log = readLog(r)
	return cfg, r.err("aiflow archive")
}

// LogValue shows the configuration in logs with the database password
// masked.
func (c Archive) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "database_url", Value: redactedURL(c.DatabaseURL)},
		slog.String("data_dir", c.DataDir),
		slog.String("pg_bindir", c.PGBinDir),
		slog.String("archive_dir", c.Dir),
		slog.String("bucket", c.Bucket),
		slog.String("prefix", c.Prefix),
		slog.String("aws_region", c.AWSRegion),
		slog.String("s3_endpoint_url", c.S3EndpointURL),
		slog.Any("log", c.Log),
	)
}

// bucketNameRE matches S3 bucket names: 3 to 63 lowercase letters, digits,
// dots and hyphens, starting and ending with a letter or digit.
var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseS3URL splits an s3://bucket/prefix URL into the bucket and the key
// prefix, without leading or trailing slashes (empty for the top of the
// bucket). It returns an error saying what is wrong with any other shape.
func ParseS3URL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", "", errors.New("is not a URL")
	case u.Scheme != "s3":
		return "", "", errors.New("is not an s3://bucket/prefix URL")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "":
		return "", "", errors.New("is not an s3://bucket/prefix URL: it may hold only a bucket and a prefix")
	case !bucketNameRE.MatchString(u.Host) || strings.Contains(u.Host, ".."):
		return "", "", fmt.Errorf("names %q, which is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)", u.Host)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// s3URL returns the bucket and prefix of the s3:// URL in key, or "" and
// "" when unset or invalid.
func (r *reader) s3URL(key string) (bucket, prefix string) {
	v, ok := r.get(key)
	if !ok {
		return "", ""
	}
	bucket, prefix, err := ParseS3URL(v)
	if err != nil {
		r.problem(key, exampleBucketURL, "%s %v", show(key, v), err)
		return "", ""
	}
	return bucket, prefix
}

// endpointURL returns the first of keys that is set, which must be an
// http:// or https:// URL with a host, or "" when none is set or it is
// invalid.
func (r *reader) endpointURL(keys ...string) string {
	for _, key := range keys {
		v, ok := r.get(key)
		if !ok {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.problem(key, "http://localhost:4566", "%s is not an http:// or https:// URL", show(key, v))
			return ""
		}
		return v
	}
	return ""
}
