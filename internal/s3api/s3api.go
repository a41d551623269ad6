// Package s3api serves a small part of the Amazon S3 REST API over a
// folder: PutObject, GetObject, HeadObject and DeleteObject on objects
// addressed path-style (http://host/bucket/key), what the blob store of
// large step results (internal/blob/s3blob) uses. `aiflow stack` serves it
// to the functions through AWS_ENDPOINT_URL_S3, so they run with the S3
// client they use on AWS.
//
// Bodies come plain or aws-chunked (as the AWS SDKs send them over TLS,
// with trailing checksums); the payload's SHA-256 (x-amz-content-sha256),
// Content-MD5 and the x-amz-checksum-crc32, -crc32c, -sha1 and -sha256
// checksums are checked when sent, as S3 checks them. Requests are not
// authenticated: any credentials are accepted, as by the stack's other
// AWS APIs. Anything else (listing, multipart uploads, ranges, versions,
// tagging) is answered NotImplemented.
package s3api

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aiflow/aiflow/internal/atomicfile"
)

// DefaultMaxObjectBytes is Options.MaxObjectBytes when unset.
const DefaultMaxObjectBytes = 64 << 20

// Options configure NewHandler.
type Options struct {
	// Dir is the folder the objects are kept in, made on first use.
	// Required.
	Dir string
	// Buckets are the buckets that exist; a request for another is
	// answered NoSuchBucket.
	Buckets []string
	// MaxObjectBytes bounds an object: 0 means DefaultMaxObjectBytes.
	MaxObjectBytes int64
	// NowFunc is the clock of Last-Modified; nil means time.Now.
	NowFunc func() time.Time
	// Logger receives the requests refused for a reason of the server's
	// (a folder that cannot be written); nil discards.
	Logger *slog.Logger
}

// Handler serves the S3 API.
type Handler struct {
	o   Options
	seq atomic.Int64
}

