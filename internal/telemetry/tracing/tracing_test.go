package tracing_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/telemetry"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
	"github.com/aiflow/aiflow/internal/telemetry/tracing/tracingtest"
)

func load(t *testing.T, env map[string]string) config.Tracing {
	t.Helper()
	cfg, err := config.LoadTracing(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	return cfg
}

func TestOffWithNoVariables(t *testing.T) {
	t.Parallel()
	p, err := tracing.New(tracing.Params{Config: load(t, nil), ServiceName: "aiflow-test"})
	require.NoError(t, err)
	require.False(t, p.Enabled())
	require.IsType(t, noop.TracerProvider{}, p.TracerProvider())
	require.NoError(t, p.ForceFlush(t.Context()))
	require.NoError(t, p.Shutdown(t.Context()))
}

func TestExportsOverOTLPHTTP(t *testing.T) {
	t.Parallel()
	rcv := tracingtest.NewReceiver(t)
	p, err := tracing.New(tracing.Params{Config: load(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL}), ServiceName: "aiflow-test", ServiceVersion: "v1.2.3"})
	require.NoError(t, err)
	require.True(t, p.Enabled())
	ctx, parent := p.TracerProvider().Tracer("test").Start(t.Context(), "parent")
	_, child := p.TracerProvider().Tracer("test").Start(ctx, "child")
	child.End()
	parent.End()
	require.NoError(t, p.Shutdown(t.Context()))
	require.NoError(t, p.Shutdown(t.Context()), "a second shutdown")

	spans := rcv.Spans()
	require.Empty(t, rcv.Refused())
	require.Len(t, spans, 2)
	byName := map[string]tracingtest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
		require.Equal(t, "aiflow-test", s.Service)
	}
	require.Equal(t, byName["parent"].SpanID(), byName["child"].ParentID())
	require.Equal(t, byName["parent"].TraceID(), byName["child"].TraceID())
}

// TestCountingReceiver: the receiver a benchmark uses keeps how many spans
// each trace had, not the spans.
func TestCountingReceiver(t *testing.T) {
	t.Parallel()
	rcv := tracingtest.NewCountingReceiver(t)
	p, err := tracing.New(tracing.Params{Config: load(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL}), ServiceName: "aiflow-test"})
	require.NoError(t, err)
	tracer := p.TracerProvider().Tracer("test")
	var ids []trace.TraceID
	for n := range 3 {
		ctx, root := tracer.Start(t.Context(), "root")
		for range n {
			_, child := tracer.Start(ctx, "child")
			child.End()
		}
		root.End()
		ids = append(ids, root.SpanContext().TraceID())
	}
	require.NoError(t, p.Shutdown(t.Context()))
	require.Empty(t, rcv.Refused())
	require.Empty(t, rcv.Spans(), "nothing kept")
	require.Equal(t, map[[16]byte]int{ids[0]: 1, ids[1]: 2, ids[2]: 3}, rcv.Traces())
}

