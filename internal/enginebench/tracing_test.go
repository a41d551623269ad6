package enginebench_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginebench"
	"github.com/aiflow/aiflow/internal/procstat"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
	"github.com/aiflow/aiflow/internal/telemetry/tracing/tracingtest"
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
// spans), on for all (the worker's message and callback spans too): every
// span is made, batched and handed to an exporter that discards it and
// keeps nothing of it (the SDK's and aiflow's whole cost, not the
// exporter's; the spans are taken back after each export, as under
// aiflow's OTLP exporter), and on for the engine only or for all with
// aiflow's OTLP/HTTP exporter posting to a receiver on loopback, in a
// process of its own, that reads and discards the requests (the
// exporter's encoding and HTTP too).
// Compare their cpu-µs/execution.
func BenchmarkEngineTracing(b *testing.B) {
	for _, mode := range tracingModes {
		b.Run("store=memory/tracing="+mode, func(b *testing.B) {
			runTraced(b, enginebench.Params{Store: engine.NewMemoryStore(), InFlight: 1000}, mode)
		})
	}
}

// BenchmarkEngineTracingDurable is BenchmarkEngineTracing with the
// engine's PostgreSQL store, as aiflow dev runs it.
func BenchmarkEngineTracingDurable(b *testing.B) {
	for _, mode := range tracingModes {
		b.Run("store=postgres/tracing="+mode, func(b *testing.B) {
			runTraced(b, enginebench.Params{Store: postgresStore(b), InFlight: 1000}, mode)
		})
	}
}

// tracingModes are the tracing benchmarks' modes, from nothing to all:
// engine-otlp is engine's spans exported as otlp's are.
var tracingModes = []string{"off", "engine", "engine-otlp", "all", "otlp"}

// engineOnly reports whether a mode leaves the worker's spans out.
func engineOnly(mode string) bool { return mode == "engine" || mode == "engine-otlp" }

// overOTLP reports whether a mode exports over OTLP/HTTP.
func overOTLP(mode string) bool { return mode == "otlp" || mode == "engine-otlp" }

// runTraced runs p with tracing off, on for the engine, on for all, or on
// for all exported over OTLP/HTTP.
func runTraced(b *testing.B, p enginebench.Params, mode string) {
	p.TraceEngineOnly = engineOnly(mode)
	// A discarding exporter that keeps nothing of the spans, as aiflow's
	// OTLP exporter: aiflow takes its spans back after each export.
	params := tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, ServiceName: "enginebench", Exporter: &tracingtest.DiscardingExporter{}}
	switch {
	case mode == "off":
		runBenchmark(b, p)
		return
	case overOTLP(mode):
		params.Exporter = nil
		params.Config.Endpoint = discardingReceiver(b) + "/v1/traces"
	}
	prov, err := tracing.New(params)
	require.NoError(b, err)
	b.Cleanup(func() { _ = prov.Shutdown(context.Background()) })
	p.Tracing = prov
	runBenchmark(b, p)
	// Every span is exported: a drop (a full queue) would make tracing
	// look cheaper than it is.
	b.ReportMetric(float64(prov.DroppedSpans()), "dropped-spans")
}

// receiverEnv, set in the environment of this test binary, makes it an
// OTLP/HTTP receiver (see discardingReceiver) in place of running tests.
const receiverEnv = "ENGINEBENCH_OTLP_RECEIVER"

// discardingReceiver starts an OTLP/HTTP receiver on loopback that reads
// each request and answers it with an empty ExportTraceServiceResponse,
// decoding nothing, and returns its URL. It runs in a process of its own
// (this test binary again), as a collector does: the CPU a benchmark
// reports is its own process's, and what serving the requests costs is
// not aiflow's. It stops when the benchmark ends.
func discardingReceiver(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), receiverEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = os.Stderr
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() {
		_ = stdin.Close() // the receiver ends when its input does
		_ = cmd.Wait()
	})
	url, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(tb, err, "reading the receiver's URL")
	return strings.TrimSpace(url)
}

// serveReceiver is the receiver's process: it listens on loopback, writes
// its URL on a line of its output, and serves until its input ends.
func serveReceiver() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestDiscardingReceiver: the otlp mode's receiver runs in a process of
// its own and answers an export.
func TestDiscardingReceiver(t *testing.T) {
	t.Parallel()
	url := discardingReceiver(t)
	resp, err := http.Post(url+"/v1/traces", "application/x-protobuf", strings.NewReader("\x0a\x00"))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/x-protobuf", resp.Header.Get("Content-Type"))
}

