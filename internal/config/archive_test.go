package config

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/telemetry"
)

func TestLoadArchive(t *testing.T) {
	t.Parallel()

	defaultLog := Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto}

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadArchive(env(nil))
		require.NoError(t, err)
		require.Equal(t, Archive{DataDir: ".aiflow", Dir: filepath.Join(".aiflow", "archive"), Log: defaultLog}, cfg)
	})
	t.Run("ArchiveDirFollowsDataDir", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadArchive(env(map[string]string{"AIFLOW_DATA_DIR": "/var/lib/aiflow"}))
		require.NoError(t, err)
		require.Equal(t, filepath.Join("/var/lib/aiflow", "archive"), cfg.Dir)
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()

		binDir := t.TempDir()
		cfg, err := LoadArchive(env(map[string]string{
			"DATABASE_URL":          "postgres://aiflow:secret@db:5432/aiflow",
			"AIFLOW_DATA_DIR":       "/data",
			"AIFLOW_PG_BINDIR":      binDir,
			"AIFLOW_ARCHIVE_DIR":    "/backups/events",
			"AIFLOW_ARCHIVE_BUCKET": "s3://acme-aiflow.archive/prod/events/",
			"AWS_DEFAULT_REGION":    "eu-central-1",
			"AWS_ENDPOINT_URL":      "http://localhost:4566",
			"AIFLOW_LOG_LEVEL":      "warn",
		}))
		require.NoError(t, err)
		require.Equal(t, Archive{
			DatabaseURL:   "postgres://aiflow:secret@db:5432/aiflow",
			DataDir:       "/data",
			PGBinDir:      binDir,
			Dir:           "/backups/events",
			Bucket:        "acme-aiflow.archive",
			Prefix:        "prod/events",
			AWSRegion:     "eu-central-1",
			S3EndpointURL: "http://localhost:4566",
			Log:           Log{Level: slog.LevelWarn, Format: telemetry.FormatAuto},
		}, cfg)
	})
	t.Run("TheS3EndpointWinsOverTheGeneralOne", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadArchive(env(map[string]string{
			"AWS_ENDPOINT_URL_S3": "https://s3.internal:9000",
			"AWS_ENDPOINT_URL":    "http://localhost:4566",
		}))
		require.NoError(t, err)
		require.Equal(t, "https://s3.internal:9000", cfg.S3EndpointURL)
	})
	t.Run("ABucketNeedsARegion", func(t *testing.T) {
		t.Parallel()

		_, err := LoadArchive(env(map[string]string{"AIFLOW_ARCHIVE_BUCKET": "s3://acme"}))
		require.Equal(t, []Problem{{
			Var:     "AWS_REGION",
			Problem: "required when AIFLOW_ARCHIVE_BUCKET is set but not set (nor AWS_DEFAULT_REGION)",
			Example: "us-east-1",
		}}, problems(t, err))
	})
	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		t.Parallel()

		_, err := LoadArchive(env(map[string]string{
			"AIFLOW_ARCHIVE_BUCKET": "https://acme.s3.amazonaws.com/x",
			"AWS_REGION":            "Europe",
			"AWS_ENDPOINT_URL_S3":   "localhost:4566",
			"AIFLOW_LOG_FORMAT":     "xml",
		}))
		got := problems(t, err)
		require.Len(t, got, 4)
		require.Equal(t, Problem{Var: "AIFLOW_ARCHIVE_BUCKET", Problem: `"https://acme.s3.amazonaws.com/x" is not an s3://bucket/prefix URL`,
			Example: "s3://my-aiflow-archive/events"}, got[0])
		require.Equal(t, "AWS_REGION", got[1].Var)
		require.Equal(t, Problem{Var: "AWS_ENDPOINT_URL_S3", Problem: `"localhost:4566" is not an http:// or https:// URL`,
			Example: "http://localhost:4566"}, got[2])
		require.Equal(t, "AIFLOW_LOG_FORMAT", got[3].Var)
		require.Contains(t, err.Error(), "aiflow archive: 4 configuration problems")
	})
	t.Run("LogValueHidesThePassword", func(t *testing.T) {
		t.Parallel()

		cfg := Archive{DatabaseURL: "postgres://aiflow:topsecret@db/aiflow", Bucket: "acme"}
		require.NotContains(t, cfg.LogValue().String(), "topsecret")
		require.Contains(t, cfg.LogValue().String(), "acme")
	})
}

func TestParseS3URL(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		in, bucket, prefix, err string
	}{
		{in: "s3://acme", bucket: "acme"},
		{in: "s3://acme/", bucket: "acme"},
		{in: "s3://acme/a/b/", bucket: "acme", prefix: "a/b"},
		{in: "s3://my.bucket-1/events", bucket: "my.bucket-1", prefix: "events"},
		{in: "acme/events", err: "is not an s3://bucket/prefix URL"},
		{in: "s3://Acme/x", err: `names "Acme", which is not an S3 bucket name`},
		{in: "s3://ab", err: `names "ab", which is not an S3 bucket name`},
		{in: "s3://a..b", err: `names "a..b", which is not an S3 bucket name`},
		{in: "s3://acme/x?versionId=3", err: "may hold only a bucket and a prefix"},
		{in: "s3://key:secret@acme/x", err: "may hold only a bucket and a prefix"},
		{in: "s3://acme:443/x", err: "may hold only a bucket and a prefix"},
		{in: "s3://%zz", err: "is not a URL"},
	} {
		bucket, prefix, err := ParseS3URL(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.bucket, bucket, tc.in)
		require.Equal(t, tc.prefix, prefix, tc.in)
	}
}