func TestConsoleExporter(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p, err := tracing.New(tracing.Params{Config: load(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"}), Console: &out})
	require.NoError(t, err)
	_, span := p.TracerProvider().Tracer("test").Start(t.Context(), "printed")
	span.End()
	require.NoError(t, p.Shutdown(t.Context()))
	require.Contains(t, out.String(), `"Name":"printed"`)
}

// TestWrapLambdaHonoursTheTraceHeader checks that an invocation's span is
// a child of the function's X-Ray trace header, with an X-Ray trace ID,
// and is exported before the invocation returns.
func TestWrapLambdaHonoursTheTraceHeader(t *testing.T) {
	t.Parallel()
	rcv := tracingtest.NewReceiver(t)
	cfg := load(t, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": rcv.URL + "/v1/traces", "AWS_LAMBDA_FUNCTION_NAME": "aiflow-aistep", "AWS_REGION": "eu-west-1"})
	p, err := tracing.New(tracing.Params{Config: cfg})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })

	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	var inner trace.SpanContext
	h := tracing.WrapLambda(tracing.LambdaParams{Provider: p, LookupFunc: func(k string) (string, bool) {
		if k == "_X_AMZN_TRACE_ID" {
			return header, true
		}
		return "", false
	}}, func(ctx context.Context, in string) (string, error) {
		inner = trace.SpanContextFromContext(ctx)
		_, span := p.TracerProvider().Tracer("test").Start(ctx, "work")
		span.End()
		return in + "!", nil
	})
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1", InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:aiflow-aistep"})
	out, err := h(ctx, "hi")
	require.NoError(t, err)
	require.Equal(t, "hi!", out)
	require.Equal(t, "5759e988bd862e3fe1be46a994272793", inner.TraceID().String())

	spans := rcv.Spans() // flushed before h returned
	require.Len(t, spans, 2)
	for _, s := range spans {
		require.Equal(t, "5759e988bd862e3fe1be46a994272793", s.TraceID())
		require.Equal(t, "aiflow-aistep", s.Service)
		if s.Name != "work" {
			require.Equal(t, "53995c3f42cd8ad8", s.ParentID())
			id, _ := s.Attr("faas.invocation_id")
			require.Equal(t, "req-1", id)
		}
	}

	// A trace of its own has an X-Ray trace ID: its first 8 hex digits
	// are the epoch seconds.
	_, root := p.TracerProvider().Tracer("test").Start(t.Context(), "root")
	root.End()
	require.Equal(t, telemetry.XRayHeader(trace.ContextWithSpan(t.Context(), root))[7:15], root.SpanContext().TraceID().String()[:8])
}

func TestWrapLambdaWhenOffIsTheHandler(t *testing.T) {
	t.Parallel()
	p, err := tracing.New(tracing.Params{Config: load(t, nil)})
	require.NoError(t, err)
	calls := 0
	h := func(context.Context, int) (int, error) { calls++; return 1, nil }
	w := tracing.WrapLambda(tracing.LambdaParams{Provider: p}, h)
	_, _ = w(t.Context(), 0)
	require.Equal(t, 1, calls)
}

func TestSamplerAlwaysOffExportsNothing(t *testing.T) {
	t.Parallel()
	rcv := tracingtest.NewReceiver(t)
	p, err := tracing.New(tracing.Params{Config: load(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_TRACES_SAMPLER": "always_off"})})
	require.NoError(t, err)
	_, span := p.TracerProvider().Tracer("test").Start(t.Context(), "dropped")
	require.False(t, span.IsRecording())
	span.End()
	require.NoError(t, p.Shutdown(t.Context()))
	require.Empty(t, rcv.Spans())
}

func attr(key string, v int) attribute.KeyValue { return attribute.Int(key, v) }

// TestOTLPExportRetriesAndSendsHeaders: a receiver that is busy (503)
// gets the spans again; the configured headers go with every request.
func TestOTLPExportRetriesAndSendsHeaders(t *testing.T) {
	t.Parallel()
	rcv := tracingtest.NewReceiver(t)
	var calls atomic.Int64
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		proxy := httputil.NewSingleHostReverseProxy(mustParse(t, rcv.URL))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p, err := tracing.New(tracing.Params{Config: load(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20abc"})})
	require.NoError(t, err)
	_, span := p.TracerProvider().Tracer("test").Start(t.Context(), "retried", trace.WithAttributes(attribute.StringSlice("list", []string{"a", "b"}), attribute.Bool("b", true), attribute.Float64("f", 1.5)))
	span.End()
	require.NoError(t, p.Shutdown(t.Context()))
	require.Equal(t, int64(2), calls.Load())
	require.Equal(t, "Bearer abc", auth.Load())
	spans := rcv.Spans()
	require.Len(t, spans, 1)
	list, _ := spans[0].Attr("list")
	require.Equal(t, "a,b", list)
	b, _ := spans[0].Attr("b")
	require.Equal(t, "true", b)
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
