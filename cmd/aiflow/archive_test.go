package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestArchiveCommandRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgclustertest.Database(t)

	// Events of January and February 2020, written with a clock then.
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	now := time.Date(2020, 1, 15, 10, 0, 0, 0, time.UTC)
	store, err := eventstore.Open(ctx, pool, eventstore.Options{NowFunc: func() time.Time { return now }})
	require.NoError(t, err)
	for _, at := range []time.Time{
		time.Date(2020, 1, 15, 10, 0, 0, 0, time.UTC),
		time.Date(2020, 1, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2020, 2, 10, 10, 0, 0, 0, time.UTC),
	} {
		now = at
		_, err := store.Append(ctx, "exec-1", eventstore.Any, eventstore.NewEvent{
			Type: "Step", Data: json.RawMessage(fmt.Sprintf(`{"at":%q,"text":"Grüße"}`, at))})
		require.NoError(t, err)
	}
	before, err := store.ReadAll(ctx, 0, 0)
	require.NoError(t, err)
	require.Len(t, before, 3)

	archiveDir := filepath.Join(t.TempDir(), "archive")
	vars := map[string]string{"DATABASE_URL": dbURL, "AIFLOW_DATA_DIR": t.TempDir(), "AIFLOW_ARCHIVE_DIR": archiveDir}
	archive := func(args ...string) (int, string, string) {
		te := newTestEnv(vars)
		code := run(ctx, append([]string{"archive"}, args...), te.env())
		return code, te.stdout.String(), te.stderr.String()
	}

	code, out, errOut := archive("--before", "2020-03")
	require.Equal(t, 0, code, errOut)
	jan, feb := filepath.Join(archiveDir, "events-2020-01.jsonl.gz"), filepath.Join(archiveDir, "events-2020-02.jsonl.gz")
	require.Regexp(t, `^archived events_2020_01: 2 events -> `+regexp.QuoteMeta(jan)+` \(sha256 [0-9a-f]{64}\)
archived events_2020_02: 1 event -> `+regexp.QuoteMeta(feb)+` \(sha256 [0-9a-f]{64}\)
archived 2 months \(3 events\) before 2020-03
$`, out)
	for _, f := range []string{"events-2020-01.jsonl.gz", "events-2020-01.manifest.json", "events-2020-02.jsonl.gz", "events-2020-02.manifest.json"} {
		require.FileExists(t, filepath.Join(archiveDir, f))
	}
	left, err := store.ReadAll(ctx, 0, 0)
	require.NoError(t, err)
	require.Empty(t, left)

	code, out, errOut = archive("--before", "2020-03")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "nothing to archive: no partition before 2020-03\n", out)

	code, _, errOut = archive("--before", "2999-01")
	require.Equal(t, 1, code)
	require.Regexp(t, `would archive \d{4}-\d\d, the current month`, errOut)

	// Restore by the path of a manifest, and by the bare name of an events
	// file in the archive folder.
	code, out, errOut = archive("restore", filepath.Join(archiveDir, "events-2020-01.manifest.json"))
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^restored events_2020_01: 2 events from `+regexp.QuoteMeta(jan)+` \(sha256 [0-9a-f]{64}\)\n$`, out)
	code, out, errOut = archive("restore", "events-2020-02.jsonl.gz")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^restored events_2020_02: 1 event from `+regexp.QuoteMeta(feb), out)
	after, err := store.ReadAll(ctx, 0, 0)
	require.NoError(t, err)
	require.Equal(t, before, after)

	code, _, errOut = archive("restore", jan)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "eventstore.events_2020_01 is in the database")

	code, _, errOut = archive("restore", filepath.Join(t.TempDir(), "events-2020-05.manifest.json"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "events-2020-05.manifest.json")
	require.Contains(t, errOut, "archive object not found")
}

func TestArchiveCommandRejectsBadUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{args: nil, want: "aiflow archive --before YYYY-MM"},
		{args: []string{"--before", "2020-13"}, want: `aiflow archive: --before "2020-13" is not a month such as 2031-01 (YYYY-MM)`},
		{args: []string{"--before", "2020/01"}, want: `--before "2020/01" is not a month`},
		{args: []string{"--before", "2020-1"}, want: `--before "2020-1" is not a month`},
		{args: []string{"--before", "2020-01-01"}, want: `--before "2020-01-01" is not a month`},
		{args: []string{"--before="}, want: "--before YYYY-MM is required"},
		{args: []string{"--month", "2020-01"}, want: "flag provided but not defined: -month"},
		{args: []string{"--before", "2020-01", "extra"}, want: `unexpected arguments ["extra"]`},
		{args: []string{"restore"}, want: "takes one FILE"},
		{args: []string{"restore", "a.manifest.json", "b.manifest.json"}, want: "takes one FILE"},
		{args: []string{"restore", "notes.txt"}, want: `"notes.txt" is neither an archive manifest`},
		{args: []string{"--before", "2020-01"}, vars: map[string]string{"AIFLOW_ARCHIVE_BUCKET": "s3://acme"},
			want: "aiflow archive: 1 configuration problem:\n  AWS_REGION: required when AIFLOW_ARCHIVE_BUCKET is set"},
	} {
		te := newTestEnv(tc.vars)
		require.Equal(t, 2, run(ctx, append([]string{"archive"}, tc.args...), te.env()), "%q", tc.args)
		require.Contains(t, te.stderr.String(), tc.want, "%q", tc.args)
	}

	te := newTestEnv(nil)
	require.Equal(t, 0, run(ctx, []string{"archive", "--help"}, te.env()))
	require.Contains(t, te.stdout.String(), "aiflow archive restore FILE")
}

// TestArchiveRestoreReachesS3PathStyle checks the S3 wiring of the
// command: the region, AWS_ENDPOINT_URL_S3, path-style addressing and the
// SDK's credential chain. The endpoint answers every request as S3 does
// for a missing key.
//
// Not parallel: the SDK reads credentials from the process environment,
// which the test sets with t.Setenv.
func TestArchiveRestoreReachesS3PathStyle(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAARCHIVETEST00000")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "archive-test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "no-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("x-amz-request-id", "TESTREQUEST0001")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>prod/events-2020-01.manifest.json</Key><RequestId>TESTREQUEST0001</RequestId><HostId>test</HostId></Error>`)
	}))
	t.Cleanup(srv.Close)

	te := newTestEnv(map[string]string{
		"DATABASE_URL":          pgclustertest.PackageDatabase(t),
		"AIFLOW_DATA_DIR":       t.TempDir(),
		"AIFLOW_ARCHIVE_BUCKET": "s3://aiflow-archive/prod",
		"AWS_REGION":            "eu-west-1",
		"AWS_ENDPOINT_URL_S3":   srv.URL,
	})
	require.Equal(t, 1, run(context.Background(), []string{"archive", "restore", "events-2020-01.manifest.json"}, te.env()))
	require.Contains(t, te.stderr.String(), "getting s3://aiflow-archive/prod/events-2020-01.manifest.json: eventstore: archive object not found")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1)
	require.Regexp(t, `^GET /aiflow-archive/prod/events-2020-01.manifest.json AWS4-HMAC-SHA256 Credential=AKIAARCHIVETEST00000/\d{8}/eu-west-1/s3/aws4_request,`, seen[0])
}
