// Package tracing sets up OpenTelemetry tracing for an aiflow process: a
// tracer provider chosen by the standard OTEL_* variables (read by
// config.LoadTracing), exporting over OTLP/HTTP (protobuf) or to the
// console, with the W3C and AWS X-Ray propagators. Inside AWS Lambda it
// uses X-Ray's trace ID generator and honours the function's trace header
// as the parent of an invocation's spans (see WrapLambda), and flushes
// before each invocation returns.
//
// With no variable set, tracing is off and costs nothing: Setup installs a
// no-op tracer provider and starts no goroutine, and the instrumented
// packages (httpapi, control, steps, the engine's state spans) create only
// no-op spans.
//
// The instrumentation itself lives with the code it observes and uses the
// OpenTelemetry API only (go.opentelemetry.io/otel/trace); this package
// is the one place that links the SDK and the exporters.
package tracing

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/aiflow/aiflow/internal/config"
)

// Params configures New and Setup.
type Params struct {
	// Config is what config.LoadTracing read.
	Config config.Tracing
	// ServiceName names the process in its spans when
	// Config.ServiceName is empty, such as "aiflow-dev"; inside Lambda
	// the function's name is used instead.
	ServiceName string
	// ServiceVersion is the build's version, as service.version.
	ServiceVersion string
	// Exporter, if set, receives the spans in place of the one Config
	// names, and tracing is on whatever Config says (tests, benchmarks).
	Exporter sdktrace.SpanExporter
	// Console is where the console exporter writes; nil means os.Stderr.
	Console io.Writer
	// Logger receives export errors; nil discards them.
	Logger *slog.Logger
}

// Provider is a process's tracer provider. Its zero value is not usable;
// New and Setup make one.
type Provider struct {
	tp      trace.TracerProvider
	sdk     *sdktrace.TracerProvider // nil when tracing is off
	sink    *spanSink                // the spans aiflow builds whole; nil when off
	batch   *batcher                 // the sink's processor; nil when off
	live    *liveProvider            // aiflow's tracers; nil when off or the SDK's are used
	timeout time.Duration
	lambda  bool
}

