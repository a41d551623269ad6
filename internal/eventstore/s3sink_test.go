package eventstore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// fakeS3 is an S3 endpoint in memory for one bucket. It speaks the S3 REST
// wire format of the two operations S3Sink uses, path-style: PutObject
// (PUT /bucket/key, plain or aws-chunked body, checksums in headers or
// trailers, answered with 200 and an ETag) and GetObject (GET /bucket/key,
// answered with the object or a 404 NoSuchKey XML error). It checks what
// real S3 checks that a client can get wrong: the SigV4 credential scope,
// the payload SHA-256, the CRC32/SHA256 checksums and the decoded length.
// Anything else is answered NotImplemented, so a new kind of request shows
// up in a test instead of passing by accident.
type fakeS3 struct {
	bucket, accessKey, region string

	seq      atomic.Int64
	mu       sync.Mutex
	objects  map[string]fakeObject
	requests []fakeRequest
}

const (
	fakeBucket    = "aiflow-archive"
	fakeAccessKey = "AKIAFAKES3TEST000000"
	fakeRegion    = "us-east-1"
)

type fakeObject struct {
	body        []byte
	contentType string
	etag        string
	checksums   map[string]string // header name, e.g. x-amz-checksum-crc32, to value
	modified    time.Time
}

// fakeRequest is what the fake saw of one request.
type fakeRequest struct {
	Method, Path string
	AWSChunked   bool              // the body came aws-chunked (what the SDK does over TLS)
	Checksums    map[string]string // x-amz-checksum-* from headers or trailers
	ContentType  string
}

