package archivesink_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/archivesink"
	"github.com/aiflow/aiflow/internal/archivesink/archivesinktest"
	"github.com/aiflow/aiflow/internal/eventstore"
)

// unseekable hides every method of a reader but Read.
type unseekable struct{ io.Reader }

// failingReader returns some bytes, then an error.
type failingReader struct{ n int }

var errBrokenBody = errors.New("the body broke")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBrokenBody
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 'x'
	}
	r.n -= n
	return n, nil
}

func TestArchiveSinkConformance(t *testing.T) {
	t.Parallel()
	for _, sk := range archivesinktest.Sinks {
		t.Run(sk.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()

			t.Run("RoundTrip", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				require.NoError(t, sink.Put(ctx, "events-2031-01.manifest.json", bytes.NewReader([]byte(`{"format":1}`))))
				require.Equal(t, `{"format":1}`, string(archivesinktest.ReadObject(t, sink, "events-2031-01.manifest.json")))
			})
			t.Run("Overwrite", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				require.NoError(t, sink.Put(ctx, "a.json", strings.NewReader("old")))
				require.NoError(t, sink.Put(ctx, "a.json", strings.NewReader("new")))
				require.Equal(t, "new", string(archivesinktest.ReadObject(t, sink, "a.json")))
			})
			t.Run("UnseekableStream", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				big := make([]byte, 3<<20+17)
				_, err := rand.Read(big)
				require.NoError(t, err)
				require.NoError(t, sink.Put(ctx, "events-2031-01.jsonl.gz", unseekable{bytes.NewReader(big)}))
				require.Equal(t, big, archivesinktest.ReadObject(t, sink, "events-2031-01.jsonl.gz"))
			})
			t.Run("Empty", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				require.NoError(t, sink.Put(ctx, "empty", unseekable{strings.NewReader("")}))
				require.Empty(t, archivesinktest.ReadObject(t, sink, "empty"))
			})
			t.Run("Folders", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				require.NoError(t, sink.Put(ctx, "2031/events-2031-01.manifest.json", strings.NewReader("{}")))
				require.Equal(t, "{}", string(archivesinktest.ReadObject(t, sink, "2031/events-2031-01.manifest.json")))
			})
			t.Run("Missing", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				_, err := sink.Get(ctx, "events-1999-01.manifest.json")
				require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound)
				require.Contains(t, err.Error(), "events-1999-01.manifest.json")
			})
			t.Run("ABrokenBodyStoresNothing", func(t *testing.T) {
				t.Parallel()
				sink := sk.New(t)
				require.NoError(t, sink.Put(ctx, "kept", strings.NewReader("old")))
				err := sink.Put(ctx, "kept", &failingReader{n: 100 << 10})
				require.ErrorIs(t, err, errBrokenBody)
				require.Equal(t, "old", string(archivesinktest.ReadObject(t, sink, "kept")))
				require.ErrorIs(t, sink.Put(ctx, "never", &failingReader{n: 10}), errBrokenBody)
				_, err = sink.Get(ctx, "never")
				require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound)
			})
		})
	}
}

func TestDirLeavesNoTemporaryFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "archive") // made on first Put
	sink := archivesink.NewDir(dir)
	require.NoError(t, sink.Put(ctx, "a.json", strings.NewReader("{}")))
	require.Error(t, sink.Put(ctx, "b.json", &failingReader{n: 5}))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "a.json", entries[0].Name())
	fi, err := os.Stat(sink.Path("a.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "archives hold personal data; only their owner reads them")

	require.ErrorContains(t, sink.Put(ctx, "../escape", strings.NewReader("x")), "not a name inside the archive folder")
	_, err = sink.Get(ctx, "/etc/passwd")
	require.ErrorContains(t, err, "not a name inside the archive folder")
}

func TestS3WireFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("PlainHTTP", func(t *testing.T) {
		t.Parallel()
		fake, client := archivesinktest.NewFakeS3(t, false)
		sink := archivesink.NewS3(client, archivesinktest.Bucket, "/prod/events/")
		require.Equal(t, "s3://aiflow-archive/prod/events/events-2031-01.jsonl.gz", sink.URL("events-2031-01.jsonl.gz"))
		require.NoError(t, sink.Put(ctx, "events-2031-01.jsonl.gz", unseekable{strings.NewReader("gzip bytes")}))
		require.Equal(t, "gzip bytes", string(archivesinktest.ReadObject(t, sink, "events-2031-01.jsonl.gz")))
		stored, ok := fake.Object("prod/events/events-2031-01.jsonl.gz")
		require.True(t, ok, "keys: %v", fake.Keys())
		require.Equal(t, "gzip bytes", string(stored))

		reqs := fake.Seen()
		require.Len(t, reqs, 2)
		require.Equal(t, "PUT", reqs[0].Method)
		require.Equal(t, "/aiflow-archive/prod/events/events-2031-01.jsonl.gz", reqs[0].Path, "path-style addressing")
		require.False(t, reqs[0].AWSChunked, "over plain HTTP the SDK sends the body as is")
		require.NotEmpty(t, reqs[0].Checksums["x-amz-checksum-crc32"], "the SDK sends a checksum, and the fake checked it")
		require.Equal(t, "application/gzip", reqs[0].ContentType)
		require.Equal(t, "GET", reqs[1].Method)
		require.Equal(t, "/aiflow-archive/prod/events/events-2031-01.jsonl.gz", reqs[1].Path)
	})
	t.Run("TLSUsesAWSChunkedWithATrailingChecksum", func(t *testing.T) {
		t.Parallel()
		fake, client := archivesinktest.NewFakeS3(t, true)
		sink := archivesink.NewS3(client, archivesinktest.Bucket, "")
		require.NoError(t, sink.Put(ctx, "events-2031-01.manifest.json", strings.NewReader(`{"format":1}`)))
		reqs := fake.Seen()
		require.Len(t, reqs, 1)
		require.Equal(t, "/aiflow-archive/events-2031-01.manifest.json", reqs[0].Path)
		require.True(t, reqs[0].AWSChunked)
		require.NotEmpty(t, reqs[0].Checksums["x-amz-checksum-crc32"])
		require.Equal(t, "application/json", reqs[0].ContentType)
		require.Equal(t, `{"format":1}`, string(archivesinktest.ReadObject(t, sink, "events-2031-01.manifest.json")))
	})
	t.Run("NoSuchKey", func(t *testing.T) {
		t.Parallel()
		_, client := archivesinktest.NewFakeS3(t, false)
		_, err := archivesink.NewS3(client, archivesinktest.Bucket, "p").Get(ctx, "events-1999-01.jsonl.gz")
		require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound)
		require.Contains(t, err.Error(), "s3://aiflow-archive/p/events-1999-01.jsonl.gz")
	})
	t.Run("NoSuchBucket", func(t *testing.T) {
		t.Parallel()
		_, client := archivesinktest.NewFakeS3(t, false)
		err := archivesink.NewS3(client, "other-bucket", "").Put(ctx, "a.json", strings.NewReader("{}"))
		require.ErrorContains(t, err, "NoSuchBucket")
		require.ErrorContains(t, err, "s3://other-bucket/a.json")
	})
	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		fake, client := archivesinktest.NewFakeS3(t, false)
		fake.AccessKey = "AKIASOMEONEELSE00000" // before any request, so the handler sees it
		_, err := archivesink.NewS3(client, archivesinktest.Bucket, "").Get(ctx, "a.json")
		require.ErrorContains(t, err, "InvalidAccessKeyId")
	})
}
