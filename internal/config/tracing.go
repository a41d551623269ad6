package config

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Tracing is how a process exports traces, read from the standard
// OpenTelemetry variables (the SDK's environment specification) and the
// Lambda runtime's. With none of them set, tracing is off.
type Tracing struct {
	// Exporter is OTEL_TRACES_EXPORTER: TracesOTLP, TracesConsole or
	// TracesNone. Unset, it is TracesOTLP when an OTLP endpoint is set and
	// TracesNone otherwise, so that tracing costs nothing unless asked
	// for. OTEL_SDK_DISABLED=true makes it TracesNone whatever it says.
	Exporter string
	// Endpoint is the URL spans are posted to over OTLP/HTTP (protobuf):
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or
	// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended; with neither
	// set and Exporter TracesOTLP, http://localhost:4318/v1/traces.
	Endpoint string
	// Headers are OTEL_EXPORTER_OTLP_HEADERS, with
	// OTEL_EXPORTER_OTLP_TRACES_HEADERS over them: key=value pairs,
	// comma separated, values URL-encoded (an Authorization header for a
	// hosted receiver, say). Their values may be secrets: never logged.
	Headers map[string]string
	// ServiceName is OTEL_SERVICE_NAME; empty means the caller's default
	// (the binary's or the Lambda function's name).
	ServiceName string
	// Sampler is OTEL_TRACES_SAMPLER (default parentbased_always_on): one
	// of always_on, always_off, traceidratio, parentbased_always_on,
	// parentbased_always_off, parentbased_traceidratio.
	Sampler string
	// SamplerRatio is OTEL_TRACES_SAMPLER_ARG for the ratio samplers, from
	// 0 to 1 (default 1).
	SamplerRatio float64
	// ExportTimeout is OTEL_EXPORTER_OTLP_TIMEOUT in milliseconds
	// (default 10s): how long one export may take, and how long a
	// shutdown or a flush waits.
	ExportTimeout time.Duration
	// QueueSize is OTEL_BSP_MAX_QUEUE_SIZE (1 to 1048576, default
	// DefaultTraceQueueSize): how many ended spans wait for the exporter
	// before more are dropped.
	QueueSize int
	// ScheduleDelay is OTEL_BSP_SCHEDULE_DELAY in milliseconds (1 to
	// 3600000): the longest an ended span waits for its batch to fill
	// before it is exported anyway; zero when unset (5s).
	ScheduleDelay time.Duration
	// ExportBatchSize is OTEL_BSP_MAX_EXPORT_BATCH_SIZE (1 to 1048576):
	// the most spans one export sends; zero when unset (512, or QueueSize
	// when that is less, as when it is more than QueueSize).
	ExportBatchSize int
	// LambdaFunction is AWS_LAMBDA_FUNCTION_NAME: set inside AWS Lambda,
	// where trace and span IDs are X-Ray's and the function's trace
	// header is the parent of its spans.
	LambdaFunction string
	// Region is AWS_REGION, for the spans' cloud.region inside Lambda.
	Region string
}

// DefaultTraceQueueSize is Tracing.QueueSize when OTEL_BSP_MAX_QUEUE_SIZE
// is unset: eight times the specification's 2048, which an engine with a
// thousand executions in flight on two busy cores overflows (the spans of
// a burst of commits wait while the exporter's goroutine is not run).
const DefaultTraceQueueSize = 16384

// Values of Tracing.Exporter.
const (
	TracesOTLP    = "otlp"
	TracesConsole = "console"
	TracesNone    = "none"
)

// Samplers accepted in OTEL_TRACES_SAMPLER.
const (
	SamplerAlwaysOn                = "always_on"
	SamplerAlwaysOff               = "always_off"
	SamplerTraceIDRatio            = "traceidratio"
	SamplerParentBasedAlwaysOn     = "parentbased_always_on"
	SamplerParentBasedAlwaysOff    = "parentbased_always_off"
	SamplerParentBasedTraceIDRatio = "parentbased_traceidratio"
)

// DefaultOTLPTracesEndpoint is where OTLP/HTTP spans go when the exporter
// is otlp and no endpoint is set: a collector on this machine.
const DefaultOTLPTracesEndpoint = "http://localhost:4318/v1/traces"

// Enabled reports whether spans are exported at all.
func (t Tracing) Enabled() bool { return t.Exporter != TracesNone && t.Exporter != "" }

