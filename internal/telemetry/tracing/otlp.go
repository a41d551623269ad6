package tracing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// otlpExporter posts spans to an OTLP/HTTP receiver as a protobuf
// ExportTraceServiceRequest. It is aiflow's own rather than the
// otlptracehttp package's because that one links gRPC (for configuration
// shared with the gRPC exporter), whose html/template dependency turns off
// the linker's removal of unused methods: the ai step function doubled in
// size. The request is written with protowire (see appendSpans) into a
// buffer kept from one export to the next.
type otlpExporter struct {
	url     string
	headers map[string]string
	client  *http.Client
	// bufs are the buffers of the last requests, each written again only
	// once the transport has closed every body made of it (it closes one
	// after Do returns, often after the next export has begun: hence a
	// few). The batcher calls ExportSpans from one goroutine at a time.
	mu   sync.Mutex
	bufs []*exportBuffer
}

// exportBuffer is a request's buffer and the count of its bodies open.
type exportBuffer struct {
	b   []byte
	use bufferUse
}

// keptBuffers bounds otlpExporter.bufs: more requests still open than
// that (a stuck transport) get buffers of their own, left to the
// collector.
const keptBuffers = 4

// buffer returns a buffer no open body reads.
func (e *otlpExporter) buffer() *exportBuffer {
	for _, eb := range e.bufs {
		if eb.use.open.Load() == 0 {
			return eb
		}
	}
	eb := &exportBuffer{}
	if len(e.bufs) < keptBuffers {
		e.bufs = append(e.bufs, eb)
	}
	return eb
}

// bufferUse counts the request bodies of a buffer still open.
type bufferUse struct{ open atomic.Int32 }

// requestBody is a request's body, over the exporter's buffer, that says
// when the transport is done with it.
type requestBody struct {
	bytes.Reader
	use  *bufferUse
	once sync.Once
}

func newRequestBody(b []byte, use *bufferUse) *requestBody {
	use.open.Add(1)
	rb := &requestBody{use: use}
	rb.Reset(b)
	return rb
}

// Close marks the body done with.
func (rb *requestBody) Close() error {
	rb.once.Do(func() { rb.use.open.Add(-1) })
	return nil
}

// newOTLPExporter returns an exporter posting to url (the whole traces
// endpoint) with headers, each request bounded by timeout.
func newOTLPExporter(url string, headers map[string]string, timeout time.Duration) *otlpExporter {
	return &otlpExporter{url: url, headers: headers, client: &http.Client{Timeout: timeout}}
}

// Retry bounds of an export the receiver refused for the moment.
const (
	otlpAttempts     = 4
	otlpFirstBackoff = 100 * time.Millisecond
)

// ExportSpans posts spans, again after a short wait (while ctx allows)
// when the receiver is unreachable or answers 429, 502, 503 or 504, as the
// OTLP specification asks. Any other answer but 2xx is an error.
func (e *otlpExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	eb := e.buffer()
	body := appendSpans(eb.b[:0], spans)
	eb.b = body
	backoff := otlpFirstBackoff
	for attempt := 1; ; attempt++ {
		retry, err := e.post(ctx, body, &eb.use)
		if err == nil || !retry || attempt == otlpAttempts {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// post sends one request; retry says whether another may succeed.
func (e *otlpExporter) post(ctx context.Context, body []byte, use *bufferUse) (retry bool, err error) {
	rb := newRequestBody(body, use)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, rb)
	if err != nil {
		rb.Close()
		return false, fmt.Errorf("exporting spans to %s: %w", e.url, err)
	}
	// As for a *bytes.Reader body: a known length, and a copy for the
	// transport to send again.
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return newRequestBody(body, use), nil }
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("exporting spans to %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	// The answer (an ExportTraceServiceResponse, maybe a partial
	// success) is read to reuse the connection, within a bound.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		retry = true
	}
	return retry, fmt.Errorf("exporting spans to %s: %s: %s", e.url, resp.Status, bytes.TrimSpace(msg[:min(len(msg), 512)]))
}

// Shutdown does nothing: the exporter holds only idle connections.
func (e *otlpExporter) Shutdown(context.Context) error {
	e.client.CloseIdleConnections()
	return nil
}

// errNoEndpoint is New's error for an OTLP exporter without an endpoint,
// which config.LoadTracing never returns.
var errNoEndpoint = errors.New("making the OTLP trace exporter: no endpoint")
