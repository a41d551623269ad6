package egress

import (
	"errors"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// tracerName names the tracer of the guard's client spans.
const tracerName = "github.com/aiflow/aiflow/internal/egress"

// clientTracing makes the HTTP client spans of the guard's requests.
type clientTracing struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func newClientTracing(tp trace.TracerProvider, p propagation.TextMapPropagator) clientTracing {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if p == nil {
		p = otel.GetTextMapPropagator()
	}
	return clientTracing{tracer: tp.Tracer(tracerName), propagator: p}
}

// roundTrip sends req through next in a client span, as the HTTP semantic
// conventions describe one ("POST", http.request.method, url.full,
// server.address, http.response.status_code), with the span's trace
// context in the request's headers. Only a request inside a trace is
// traced: the health checks' requests start none of their own.
func (c clientTracing) roundTrip(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	ctx := req.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return next(req)
	}
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", req.Method),
		attribute.String("url.full", req.URL.Redacted()),
		attribute.String("server.address", host),
	}
	if n, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, attribute.Int("server.port", n))
	}
	ctx, span := c.tracer.Start(ctx, req.Method, telemetry.ClientSpan, trace.WithAttributes(attrs...))
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		req = req.Clone(ctx)
		c.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	resp, err := next(req)
	if err != nil {
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}

// errorType names a failed request's error class for error.type.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "_OTHER"
}
