// Package archivesinktest holds the test helpers of the archive sinks: an
// S3 endpoint in memory (FakeS3) and the sinks every sink and archive test
// runs against (Sinks).
package archivesinktest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

	"github.com/aiflow/aiflow/internal/archivesink"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/s3api"
)

// FakeS3 is an S3 endpoint in memory for one bucket. It speaks the S3 REST
// wire format of the two operations archivesink.S3 uses, path-style: PutObject
// (PUT /bucket/key, plain or aws-chunked body, checksums in headers or
// trailers, answered with 200 and an ETag) and GetObject (GET /bucket/key,
// answered with the object or a 404 NoSuchKey XML error). It checks what
// real S3 checks that a client can get wrong: the SigV4 credential scope,
// the payload SHA-256, the CRC32/SHA256 checksums and the decoded length.
// Anything else is answered NotImplemented, so a new kind of request shows
// up in a test instead of passing by accident.
type FakeS3 struct {
	// AccessKey is the access key the fake accepts; a test may change it
	// before the first request.
	AccessKey string

	bucket, region string

	seq      atomic.Int64
	mu       sync.Mutex
	objects  map[string]fakeObject
	requests []Request
}

// Bucket is the one bucket a FakeS3 holds.
const Bucket = "aiflow-archive"

const (
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

// Request is what the fake saw of one request.
type Request struct {
	Method, Path string
	AWSChunked   bool              // the body came aws-chunked (what the SDK does over TLS)
	Checksums    map[string]string // x-amz-checksum-* from headers or trailers
	ContentType  string
}

// NewFakeS3 starts a fake S3 on loopback (with TLS when tls is set) and
// returns it with an SDK client configured for it: static credentials, a
// region, the endpoint URL and, through UsePathStyleForEndpoint,
// path-style addressing.
func NewFakeS3(t testing.TB, tls bool) (*FakeS3, *s3.Client) {
	t.Helper()
	f := &FakeS3{bucket: Bucket, AccessKey: fakeAccessKey, region: fakeRegion, objects: map[string]fakeObject{}}
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
	return f, s3.NewFromConfig(cfg, archivesink.UsePathStyleForEndpoint)
}

func (f *FakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
func (f *FakeS3) checkAuth(r *http.Request) (int, string, string) {
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
	case scope[0] != f.AccessKey:
		return http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	case scope[2] != f.region:
		return http.StatusBadRequest, "AuthorizationHeaderMalformed", fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", scope[2], f.region)
	case !strings.Contains(signed, ";host;") || !strings.Contains(signed, ";x-amz-date;") || !strings.Contains(signed, ";x-amz-content-sha256;"):
		return http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	return 0, "", ""
}

func (f *FakeS3) put(w http.ResponseWriter, r *http.Request, key string, fail func(int, string, string, s3ErrorBody)) {
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
		body, trailers, err = s3api.DecodeAWSChunked(raw)
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
	checksums, bad := s3api.CheckChecksums(r.Header, trailers, body)
	if bad != "" {
		fail(http.StatusBadRequest, "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToUpper(strings.TrimPrefix(bad, "x-amz-checksum-"))), s3ErrorBody{})
		return
	}
	sum := md5.Sum(body)
	obj := fakeObject{body: body, contentType: r.Header.Get("Content-Type"), etag: `"` + hex.EncodeToString(sum[:]) + `"`,
		checksums: checksums, modified: time.Now().UTC().Truncate(time.Second)}
	f.mu.Lock()
	f.objects[key] = obj
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, AWSChunked: chunked, Checksums: checksums, ContentType: obj.contentType})
	f.mu.Unlock()
	w.Header().Set("ETag", obj.etag)
	for name, v := range checksums {
		w.Header().Set(name, v)
	}
	w.WriteHeader(http.StatusOK)
}

func (f *FakeS3) get(w http.ResponseWriter, r *http.Request, key string, fail func(int, string, string, s3ErrorBody)) {
	f.mu.Lock()
	obj, ok := f.objects[key]
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path})
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

// Object returns what is stored under key.
func (f *FakeS3) Object(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.objects[key]
	return obj.body, ok
}

// Keys returns the stored keys.
func (f *FakeS3) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.objects {
		out = append(out, k)
	}
	return out
}

// Seen returns the requests the fake answered, in order.
func (f *FakeS3) Seen() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Sinks are the eventstore.ArchiveSink implementations every sink and
// archive test runs against: a folder, and S3 over HTTP and over TLS on
// a FakeS3.
var Sinks = []struct {
	Name string
	New  func(t testing.TB) eventstore.ArchiveSink
}{
	{"Dir", func(t testing.TB) eventstore.ArchiveSink { return archivesink.NewDir(t.TempDir()) }},
	{"S3", func(t testing.TB) eventstore.ArchiveSink {
		_, client := NewFakeS3(t, false)
		return archivesink.NewS3(client, Bucket, "aiflow/archive")
	}},
	{"S3OverTLS", func(t testing.TB) eventstore.ArchiveSink {
		_, client := NewFakeS3(t, true)
		return archivesink.NewS3(client, Bucket, "")
	}},
}

// ReadObject returns what sink holds under name, failing t when it cannot.
func ReadObject(t testing.TB, sink eventstore.ArchiveSink, name string) []byte {
	t.Helper()
	rc, err := sink.Get(context.Background(), name)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}
