package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
)

func TestLoadTracing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want config.Tracing
	}{
		{name: "nothing set is off", env: nil,
			want: config.Tracing{Exporter: config.TracesNone, Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize}},
		{name: "an endpoint turns OTLP on", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/", "OTEL_SERVICE_NAME": "svc"},
			want: config.Tracing{Exporter: config.TracesOTLP, Endpoint: "http://127.0.0.1:4318/v1/traces", ServiceName: "svc", Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize}},
		{name: "the traces endpoint wins and is taken whole", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/x/traces"},
			want: config.Tracing{Exporter: config.TracesOTLP, Endpoint: "https://b/x/traces", Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize}},
		{name: "otlp without endpoint goes to localhost", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25", "OTEL_EXPORTER_OTLP_TIMEOUT": "500", "OTEL_BSP_MAX_QUEUE_SIZE": "4096"},
			want: config.Tracing{Exporter: config.TracesOTLP, Endpoint: config.DefaultOTLPTracesEndpoint, Sampler: config.SamplerParentBasedTraceIDRatio, SamplerRatio: 0.25, ExportTimeout: 500 * time.Millisecond, QueueSize: 4096}},
		{name: "the batcher's delay and batch size", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"},
			want: config.Tracing{Exporter: config.TracesOTLP, Endpoint: "http://a:4318/v1/traces", Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize,
				ScheduleDelay: 250 * time.Millisecond, ExportBatchSize: 64}},
		{name: "none wins over an endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"},
			want: config.Tracing{Exporter: config.TracesNone, Endpoint: "http://a:4318/v1/traces", Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize}},
		{name: "the SDK disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"},
			want: config.Tracing{Exporter: config.TracesNone, Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize}},
		{name: "inside Lambda", env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_REGION": "eu-west-1", "OTEL_TRACES_EXPORTER": "console"},
			want: config.Tracing{Exporter: config.TracesConsole, LambdaFunction: "f", Region: "eu-west-1", Sampler: config.SamplerParentBasedAlwaysOn, SamplerRatio: 1, ExportTimeout: 10 * time.Second, QueueSize: config.DefaultTraceQueueSize}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.LoadTracing(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.want.Exporter != config.TracesNone, got.Enabled())
		})
	}
}

func TestLoadTracingReportsEveryBadVariable(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OTEL_TRACES_EXPORTER": "jaeger", "OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318", "OTEL_TRACES_SAMPLER": "xray", "OTEL_TRACES_SAMPLER_ARG": "2",
		"OTEL_BSP_SCHEDULE_DELAY": "0", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "many"}
	got, err := config.LoadTracing(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	var ce *config.Error
	require.ErrorAs(t, err, &ce)
	var vars []string
	for _, p := range ce.Problems {
		vars = append(vars, p.Var)
	}
	require.ElementsMatch(t, []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"}, vars)
	require.False(t, got.Enabled())
}

func TestLambdaTraceHeader(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Root=1-a-b", config.LambdaTraceHeader(func(k string) (string, bool) { return map[string]string{"_X_AMZN_TRACE_ID": " Root=1-a-b "}[k], true }))
	require.Empty(t, config.LambdaTraceHeader(nil))
}
