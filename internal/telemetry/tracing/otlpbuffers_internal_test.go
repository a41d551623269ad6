package tracing

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestTheOTLPExporterReusesItsBuffersSafely: exports one after another,
// each written into a buffer of an earlier one once the transport is done
// with it, arrive each as it was encoded, and the exporter keeps a few
// buffers at most.
func TestTheOTLPExporterReusesItsBuffersSafely(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					got = append(got, s.Name)
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	exp := newOTLPExporter(srv.URL+"/v1/traces", nil, 10*time.Second)
	t.Cleanup(func() { _ = exp.Shutdown(t.Context()) })
	sink := &spanSink{res: resource.Empty(), scope: instrumentation.Scope{Name: "t"}}
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	var want []string
	for i := range 40 {
		var spans []sdktrace.ReadOnlySpan
		for j := range i%5 + 1 { // requests of different lengths
			name := fmt.Sprintf("span %d.%d", i, j)
			want = append(want, name)
			spans = append(spans, &endedSpan{sink: sink, name: name, start: at, end: at,
				sc: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{byte(i + 1), byte(j + 1)}, TraceFlags: trace.FlagsSampled})})
		}
		require.NoError(t, exp.ExportSpans(t.Context(), spans))
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, want, got)
	require.LessOrEqual(t, len(exp.bufs), keptBuffers)
}
