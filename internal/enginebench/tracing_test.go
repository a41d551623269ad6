package enginebench_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

// TestRunTraced: a traced run makes, per execution, one trace of eleven
// spans: the start, the execution, its three states, and a message and a
// callback span per task.
func TestRunTraced(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	prov, err := tracing.New(tracing.Params{ServiceName: "enginebench", Exporter: exp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = prov.Shutdown(context.Background()) })
	res, err := enginebench.Run(t.Context(), enginebench.Params{Store: engine.NewMemoryStore(), Executions: 20, InFlight: 5, Tracing: prov})
	require.NoError(t, err)
	require.Equal(t, 20, res.Executions)
	require.NoError(t, prov.ForceFlush(t.Context()))
	traces := map[string]int{}
	for _, s := range exp.GetSpans() {
		traces[s.SpanContext.TraceID().String()]++
	}
	require.Len(t, traces, 20)
	for id, n := range traces {
		require.Equal(t, 11, n, "trace %s", id)
	}
}

// BenchmarkEngineTracing is BenchmarkEngineInMemory with tracing off, on
// for the engine only (the start's span, the execution's and its states'
// spans), and on for all (the worker's message and callback spans too):
// every span is made, batched and handed to an exporter that discards it
// (the SDK's whole cost, not the network's). Compare their
// cpu-µs/execution.
func BenchmarkEngineTracing(b *testing.B) {
	for _, mode := range []string{"off", "engine", "all"} {
		b.Run("store=memory/tracing="+mode, func(b *testing.B) {
			runTraced(b, enginebench.Params{Store: engine.NewMemoryStore(), InFlight: 1000}, mode)
		})
	}
}

// BenchmarkEngineTracingDurable is BenchmarkEngineTracing with the
// engine's PostgreSQL store, as aiflow dev runs it.
func BenchmarkEngineTracingDurable(b *testing.B) {
	for _, mode := range []string{"off", "engine", "all"} {
		b.Run("store=postgres/tracing="+mode, func(b *testing.B) {
			runTraced(b, enginebench.Params{Store: postgresStore(b), InFlight: 1000}, mode)
		})
	}
}

// runTraced runs p with tracing off, on for the engine, or on for all.
func runTraced(b *testing.B, p enginebench.Params, mode string) {
	p.TraceEngineOnly = mode == "engine"
	if mode != "off" {
		prov, err := tracing.New(tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, ServiceName: "enginebench", Exporter: tracetest.NewNoopExporter()})
		require.NoError(b, err)
		b.Cleanup(func() { _ = prov.Shutdown(context.Background()) })
		p.Tracing = prov
	}
	runBenchmark(b, p)
}