// New returns a Provider as Params configure it, without installing it
// as the OpenTelemetry global (Setup does). When tracing is off it is a
// no-op provider with nothing running. It returns an error when the
// exporter cannot be made (a malformed endpoint).
func New(p Params) (*Provider, error) {
	cfg := p.Config
	timeout := cfg.ExportTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	pr := &Provider{tp: noop.NewTracerProvider(), timeout: timeout, lambda: cfg.LambdaFunction != ""}
	exp := p.Exporter
	if exp == nil {
		var err error
		if exp, err = newExporter(p); err != nil {
			return nil, err
		}
	}
	if exp == nil {
		return pr, nil
	}
	name := cfg.ServiceName
	switch {
	case name != "":
	case cfg.LambdaFunction != "":
		name = cfg.LambdaFunction
	default:
		name = p.ServiceName
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if p.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", p.ServiceVersion))
	}
	if cfg.LambdaFunction != "" {
		attrs = append(attrs, attribute.String("cloud.provider", "aws"), attribute.String("cloud.platform", "aws_lambda"),
			attribute.String("faas.name", cfg.LambdaFunction))
		if cfg.Region != "" {
			attrs = append(attrs, attribute.String("cloud.region", cfg.Region))
		}
	}
	// The provider's parts are kept for the spans aiflow builds whole
	// (spanSink), which go to the same batcher.
	// The resource is the one the SDK makes of it (merged under
	// OTEL_RESOURCE_ATTRIBUTES), so the sink's spans carry the same.
	res, err := resource.Merge(resource.Environment(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("making the trace resource: %w", err)
	}
	_, recycle := exp.(ForgetfulExporter)
	if recycle {
		exp = recyclingExporter{SpanExporter: exp}
	}
	batch := newBatcher(batcherParams{Exporter: exp, Timeout: timeout, QueueSize: queueSize(cfg), ScheduleDelay: cfg.ScheduleDelay, BatchSize: cfg.ExportBatchSize})
	sink := &spanSink{
		recycle: recycle,
		proc:    batch,
		res:     res,
		scope:   instrumentation.Scope{Name: tracerName},
		sampler: sampler(cfg),
		ids:     randomIDs{},
	}
	switch cfg.Sampler { // sampler's default case
	case config.SamplerAlwaysOn, config.SamplerAlwaysOff, config.SamplerTraceIDRatio,
		config.SamplerParentBasedAlwaysOff, config.SamplerParentBasedTraceIDRatio:
	default:
		sink.parentBasedOn = true
	}
	if pr.lambda {
		// X-Ray wants the trace ID to start with the epoch seconds.
		sink.ids = xray.NewIDGenerator()
	}
	pr.sdk = sdktrace.NewTracerProvider(sdktrace.WithResource(sink.res), sdktrace.WithSampler(sink.sampler),
		sdktrace.WithSpanProcessor(sink.proc), sdktrace.WithIDGenerator(sink.ids))
	pr.tp, pr.sink, pr.batch = pr.sdk, sink, batch
	// aiflow's own tracers (live.go) make the spans, unless the limits
	// ask values to be truncated, which only the SDK's tracer does.
	if limits := sdktrace.NewSpanLimits(); limits.AttributeValueLengthLimit < 0 {
		pr.live = &liveProvider{sink: sink, limits: limits}
		pr.tp = pr.live
	}
	return pr, nil
}

// queueSize is the batcher's queue: Config's, or config's default when
// Config was not read from the environment (tests, benchmarks).
func queueSize(cfg config.Tracing) int {
	if cfg.QueueSize > 0 {
		return cfg.QueueSize
	}
	return config.DefaultTraceQueueSize
}

// newExporter makes the exporter Config names, or nil for none.
func newExporter(p Params) (sdktrace.SpanExporter, error) {
	switch p.Config.Exporter {
	case config.TracesOTLP:
		if p.Config.Endpoint == "" {
			return nil, errNoEndpoint
		}
		timeout := p.Config.ExportTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		return newOTLPExporter(p.Config.Endpoint, p.Config.Headers, timeout), nil
	case config.TracesConsole:
		w := p.Console
		if w == nil {
			w = os.Stderr
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
		if err != nil {
			return nil, fmt.Errorf("making the console trace exporter: %w", err)
		}
		return exp, nil
	}
	return nil, nil
}

// sampler is the sampler Config names.
func sampler(cfg config.Tracing) sdktrace.Sampler {
	switch cfg.Sampler {
	case config.SamplerAlwaysOn:
		return sdktrace.AlwaysSample()
	case config.SamplerAlwaysOff:
		return sdktrace.NeverSample()
	case config.SamplerTraceIDRatio:
		return sdktrace.TraceIDRatioBased(cfg.SamplerRatio)
	case config.SamplerParentBasedAlwaysOff:
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case config.SamplerParentBasedTraceIDRatio:
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SamplerRatio))
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

// Propagator is the propagator aiflow uses everywhere: W3C trace context
// and baggage, and X-Ray's X-Amzn-Trace-Id, which Step Functions, SQS
// (AWSTraceHeader), API Gateway and Lambda carry.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}, xray.Propagator{})
}

// Setup returns New's Provider and installs it and Propagator as the
// OpenTelemetry globals, which the instrumented packages use unless given
// a provider of their own. Export errors go to Params.Logger.
func Setup(p Params) (*Provider, error) {
	pr, err := New(p)
	if err != nil {
		return nil, err
	}
	otel.SetTracerProvider(pr.tp)
	otel.SetTextMapPropagator(Propagator())
	if p.Logger != nil {
		logger := p.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("exporting traces", "error", err)
		}))
	}
	return pr, nil
}

// Enabled reports whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p.sdk != nil }

// DroppedSpans is how many ended spans the batch processor dropped
// because its queue (OTEL_BSP_MAX_QUEUE_SIZE) was full: 0 when tracing is
// off. Each drop is also reported through otel.Handle after the next
// export (Setup's Logger logs it).
func (p *Provider) DroppedSpans() int64 {
	if p.batch == nil {
		return 0
	}
	return p.batch.dropped.Load()
}

// TracerProvider is the provider to make tracers from: a no-op one when
// tracing is off.
func (p *Provider) TracerProvider() trace.TracerProvider { return p.tp }

// ForceFlush exports the spans ended so far, waiting at most the export
// timeout (less if ctx ends sooner). It does nothing when tracing is off.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if err := p.sdk.ForceFlush(ctx); err != nil {
		return fmt.Errorf("flushing spans: %w", err)
	}
	return nil
}

// Shutdown exports what is left and stops the exporter's goroutine,
// waiting at most the export timeout (less if ctx ends sooner). It does
// nothing when tracing is off; a second call does nothing either.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	if p.live != nil {
		p.live.shutdown.Store(true)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutting down tracing (waiting at most %s for the last spans): %w", p.timeout, err)
	}
	return nil
}

// SetupFromEnv is Setup with the configuration config.LoadTracing reads
// through lookup: what a Lambda function's main calls once per cold
// start, before wrapping its handler with WrapLambda. service names the
// process when neither OTEL_SERVICE_NAME nor AWS_LAMBDA_FUNCTION_NAME is
// set. It returns config.LoadTracing's *config.Error for bad variables.
func SetupFromEnv(lookup config.LookupFunc, service string, logger *slog.Logger) (*Provider, error) {
	cfg, err := config.LoadTracing(lookup)
	if err != nil {
		return nil, err
	}
	return Setup(Params{Config: cfg, ServiceName: service, Logger: logger})
}