// LoadTracing reads Tracing from the environment through lookup. Invalid
// variables are reported together in an *Error, with defaults in their
// place (tracing off for a bad exporter or endpoint).
func LoadTracing(lookup LookupFunc) (Tracing, error) {
	r := newReader(lookup)
	t := r.tracing()
	return t, r.err("tracing")
}

// tracing reads the variables of Tracing.
func (r *reader) tracing() Tracing {
	t := Tracing{
		ServiceName:    r.string("OTEL_SERVICE_NAME", ""),
		LambdaFunction: r.string("AWS_LAMBDA_FUNCTION_NAME", ""),
		Region:         r.string("AWS_REGION", ""),
		Sampler: r.enum("OTEL_TRACES_SAMPLER", SamplerParentBasedAlwaysOn, SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatio,
			SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff, SamplerParentBasedTraceIDRatio),
		SamplerRatio:  r.ratio("OTEL_TRACES_SAMPLER_ARG"),
		ExportTimeout: time.Duration(r.int("OTEL_EXPORTER_OTLP_TIMEOUT", 10000, 1, 3600000)) * time.Millisecond,
		QueueSize:     r.int("OTEL_BSP_MAX_QUEUE_SIZE", DefaultTraceQueueSize, 1, 1<<20),
	}
	if _, ok := r.get("OTEL_BSP_SCHEDULE_DELAY"); ok {
		t.ScheduleDelay = time.Duration(r.int("OTEL_BSP_SCHEDULE_DELAY", 5000, 1, 3600000)) * time.Millisecond
	}
	if _, ok := r.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"); ok {
		t.ExportBatchSize = r.int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1, 1<<20)
	}
	endpoint := r.otlpURL("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		if base := r.otlpURL("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	def := TracesNone
	if endpoint != "" {
		def = TracesOTLP
	}
	// Only the first exporter of a list is used: one is all aiflow needs.
	exporter, _, _ := strings.Cut(r.string("OTEL_TRACES_EXPORTER", ""), ",")
	switch strings.ToLower(strings.TrimSpace(exporter)) {
	case "":
		t.Exporter = def
	case TracesOTLP:
		t.Exporter = TracesOTLP
	case TracesConsole:
		t.Exporter = TracesConsole
	case TracesNone:
		t.Exporter = TracesNone
	default:
		r.problem("OTEL_TRACES_EXPORTER", TracesOTLP, "%s is not one of otlp, console, none", strconv.Quote(exporter))
		t.Exporter = TracesNone
	}
	if t.Exporter == TracesOTLP && endpoint == "" {
		endpoint = DefaultOTLPTracesEndpoint
	}
	t.Endpoint = endpoint
	for _, key := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		for k, v := range r.headers(key) {
			if t.Headers == nil {
				t.Headers = map[string]string{}
			}
			t.Headers[k] = v
		}
	}
	if r.bool("OTEL_SDK_DISABLED", false) {
		t.Exporter = TracesNone
	}
	return t
}

// headers reads key=value pairs, comma separated, values URL-encoded.
// A bad pair is a problem that names its position, never its value.
func (r *reader) headers(key string) map[string]string {
	v, ok := r.get(key)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for i, pair := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		dec, err := url.QueryUnescape(strings.TrimSpace(val))
		if !ok || k == "" || err != nil {
			r.problem(key, "Authorization=Bearer%20TOKEN", "pair %d is not key=value with a URL-encoded value", i+1)
			continue
		}
		out[k] = dec
	}
	return out
}

// ratio reads a sampling ratio from 0 to 1 (default 1).
func (r *reader) ratio(key string) float64 {
	v, ok := r.get(key)
	if !ok {
		return 1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		r.problem(key, "0.25", "%s is not a number from 0 to 1", show(key, v))
		return 1
	}
	return f
}

// otlpURL reads an http:// or https:// URL of an OTLP receiver, or "".
func (r *reader) otlpURL(key string) string {
	v, ok := r.get(key)
	if !ok {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.problem(key, "http://localhost:4318", "%s is not an http:// or https:// URL", show(key, v))
		return ""
	}
	return v
}

// LambdaTraceHeader returns _X_AMZN_TRACE_ID, the X-Ray trace header the
// Lambda runtime sets for the invocation under way, or "". It is read per
// invocation, not once: the runtime changes it before each.
func LambdaTraceHeader(lookup LookupFunc) string {
	if lookup == nil {
		return ""
	}
	v, _ := lookup("_X_AMZN_TRACE_ID")
	return strings.TrimSpace(v)
}
