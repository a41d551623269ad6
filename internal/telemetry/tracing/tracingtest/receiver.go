// Package tracingtest is a real OTLP/HTTP trace receiver for tests: it
// serves POST /v1/traces on loopback, decodes each protobuf
// ExportTraceServiceRequest and keeps its spans (or, for a benchmark, only
// how many each trace had).
package tracingtest

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one span received, with its service's name.
type Span struct {
	Service string
	*tracepb.Span
}

// TraceID is the span's trace ID in hex.
func (s Span) TraceID() string { return hex.EncodeToString(s.Span.TraceId) }

// SpanID is the span's ID in hex.
func (s Span) SpanID() string { return hex.EncodeToString(s.Span.SpanId) }

// ParentID is the span's parent's ID in hex, "" for a root.
func (s Span) ParentID() string { return hex.EncodeToString(s.Span.ParentSpanId) }

// Attr returns the string form of an attribute's value, and whether the
// span has it.
func (s Span) Attr(key string) (string, bool) { return attr(s.Attributes, key) }

func attr(kvs []*commonpb.KeyValue, key string) (string, bool) {
	for _, kv := range kvs {
		if kv.Key != key {
			continue
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue, true
		case *commonpb.AnyValue_IntValue:
			return strconv.FormatInt(v.IntValue, 10), true
		case *commonpb.AnyValue_BoolValue:
			if v.BoolValue {
				return "true", true
			}
			return "false", true
		case *commonpb.AnyValue_ArrayValue:
			var b bytes.Buffer
			for i, e := range v.ArrayValue.Values {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(e.GetStringValue())
			}
			return b.String(), true
		}
		return kv.Value.String(), true
	}
	return "", false
}

// Receiver is an OTLP/HTTP trace receiver on loopback.
type Receiver struct {
	// URL is the receiver's base URL, the value of
	// OTEL_EXPORTER_OTLP_ENDPOINT; spans are posted to URL+"/v1/traces".
	URL string

	mu    sync.Mutex
	spans []Span
	bad   []string
	// traces, made by NewCountingReceiver, is how many spans each trace
	// had, kept in place of the spans.
	traces map[[16]byte]int
}

// NewReceiver starts a Receiver that stops when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	return startReceiver(t, &Receiver{})
}

// NewCountingReceiver starts a Receiver that decodes every request as
// NewReceiver's does but keeps only how many spans each trace had (see
// Traces), for a benchmark that exports more spans than are worth
// keeping. Its Spans is empty.
func NewCountingReceiver(t testing.TB) *Receiver {
	t.Helper()
	return startReceiver(t, &Receiver{traces: map[[16]byte]int{}})
}

func startReceiver(t testing.TB, r *Receiver) *Receiver {
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		r.fail(req.Method + " " + req.URL.Path + " " + req.Header.Get("Content-Type"))
		http.Error(w, "POST /v1/traces with application/x-protobuf only", http.StatusBadRequest)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			r.fail("gzip: " + err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &in); err != nil {
		r.fail("decoding: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got []Span
	for _, rs := range in.ResourceSpans {
		service, _ := attr(rs.GetResource().GetAttributes(), "service.name")
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				got = append(got, Span{Service: service, Span: s})
			}
		}
	}
	r.mu.Lock()
	if r.traces != nil {
		for _, s := range got {
			if len(s.Span.TraceId) != 16 {
				r.bad = append(r.bad, "a trace ID of "+strconv.Itoa(len(s.Span.TraceId))+" bytes")
				continue
			}
			r.traces[[16]byte(s.Span.TraceId)]++
		}
	} else {
		r.spans = append(r.spans, got...)
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *Receiver) fail(what string) {
	r.mu.Lock()
	r.bad = append(r.bad, what)
	r.mu.Unlock()
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Traces returns how many spans each trace had, by the traces' IDs, of a
// receiver made by NewCountingReceiver.
func (r *Receiver) Traces() map[[16]byte]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.traces)
}

// Refused returns the requests the receiver could not decode.
func (r *Receiver) Refused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}
