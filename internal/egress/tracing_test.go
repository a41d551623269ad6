package egress_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/egress"
)

// TestRequestsInsideATraceAreClientSpans: a request made inside a trace
// is a client span whose context travels in the request's headers; one
// made outside any trace (a health check) starts none.
func TestRequestsInsideATraceAreClientSpans(t *testing.T) {
	t.Parallel()
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	g := egress.New(egress.Config{TracerProvider: tp, Propagator: propagation.TraceContext{}})
	client := g.Client(egress.Policy{AllowPrivate: true})

	ctx, parent := tp.Tracer("test").Start(t.Context(), "step")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/enrich?x=1", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	parent.End()
	header := <-got

	req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/health", nil)
	require.NoError(t, err)
	resp, err = client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Empty(t, <-got)

	spans := rec.Ended()
	require.Len(t, spans, 2)
	span := spans[0]
	require.Equal(t, "POST", span.Name())
	require.Equal(t, parent.SpanContext().SpanID(), span.Parent().SpanID())
	require.Equal(t, "00-"+span.SpanContext().TraceID().String()+"-"+span.SpanContext().SpanID().String()+"-01", header)
	require.Contains(t, span.Attributes(), attribute.String("http.request.method", "POST"))
	require.Contains(t, span.Attributes(), attribute.String("url.full", srv.URL+"/enrich?x=1"))
	require.Contains(t, span.Attributes(), attribute.String("server.address", "127.0.0.1"))
	require.Contains(t, span.Attributes(), attribute.Int("http.response.status_code", http.StatusTeapot))
}