// BenchmarkTracingPaired measures what tracing adds to an execution's CPU
// by pairs: in one process, chunks of pairedChunk executions run with
// tracing off and on in turn (off then on, on then off, alternately, so
// that a drift of the machine weighs on both alike), each on an engine
// and store of its own, each chunk's CPU taken from its first start to
// the end of its spans' export and of a garbage collection of what it
// left (so that no chunk pays for another's garbage). b.N is the
// executions of each mode. It reports the median CPU per execution of the
// chunks of each mode, the part of it the runtime counts as the garbage
// collector's, and what tracing added by the pairs: their median, least
// and most, in percent of off: the machine's drift, as large as tracing's
// cost from one run to the next, cancels out of a pair. Its workers do
// nothing, so it weighs tracing against the engine's own work alone; what
// tracing adds to an execution as aiflow dev runs it, the measure the
// tracing target is held to, is cmd/aiflow's BenchmarkDevTracingPaired
// (docs/performance.md, "Tracing").
func BenchmarkTracingPaired(b *testing.B) {
	for _, mode := range tracingModes[1:] {
		b.Run("store=memory/tracing="+mode, func(b *testing.B) {
			runPaired(b, func() engine.Store { return engine.NewMemoryStore() }, mode)
		})
	}
	for _, mode := range tracingModes[1:] {
		b.Run("store=postgres/tracing="+mode, func(b *testing.B) {
			store := postgresStore(b)
			runPaired(b, func() engine.Store { return store }, mode)
		})
	}
}

// pairedChunk is the executions of one chunk of BenchmarkTracingPaired,
// 1,000 in flight: about half a second with the memory store, a second
// with PostgreSQL.
const pairedChunk = 2000

// runPaired runs BenchmarkTracingPaired's pairs for one mode, each chunk
// on an engine of its own over store().
func runPaired(b *testing.B, store func() engine.Store, mode string) {
	const chunk = pairedChunk
	params := tracing.Params{Config: config.Tracing{Exporter: config.TracesOTLP}, ServiceName: "enginebench", Exporter: &tracingtest.DiscardingExporter{}}
	if overOTLP(mode) {
		params.Exporter = nil
		params.Config.Endpoint = discardingReceiver(b) + "/v1/traces"
	}
	prov, err := tracing.New(params)
	require.NoError(b, err)
	b.Cleanup(func() { _ = prov.Shutdown(context.Background()) })
	ctx := context.Background()
	gcCPU := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	var offGC, onGC []float64
	one := func(traced bool) float64 {
		p := enginebench.Params{Store: store(), Executions: chunk, InFlight: 1000, TraceEngineOnly: engineOnly(mode)}
		if traced {
			p.Tracing = prov
		}
		metrics.Read(gcCPU)
		gcBefore := gcCPU[0].Value.Float64()
		before := procstat.CPU()
		_, err := enginebench.Run(ctx, p)
		require.NoError(b, err)
		if traced {
			require.NoError(b, prov.ForceFlush(ctx))
		}
		runtime.GC()
		cpu := float64((procstat.CPU() - before).Nanoseconds()) / 1e3 / float64(chunk)
		metrics.Read(gcCPU)
		gc := (gcCPU[0].Value.Float64() - gcBefore) * 1e6 / float64(chunk)
		if traced {
			onGC = append(onGC, gc)
		} else {
			offGC = append(offGC, gc)
		}
		return cpu
	}
	one(false) // warm up both: the first chunk of a process pays for its growth
	one(true)
	var off, on, added []float64
	for i := 0; i < max(1, b.N/chunk); i++ {
		var a, c float64
		if i%2 == 0 {
			a = one(false)
			c = one(true)
		} else {
			c = one(true)
			a = one(false)
		}
		off, on = append(off, a), append(on, c)
		added = append(added, 100*(c-a)/a)
	}
	b.ReportMetric(enginebench.Median(off), "off-cpu-µs/execution")
	b.ReportMetric(enginebench.Median(on), "on-cpu-µs/execution")
	b.ReportMetric(enginebench.Median(offGC), "off-gc-µs/execution")
	b.ReportMetric(enginebench.Median(onGC), "on-gc-µs/execution")
	b.ReportMetric(enginebench.Median(added), "added-%")
	b.ReportMetric(slices.Min(added), "least-added-%")
	b.ReportMetric(slices.Max(added), "most-added-%")
	b.ReportMetric(float64(len(added)), "pairs")
	b.ReportMetric(float64(prov.DroppedSpans()), "dropped-spans")
	b.ReportMetric(0, "ns/op")
}

func TestMedian(t *testing.T) {
	t.Parallel()
	require.Zero(t, enginebench.Median(nil))
	require.Equal(t, 2.0, enginebench.Median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, enginebench.Median([]float64{4, 1, 3, 2}))
	xs := []float64{3, 1, 2}
	enginebench.Median(xs)
	require.Equal(t, []float64{3, 1, 2}, xs, "left as it was")
}
