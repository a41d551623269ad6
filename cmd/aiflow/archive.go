package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aiflow/aiflow/internal/archivesink"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
)

const archiveUsage = `Usage:
  aiflow archive --before YYYY-MM   archive every month of events before YYYY-MM: write it to the
                                    archive, read it back to verify it, then drop its partition;
                                    then delete the large step results stored before YYYY-MM
  aiflow archive restore FILE       bring an archived month back; FILE is its manifest or its events
                                    file (events-YYYY-MM.manifest.json or events-YYYY-MM.jsonl.gz):
                                    a local path, an s3://bucket/key URL, or a bare name looked up
                                    in the archive

The archive is AIFLOW_ARCHIVE_BUCKET (s3://bucket/prefix, with AWS_REGION) when set, otherwise the
folder AIFLOW_ARCHIVE_DIR (default .aiflow/archive). The database is DATABASE_URL, or the
development cluster under AIFLOW_DATA_DIR (default .aiflow). See docs/event-store-archive.md.
`

// monthRE is the shape of --before.
var monthRE = regexp.MustCompile(`^\d{4}-\d{2}$`)

func cmdArchive(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, archiveUsage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, archiveUsage)
		return 0
	case "restore":
		return cmdArchiveRestore(ctx, args[1:], e)
	}

	fs := flag.NewFlagSet("aiflow archive", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	beforeFlag := fs.String("before", "", "archive every month before this one (YYYY-MM, UTC)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "aiflow archive: unexpected arguments %q\n\n%s", fs.Args(), archiveUsage)
		return 2
	}
	if *beforeFlag == "" {
		fmt.Fprintf(e.stderr, "aiflow archive: --before YYYY-MM is required\n\n%s", archiveUsage)
		return 2
	}
	before, err := parseMonth(*beforeFlag)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow archive: --before %v\n", err)
		return 2
	}
	cfg, err := config.LoadArchive(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	sink, where, err := configuredSink(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow archive: %v\n", err)
		return 1
	}
	return withStore(ctx, "archive", storeSettings{cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, cfg.Log}, e, func(store *eventstore.Store) int {
		var total int64
		done, err := store.Archive(ctx, eventstore.ArchiveOptions{Before: before, Sink: sink,
			ProgressFunc: func(a eventstore.ArchivedPartition) {
				total += a.Events
				fmt.Fprintf(e.stdout, "archived %s: %d %s -> %s (sha256 %s)\n", a.Partition, a.Events, plural(a.Events, "event"), where(a.Object), a.SHA256)
			}})
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow archive: %v\n", err)
			if len(done) > 0 {
				fmt.Fprintf(e.stderr, "aiflow archive: %d %s archived before the failure; run the command again to go on\n", len(done), plural(int64(len(done)), "month"))
			}
			return 1
		}
		if code := deleteArchivedBlobs(ctx, store, before, e); code != 0 {
			return code
		}
		if len(done) == 0 {
			fmt.Fprintf(e.stdout, "nothing to archive: no partition before %s\n", before.Format("2006-01"))
			return 0
		}
		fmt.Fprintf(e.stdout, "archived %d %s (%d %s) before %s\n", len(done), plural(int64(len(done)), "month"), total, plural(total, "event"), before.Format("2006-01"))
		return 0
	})
}

func cmdArchiveRestore(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("aiflow archive restore", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(e.stderr, "aiflow archive restore: takes one FILE, got %q\n\n%s", fs.Args(), archiveUsage)
		return 2
	}
	file := fs.Arg(0)
	if _, err := eventstore.ManifestName(file); err != nil {
		fmt.Fprintf(e.stderr, "aiflow archive restore: %v\n", err)
		return 2
	}
	cfg, err := config.LoadArchive(e.lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 2
	}
	sink, where, name, err := restoreSink(ctx, cfg, file)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow archive restore: %v\n", err)
		return 1
	}
	return withStore(ctx, "archive", storeSettings{cfg.DatabaseURL, cfg.DataDir, cfg.PGBinDir, cfg.Log}, e, func(store *eventstore.Store) int {
		a, err := store.Restore(ctx, sink, name)
		if err != nil {
			fmt.Fprintf(e.stderr, "aiflow archive restore: %v\n", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "restored %s: %d %s from %s (sha256 %s)\n", a.Partition, a.Events, plural(a.Events, "event"), where(a.Object), a.SHA256)
		return 0
	})
}

// parseMonth reads YYYY-MM as the first instant of that UTC month.
func parseMonth(s string) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if !monthRE.MatchString(s) || err != nil {
		return time.Time{}, fmt.Errorf("%q is not a month such as 2031-01 (YYYY-MM)", s)
	}
	return m, nil
}

func plural(n int64, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// configuredSink returns the archive the configuration names, and how to
// show where a name in it is.
func configuredSink(ctx context.Context, cfg config.Archive) (eventstore.ArchiveSink, func(string) string, error) {
	if cfg.Bucket != "" {
		s, err := newS3Sink(ctx, cfg, cfg.Bucket, cfg.Prefix)
		if err != nil {
			return nil, nil, err
		}
		return s, s.URL, nil
	}
	d := archivesink.NewDir(cfg.Dir)
	return d, d.Path, nil
}

// restoreSink finds the archive holding file: an s3:// URL, a local file,
// or a bare name in the configured archive.
func restoreSink(ctx context.Context, cfg config.Archive, file string) (sink eventstore.ArchiveSink, where func(string) string, name string, err error) {
	if strings.HasPrefix(file, "s3://") {
		bucket, key, err := config.ParseS3URL(file)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%q %v", file, err)
		}
		if cfg.AWSRegion == "" {
			return nil, nil, "", fmt.Errorf("reading %s needs AWS_REGION (example: AWS_REGION=us-east-1)", file)
		}
		prefix := path.Dir(key)
		if prefix == "." {
			prefix = ""
		}
		s, err := newS3Sink(ctx, cfg, bucket, prefix)
		if err != nil {
			return nil, nil, "", err
		}
		return s, s.URL, path.Base(key), nil
	}
	if _, err := os.Stat(file); err == nil || filepath.Base(file) != file {
		d := archivesink.NewDir(filepath.Dir(file))
		return d, d.Path, filepath.Base(file), nil
	}
	sink, where, err = configuredSink(ctx, cfg)
	return sink, where, file, err
}

// newS3Sink builds an S3 client the way every AWS SDK does (credentials
// from the environment, the shared files or the instance role), in the
// configured region; an endpoint URL (AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, for LocalStack or MinIO) is used with path-style
// addressing.
func newS3Sink(ctx context.Context, cfg config.Archive, bucket, prefix string) (*archivesink.S3, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.AWSRegion)}
	if cfg.S3EndpointURL != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(cfg.S3EndpointURL))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION")
	}
	return archivesink.NewS3(s3.NewFromConfig(awsCfg, archivesink.UsePathStyleForEndpoint), bucket, prefix), nil
}
