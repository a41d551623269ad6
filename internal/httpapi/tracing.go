package httpapi

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// tracerName names the tracer of the API's request spans.
const tracerName = "github.com/aiflow/aiflow/internal/httpapi"

// serverTracing is what the request spans need: Options.TracerProvider's
// tracer and Options.Propagator, the process's globals by default.
type serverTracing struct {
	provider   trace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func newServerTracing(tp trace.TracerProvider, p propagation.TextMapPropagator) serverTracing {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if p == nil {
		p = otel.GetTextMapPropagator()
	}
	return serverTracing{provider: tp, tracer: tp.Tracer(tracerName), propagator: p}
}

// start begins the server span of a request, as the HTTP semantic
// conventions name it ("POST /v1/workflows/{name}/executions"), the child
// of the trace context the caller sent (traceparent, X-Amzn-Trace-Id). A
// request no route takes is named by its method alone. When the provider
// records nothing (telemetry.MayRecord), the span is the caller's trace
// context alone, as the provider's would be, without its name and
// attributes.
func (t serverTracing) start(r *http.Request, pattern string) (*http.Request, trace.Span) {
	parent := r.Context()
	ctx := t.propagator.Extract(parent, propagation.HeaderCarrier(r.Header))
	if !telemetry.MayRecord(t.provider) {
		if ctx != parent {
			r = r.WithContext(ctx)
		}
		return r, trace.SpanFromContext(ctx)
	}
	_, route, _ := strings.Cut(pattern, " ")
	name := r.Method
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", r.Method),
		attribute.String("url.path", r.URL.Path),
		attribute.String("url.scheme", scheme(r)),
	}
	if route != "" {
		name += " " + route
		attrs = append(attrs, attribute.String("http.route", route))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, attribute.String("user_agent.original", ua))
	}
	ctx, span := t.tracer.Start(ctx, name, telemetry.ServerSpan, trace.WithAttributes(attrs...))
	return r.WithContext(ctx), span
}

// end records the response's status; a 5xx is the span's error, a 4xx the
// caller's (the conventions leave a server span unset for it).
func (serverTracing) end(span trace.Span, status int) {
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