// NewHandler returns the handler. It returns an error when Dir is empty.
func NewHandler(o Options) (*Handler, error) {
	if o.Dir == "" {
		return nil, errors.New("making the S3 API: Options.Dir is required")
	}
	if o.MaxObjectBytes <= 0 {
		o.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if o.NowFunc == nil {
		o.NowFunc = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{o: o}, nil
}

// s3Error is the XML body of an error answer.
type s3Error struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Key        string   `xml:"Key,omitempty"`
	BucketName string   `xml:"BucketName,omitempty"`
	RequestID  string   `xml:"RequestId"`
}

// meta is what is kept of an object beside its body.
type meta struct {
	Key         string    `json:"key"`
	ContentType string    `json:"content_type"`
	ETag        string    `json:"etag"`
	Modified    time.Time `json:"modified"`
	Size        int64     `json:"size"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := fmt.Sprintf("AIFLOW%010d", h.seq.Add(1))
	w.Header().Set("x-amz-request-id", reqID)
	fail := func(status int, e s3Error) {
		e.RequestID = reqID
		if r.Method == http.MethodHead {
			w.WriteHeader(status)
			return
		}
		body, _ := xml.Marshal(e)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, xml.Header)
		_, _ = w.Write(body)
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !slices.Contains(h.o.Buckets, bucket) {
		fail(http.StatusNotFound, s3Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist", BucketName: bucket})
		return
	}
	for q := range r.URL.Query() {
		if q != "x-id" { // the SDKs name the operation in x-id
			key = ""
		}
	}
	if key == "" || r.Header.Get("Range") != "" {
		fail(http.StatusNotImplemented, s3Error{Code: "NotImplemented", Message: "A header or query you provided implies functionality that is not implemented"})
		return
	}
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			fail(http.StatusNotImplemented, s3Error{Code: "NotImplemented", Message: "CopyObject is not implemented"})
			return
		}
		h.put(w, r, bucket, key, fail)
	case http.MethodGet, http.MethodHead:
		h.get(w, r, bucket, key, fail)
	case http.MethodDelete:
		if err := os.Remove(h.path(bucket, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			h.o.Logger.Error("deleting an object", "bucket", bucket, "key", key, "error", err)
			fail(http.StatusInternalServerError, s3Error{Code: "InternalError", Message: "We encountered an internal error. Please try again."})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(http.StatusMethodNotAllowed, s3Error{Code: "MethodNotAllowed", Message: "The specified method is not allowed against this resource."})
	}
}

// path is where an object is kept: one file per object, named by the
// hash of its key, so that no key ("a" and "a/b", "../x") can clash with
// another or leave the folder.
func (h *Handler) path(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(h.o.Dir, bucket, hex.EncodeToString(sum[:]))
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request, bucket, key string, fail func(int, s3Error)) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 2*h.o.MaxObjectBytes+1<<20))
	if err != nil {
		fail(http.StatusBadRequest, s3Error{Code: "IncompleteBody", Message: "You did not provide the number of bytes specified by the Content-Length HTTP header."})
		return
	}
	body, trailers := raw, map[string]string{}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		if body, trailers, err = DecodeAWSChunked(raw); err != nil {
			fail(http.StatusBadRequest, s3Error{Code: "IncompleteBody", Message: "The aws-chunked body is malformed: " + err.Error()})
			return
		}
		if d := r.Header.Get("X-Amz-Decoded-Content-Length"); d != "" && d != strconv.Itoa(len(body)) {
			fail(http.StatusBadRequest, s3Error{Code: "IncompleteBody", Message: "The decoded length does not match x-amz-decoded-content-length."})
			return
		}
	} else if len(payloadHash) == 64 {
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != payloadHash {
			fail(http.StatusBadRequest, s3Error{Code: "XAmzContentSHA256Mismatch", Message: "The provided 'x-amz-content-sha256' header does not match what was computed."})
			return
		}
	}
	if int64(len(body)) > h.o.MaxObjectBytes {
		fail(http.StatusBadRequest, s3Error{Code: "EntityTooLarge", Message: fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d bytes.", h.o.MaxObjectBytes)})
		return
	}
	if md := r.Header.Get("Content-Md5"); md != "" {
		if sum := md5.Sum(body); base64.StdEncoding.EncodeToString(sum[:]) != md {
			fail(http.StatusBadRequest, s3Error{Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received."})
			return
		}
	}
	if _, bad := CheckChecksums(r.Header, trailers, body); bad != "" {
		fail(http.StatusBadRequest, s3Error{Code: "BadDigest", Message: fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToUpper(strings.TrimPrefix(bad, "x-amz-checksum-")))})
		return
	}
	sum := md5.Sum(body)
	m := meta{Key: key, ContentType: r.Header.Get("Content-Type"), ETag: `"` + hex.EncodeToString(sum[:]) + `"`,
		Modified: h.o.NowFunc().UTC().Truncate(time.Second), Size: int64(len(body))}
	if m.ContentType == "" {
		m.ContentType = "binary/octet-stream"
	}
	if err := h.write(bucket, m, body); err != nil {
		h.o.Logger.Error("storing an object", "bucket", bucket, "key", key, "error", err)
		fail(http.StatusInternalServerError, s3Error{Code: "InternalError", Message: "We encountered an internal error. Please try again."})
		return
	}
	w.Header().Set("ETag", m.ETag)
	w.WriteHeader(http.StatusOK)
}

// write keeps an object as one file, its meta on the first line: written
// whole or not at all.
func (h *Handler) write(bucket string, m meta, body []byte) error {
	p := h.path(bucket, m.Key)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	head, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, slices.Concat(head, []byte("\n"), body), 0o640)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, bucket, key string, fail func(int, s3Error)) {
	raw, err := os.ReadFile(h.path(bucket, key))
	var m meta
	var body []byte
	if err == nil {
		head, rest, ok := bytes.Cut(raw, []byte("\n"))
		if !ok || json.Unmarshal(head, &m) != nil || m.Key != key {
			err = fmt.Errorf("the file of %s/%s is not an object's", bucket, key)
		}
		body = rest
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fail(http.StatusNotFound, s3Error{Code: "NoSuchKey", Message: "The specified key does not exist.", Key: key})
		return
	case err != nil:
		h.o.Logger.Error("reading an object", "bucket", bucket, "key", key, "error", err)
		fail(http.StatusInternalServerError, s3Error{Code: "InternalError", Message: "We encountered an internal error. Please try again."})
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", m.ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("ETag", m.ETag)
	hd.Set("Last-Modified", m.Modified.Format(http.TimeFormat))
	hd.Set("Accept-Ranges", "bytes")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// checksums compute the x-amz-checksum-* values S3 checks.
var checksums = map[string]func([]byte) []byte{
	"x-amz-checksum-crc32": func(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)) },
	"x-amz-checksum-crc32c": func(b []byte) []byte {
		return binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	},
	"x-amz-checksum-sha1": func(b []byte) []byte {
		s := sha1.Sum(b)
		return s[:]
	},
	"x-amz-checksum-sha256": func(b []byte) []byte {
		s := sha256.Sum256(b)
		return s[:]
	},
}

// CheckChecksums checks the x-amz-checksum-* values a PUT gives, in its
// headers or in the trailers of its aws-chunked body, against body, as S3
// does. It returns the values given, by header name, and the header name
// of the first that does not match ("" when all do).
func CheckChecksums(h http.Header, trailers map[string]string, body []byte) (given map[string]string, mismatch string) {
	given = map[string]string{}
	names := make([]string, 0, len(checksums))
	for name := range checksums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := h.Get(name)
		if v == "" {
			v = trailers[name]
		}
		if v == "" {
			continue
		}
		if base64.StdEncoding.EncodeToString(checksums[name](body)) != v {
			return given, name
		}
		given[name] = v
	}
	return given, ""
}

// DecodeAWSChunked decodes an aws-chunked body: chunks of
// "hex-size[;chunk-signature=...]\r\n" data "\r\n", a zero-size chunk,
// then trailer lines "name:value\r\n" and an empty line (the empty line
// may be missing when there are no trailers). Data after the trailers is
// an error.
func DecodeAWSChunked(raw []byte) ([]byte, map[string]string, error) {
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
		if errors.Is(err, io.EOF) && line == "" {
			break
		}
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