// newFakeS3 starts a fake S3 on loopback (with TLS when tls is set) and
// returns it with an SDK client configured for it: static credentials, a
// region, the endpoint URL and, through UsePathStyleForEndpoint,
// path-style addressing.
func newFakeS3(t testing.TB, tls bool) (*fakeS3, *s3.Client) {
	t.Helper()
	f := &fakeS3{bucket: fakeBucket, accessKey: fakeAccessKey, region: fakeRegion, objects: map[string]fakeObject{}}
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(f)
	} else {
		srv = httptest.NewServer(f)
	}
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       fakeRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(fakeAccessKey, "fake-secret-key", ""),
		HTTPClient:   srv.Client(),
		BaseEndpoint: aws.String(srv.URL),
		// What config.LoadDefaultConfig sets when nothing overrides it.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	return f, s3.NewFromConfig(cfg, eventstore.UsePathStyleForEndpoint)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := fmt.Sprintf("FAKE%012d", f.seq.Add(1))
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("Server", "AmazonS3")
	fail := func(status int, code, msg string, extra s3ErrorBody) {
		extra.Code, extra.Message, extra.RequestID, extra.HostID = code, msg, reqID, "fake-host-id"
		body, _ := xml.Marshal(extra)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, xml.Header)
		_, _ = w.Write(body)
	}
	if status, code, msg := f.checkAuth(r); code != "" {
		fail(status, code, msg, s3ErrorBody{})
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != f.bucket {
		fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", s3ErrorBody{BucketName: bucket})
		return
	}
	for q := range r.URL.Query() {
		if q != "x-id" { // the SDK names the operation in x-id
			key = ""
		}
	}
	if key == "" {
		fail(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented", s3ErrorBody{})
		return
	}
	switch r.Method {
	case http.MethodPut:
		f.put(w, r, key, fail)
	case http.MethodGet:
		f.get(w, r, key, fail)
	default:
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", s3ErrorBody{})
	}
}

type s3ErrorBody struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Key        string   `xml:"Key,omitempty"`
	BucketName string   `xml:"BucketName,omitempty"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
}

// checkAuth checks the SigV4 Authorization header's shape and credential
// scope (the signature itself is the SDK's business).
func (f *fakeS3) checkAuth(r *http.Request) (int, string, string) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return http.StatusForbidden, "AccessDenied", "Access Denied"
	}
	var cred, signed string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = ";" + v + ";"
		}
	}
	scope := strings.Split(cred, "/")
	switch {
	case len(scope) != 5 || scope[3] != "s3" || scope[4] != "aws4_request":
		return http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is mal-formed."
	case scope[0] != f.accessKey:
		return http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	case scope[2] != f.region:
		return http.StatusBadRequest, "AuthorizationHeaderMalformed", fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", scope[2], f.region)
	case !strings.Contains(signed, ";host;") || !strings.Contains(signed, ";x-amz-date;") || !strings.Contains(signed, ";x-amz-content-sha256;"):
		return http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	return 0, "", ""
}

func (f *fakeS3) put(w http.ResponseWriter, r *http.Request, key string, fail func(int, string, string, s3ErrorBody)) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		fail(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", s3ErrorBody{})
		return
	}
	body, trailers := raw, map[string]string{}
	chunked := strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked")
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if chunked {
		if !strings.HasPrefix(payloadHash, "STREAMING-") {
			fail(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be a STREAMING- value for an aws-chunked body", s3ErrorBody{})
			return
		}
		body, trailers, err = decodeAWSChunked(raw)
		if err != nil {
			fail(http.StatusBadRequest, "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes: "+err.Error(), s3ErrorBody{})
			return
		}
		if d := r.Header.Get("X-Amz-Decoded-Content-Length"); d != "" && d != strconv.Itoa(len(body)) {
			fail(http.StatusBadRequest, "IncompleteBody", "The decoded length does not match x-amz-decoded-content-length.", s3ErrorBody{})
			return
		}
		for _, name := range strings.Split(r.Header.Get("X-Amz-Trailer"), ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" && trailers[name] == "" {
				fail(http.StatusBadRequest, "MalformedTrailerError", "The request contained trailing data that was not well-formed: "+name+" is missing.", s3ErrorBody{})
				return
			}
		}
	} else if len(payloadHash) == 64 {
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != payloadHash {
			fail(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", s3ErrorBody{})
			return
		}
	} else if payloadHash != "UNSIGNED-PAYLOAD" {
		fail(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 is missing or not valid", s3ErrorBody{})
		return
	}
	if md := r.Header.Get("Content-Md5"); md != "" {
		if sum := md5.Sum(body); base64.StdEncoding.EncodeToString(sum[:]) != md {
			fail(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.", s3ErrorBody{})
			return
		}
	}
	checksums := map[string]string{}
	for name, compute := range map[string]func([]byte) []byte{
		"x-amz-checksum-crc32": func(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)) },
		"x-amz-checksum-sha256": func(b []byte) []byte {
			s := sha256.Sum256(b)
			return s[:]
		},
	} {
		v := r.Header.Get(name)
		if v == "" {
			v = trailers[name]
		}
		if v == "" {
			continue
		}
		if base64.StdEncoding.EncodeToString(compute(body)) != v {
			fail(http.StatusBadRequest, "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToUpper(strings.TrimPrefix(name, "x-amz-checksum-"))), s3ErrorBody{})
			return
		}
		checksums[name] = v
	}
	sum := md5.Sum(body)
	obj := fakeObject{body: body, contentType: r.Header.Get("Content-Type"), etag: `"` + hex.EncodeToString(sum[:]) + `"`,
		checksums: checksums, modified: time.Now().UTC().Truncate(time.Second)}
	f.mu.Lock()
	f.objects[key] = obj
	f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: r.URL.Path, AWSChunked: chunked, Checksums: checksums, ContentType: obj.contentType})
	f.mu.Unlock()
	w.Header().Set("ETag", obj.etag)
	for name, v := range checksums {
		w.Header().Set(name, v)
	}
	w.WriteHeader(http.StatusOK)
}

// decodeAWSChunked decodes an aws-chunked body: chunks of
// "hex-size[;chunk-signature=...]\r\n" data "\r\n", a zero-size chunk, then
// trailer lines "name:value\r\n" and an empty line.
func decodeAWSChunked(raw []byte) ([]byte, map[string]string, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	var body []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasSuffix(line, "\r\n") {
			return nil, nil, errors.New("a chunk header does not end with CRLF")
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSuffix(line, "\r\n"), ";")
		n, err := strconv.ParseUint(sizeHex, 16, 32)
		if err != nil {
			return nil, nil, fmt.Errorf("chunk size %q", sizeHex)
		}
		if n == 0 {
			break
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(br, chunk); err != nil || !bytes.HasSuffix(chunk, []byte("\r\n")) {
			return nil, nil, errors.New("a chunk is shorter than its size")
		}
		body = append(body, chunk[:n]...)
	}
	trailers := map[string]string{}
	for {
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasSuffix(line, "\r\n") {
			return nil, nil, errors.New("the trailers do not end with an empty line")
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, fmt.Errorf("trailer %q", line)
		}
		trailers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		return nil, nil, errors.New("data after the trailers")
	}
	return body, trailers, nil
}

func (f *fakeS3) get(w http.ResponseWriter, r *http.Request, key string, fail func(int, string, string, s3ErrorBody)) {
	f.mu.Lock()
	obj, ok := f.objects[key]
	f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: r.URL.Path})
	f.mu.Unlock()
	if !ok {
		fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", s3ErrorBody{Key: key})
		return
	}
	h := w.Header()
	h.Set("Content-Type", obj.contentType)
	h.Set("Content-Length", strconv.Itoa(len(obj.body)))
	h.Set("ETag", obj.etag)
	h.Set("Last-Modified", obj.modified.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	if r.Header.Get("X-Amz-Checksum-Mode") == "ENABLED" && len(obj.checksums) > 0 {
		for name, v := range obj.checksums {
			h.Set(name, v)
		}
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(obj.body)
}

// object returns what is stored under key.
func (f *fakeS3) object(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.objects[key]
	return obj.body, ok
}

// keys returns the stored keys.
func (f *fakeS3) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.objects {
		out = append(out, k)
	}
	return out
}

func (f *fakeS3) seen() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

// archiveSinks are the ArchiveSink implementations every sink and archive
// test runs against.
var archiveSinks = []struct {
	name string
	new  func(t testing.TB) eventstore.ArchiveSink
}{
	{"Dir", func(t testing.TB) eventstore.ArchiveSink { return eventstore.NewDirSink(t.TempDir()) }},
	{"S3", func(t testing.TB) eventstore.ArchiveSink {
		_, client := newFakeS3(t, false)
		return eventstore.NewS3Sink(client, fakeBucket, "aiflow/archive")
	}},
	{"S3OverTLS", func(t testing.TB) eventstore.ArchiveSink {
		_, client := newFakeS3(t, true)
		return eventstore.NewS3Sink(client, fakeBucket, "")
	}},
}

func get(t *testing.T, sink eventstore.ArchiveSink, name string) []byte {
	t.Helper()
	rc, err := sink.Get(context.Background(), name)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}

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
	for _, sk := range archiveSinks {
		t.Run(sk.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()

			t.Run("RoundTrip", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				require.NoError(t, sink.Put(ctx, "events-2031-01.manifest.json", bytes.NewReader([]byte(`{"format":1}`))))
				require.Equal(t, `{"format":1}`, string(get(t, sink, "events-2031-01.manifest.json")))
			})
			t.Run("Overwrite", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				require.NoError(t, sink.Put(ctx, "a.json", strings.NewReader("old")))
				require.NoError(t, sink.Put(ctx, "a.json", strings.NewReader("new")))
				require.Equal(t, "new", string(get(t, sink, "a.json")))
			})
			t.Run("UnseekableStream", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				big := make([]byte, 3<<20+17)
				_, err := rand.Read(big)
				require.NoError(t, err)
				require.NoError(t, sink.Put(ctx, "events-2031-01.jsonl.gz", unseekable{bytes.NewReader(big)}))
				require.Equal(t, big, get(t, sink, "events-2031-01.jsonl.gz"))
			})
			t.Run("Empty", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				require.NoError(t, sink.Put(ctx, "empty", unseekable{strings.NewReader("")}))
				require.Empty(t, get(t, sink, "empty"))
			})
			t.Run("Folders", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				require.NoError(t, sink.Put(ctx, "2031/events-2031-01.manifest.json", strings.NewReader("{}")))
				require.Equal(t, "{}", string(get(t, sink, "2031/events-2031-01.manifest.json")))
			})
			t.Run("Missing", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				_, err := sink.Get(ctx, "events-1999-01.manifest.json")
				require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound)
				require.Contains(t, err.Error(), "events-1999-01.manifest.json")
			})
			t.Run("ABrokenBodyStoresNothing", func(t *testing.T) {
				t.Parallel()
				sink := sk.new(t)
				require.NoError(t, sink.Put(ctx, "kept", strings.NewReader("old")))
				err := sink.Put(ctx, "kept", &failingReader{n: 100 << 10})
				require.ErrorIs(t, err, errBrokenBody)
				require.Equal(t, "old", string(get(t, sink, "kept")))
				require.ErrorIs(t, sink.Put(ctx, "never", &failingReader{n: 10}), errBrokenBody)
				_, err = sink.Get(ctx, "never")
				require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound)
			})
		})
	}
}

func TestDirSinkLeavesNoTemporaryFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "archive") // made on first Put
	sink := eventstore.NewDirSink(dir)
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

func TestS3SinkWireFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("PlainHTTP", func(t *testing.T) {
		t.Parallel()
		fake, client := newFakeS3(t, false)
		sink := eventstore.NewS3Sink(client, fakeBucket, "/prod/events/")
		require.Equal(t, "s3://aiflow-archive/prod/events/events-2031-01.jsonl.gz", sink.URL("events-2031-01.jsonl.gz"))
		require.NoError(t, sink.Put(ctx, "events-2031-01.jsonl.gz", unseekable{strings.NewReader("gzip bytes")}))
		require.Equal(t, "gzip bytes", string(get(t, sink, "events-2031-01.jsonl.gz")))
		stored, ok := fake.object("prod/events/events-2031-01.jsonl.gz")
		require.True(t, ok, "keys: %v", fake.keys())
		require.Equal(t, "gzip bytes", string(stored))

		reqs := fake.seen()
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
		fake, client := newFakeS3(t, true)
		sink := eventstore.NewS3Sink(client, fakeBucket, "")
		require.NoError(t, sink.Put(ctx, "events-2031-01.manifest.json", strings.NewReader(`{"format":1}`)))
		reqs := fake.seen()
		require.Len(t, reqs, 1)
		require.Equal(t, "/aiflow-archive/events-2031-01.manifest.json", reqs[0].Path)
		require.True(t, reqs[0].AWSChunked)
		require.NotEmpty(t, reqs[0].Checksums["x-amz-checksum-crc32"])
		require.Equal(t, "application/json", reqs[0].ContentType)
		require.Equal(t, `{"format":1}`, string(get(t, sink, "events-2031-01.manifest.json")))
	})
	t.Run("NoSuchKey", func(t *testing.T) {
		t.Parallel()
		_, client := newFakeS3(t, false)
		_, err := eventstore.NewS3Sink(client, fakeBucket, "p").Get(ctx, "events-1999-01.jsonl.gz")
		require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound)
		require.Contains(t, err.Error(), "s3://aiflow-archive/p/events-1999-01.jsonl.gz")
	})
	t.Run("NoSuchBucket", func(t *testing.T) {
		t.Parallel()
		_, client := newFakeS3(t, false)
		err := eventstore.NewS3Sink(client, "other-bucket", "").Put(ctx, "a.json", strings.NewReader("{}"))
		require.ErrorContains(t, err, "NoSuchBucket")
		require.ErrorContains(t, err, "s3://other-bucket/a.json")
	})
	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		fake, client := newFakeS3(t, false)
		fake.accessKey = "AKIASOMEONEELSE00000" // before any request, so the handler sees it
		_, err := eventstore.NewS3Sink(client, fakeBucket, "").Get(ctx, "a.json")
		require.ErrorContains(t, err, "InvalidAccessKeyId")
	})
}
