package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/enginebench"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/metricstest"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/procstat"
	"github.com/aiflow/aiflow/internal/telemetry/tracing/tracingtest"
)

// BenchmarkDevTracingPaired measures what tracing adds to the CPU of an
// execution as aiflow dev runs it, every part real: two aiflow dev
// processes (this command's binary), each with its own PostgreSQL cluster,
// one with tracing off (no OTEL_* variable: nothing traced) and one
// exporting every span over OTLP/HTTP (sampler parentbased_always_on) to a
// receiver on loopback in this process, which decodes each request and
// keeps only how many spans each trace had. Chunks of executions of
// document-summary, an example workflow of four model calls (a Map state
// of three chunks, then a reduce) answered by the scripted provider, are
// started through each one's HTTP API, 16 requests at a time, and run to
// their end, side by side: a chunk on each at once, so that whatever else
// the machine does weighs on both alike (run one after the other, the
// pairs scattered three times as much). The CPU of a chunk is the aiflow
// dev process's, user and system, from its first request to its last
// execution's end (seen on its /metrics, polled ten times a second); its
// PostgreSQL cluster's is reported apart.
//
// Each execution's trace is the one
// TestDevTracesAnExecutionFromTheAPIToTheModel checks, 28 spans: the API
// request, StartExecution, the execution, 13 state spans, four task
// messages, four model calls with their GenAI attributes and four
// callbacks. After the pairs the traced aiflow dev is stopped (Ctrl-C
// exports what it holds) and every execution's trace must have arrived
// whole: no span dropped.
//
// b.N is the executions of each process, in chunks of 1,000 (of b.N when
// fewer). It reports the median CPU per execution and executions a second
// of the chunks of each, and what tracing added by the pairs: their
// median, least and most, in percent of off.
func BenchmarkDevTracingPaired(b *testing.B) {
	r := devTracingPairs(b, b.N)
	b.ReportMetric(enginebench.Median(r.off.cpu), "off-cpu-µs/execution")
	b.ReportMetric(enginebench.Median(r.on.cpu), "on-cpu-µs/execution")
	b.ReportMetric(enginebench.Median(r.off.pg), "off-pg-cpu-µs/execution")
	b.ReportMetric(enginebench.Median(r.on.pg), "on-pg-cpu-µs/execution")
	b.ReportMetric(enginebench.Median(r.off.rate), "off-executions/s")
	b.ReportMetric(enginebench.Median(r.on.rate), "on-executions/s")
	b.ReportMetric(enginebench.Median(r.added), "added-%")
	b.ReportMetric(slices.Min(r.added), "least-added-%")
	b.ReportMetric(slices.Max(r.added), "most-added-%")
	b.ReportMetric(float64(len(r.added)), "pairs")
	b.ReportMetric(float64(r.spansPerExecution), "spans/execution")
	b.ReportMetric(0, "ns/op")
}

// TestDevTracingBenchmarkRuns runs BenchmarkDevTracingPaired's pairs,
// whose command docs/performance.md and docs/observability.md give, with
// two executions a process: its aiflow dev processes start, the
// executions run, and the traced one's traces arrive whole.
func TestDevTracingBenchmarkRuns(t *testing.T) {
	t.Parallel()
	r := devTracingPairs(t, 2)
	require.Len(t, r.added, 1, "one pair")
	require.Equal(t, 28, r.spansPerExecution)
	require.Positive(t, r.off.cpu[0])
	require.Positive(t, r.on.cpu[0])
}

// devTracingResult is what devTracingPairs measured, chunk by chunk.
type devTracingResult struct {
	off, on devChunks
	// added is what tracing added to each pair's CPU per execution, in
	// percent of off's.
	added []float64
	// spansPerExecution is the spans of each execution's trace.
	spansPerExecution int
}

// devChunks are the chunks of one aiflow dev process.
type devChunks struct{ cpu, pg, rate []float64 }

func (c *devChunks) add(d devChunk) {
	c.cpu, c.pg, c.rate = append(c.cpu, d.cpu), append(c.pg, d.pg), append(c.rate, d.rate)
}

// devTracingPairs runs BenchmarkDevTracingPaired's pairs of n executions
// a process, in chunks of 1,000 (of n when fewer), after a warm-up of 100
// (of n when fewer).
func devTracingPairs(tb testing.TB, n int) devTracingResult {
	bin := buildAiflow(tb)
	rcv := tracingtest.NewCountingReceiver(tb)
	noOTEL := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_TRACES_EXPORTER=", "OTEL_SDK_DISABLED=", "OTEL_TRACES_SAMPLER=",
		"AIFLOW_RATE_LIMIT=100000", "AIFLOW_RATE_BURST=100000", "AIFLOW_LOG_LEVEL=warn"}
	off := startBenchDev(tb, bin, noOTEL...)
	on := startBenchDev(tb, bin, append(noOTEL, "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.URL, "OTEL_SERVICE_NAME=aiflow-dev-bench")...)

	chunk := min(1000, n)
	pair := func(n int) (a, c devChunk) {
		var errOff, errOn error
		var wg sync.WaitGroup
		wg.Go(func() { a, errOff = off.run(n) })
		wg.Go(func() { c, errOn = on.run(n) })
		wg.Wait()
		require.NoError(tb, errOff, "tracing off")
		require.NoError(tb, errOn, "tracing on")
		return a, c
	}
	pair(min(100, n)) // warm both up: the first executions of a process pay for its growth
	var r devTracingResult
	for range n / chunk {
		a, c := pair(chunk)
		r.off.add(a)
		r.on.add(c)
		r.added = append(r.added, 100*(c.cpu-a.cpu)/a.cpu)
	}

	// Ctrl-C: the traced aiflow dev exports the spans it holds, and every
	// execution's trace is whole.
	on.stop(tb)
	require.Empty(tb, rcv.Refused())
	var sizes []int
	for _, n := range rcv.Traces() {
		if n > 1 { // an API request that started nothing (GET /metrics) is a trace of its own span
			sizes = append(sizes, n)
		}
	}
	require.Len(tb, sizes, on.executions, "a trace per execution")
	require.Equal(tb, slices.Min(sizes), slices.Max(sizes), "every execution's trace has the same spans")
	r.spansPerExecution = sizes[0]
	return r
}

// benchDev is one aiflow dev process of BenchmarkDevTracingPaired.
type benchDev struct {
	base, token string
	tree        *procstat.Tree // the process and its PostgreSQL cluster
	input       []byte
	process     *devProcess
	executions  int // started, all ended
}

// devChunk is what one chunk of executions cost, in CPU µs per execution
// (aiflow dev's process, and its PostgreSQL cluster's), and how many ran
// a second.
type devChunk struct{ cpu, pg, rate float64 }

// startBenchDev starts aiflow dev with env and waits until it serves.
func startBenchDev(tb testing.TB, bin string, env ...string) *benchDev {
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(tb), ".aiflow")
	p, base := startDev(tb, bin, dataDir, env...)
	go func() { // its output is not read: drain it
		for range p.lines {
		}
	}()
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil { // not stopped yet
			_ = p.cmd.Process.Signal(syscall.SIGINT)
			_ = p.cmd.Wait()
		}
	})
	token, err := os.ReadFile(filepath.Join(dataDir, "dev-token"))
	require.NoError(tb, err)
	input, err := os.ReadFile(filepath.Join(repoRoot, "examples", "mocks", "document-summary.input.json"))
	require.NoError(tb, err)
	tree, err := procstat.OpenTree(p.cmd.Process.Pid)
	require.NoError(tb, err)
	tb.Cleanup(tree.Close)
	return &benchDev{base: base, token: strings.TrimSpace(string(token)), tree: tree,
		input: []byte(`{"input": ` + string(input) + `}`), process: p}
}

// stop stops aiflow dev as Ctrl-C does and waits for it to exit.
func (d *benchDev) stop(tb testing.TB) {
	require.NoError(tb, d.process.cmd.Process.Signal(syscall.SIGINT))
	require.NoError(tb, d.process.cmd.Wait(), "aiflow dev exits with status 0 after Ctrl-C")
}

// run starts n executions through the API, 16 requests at a time, waits
// for every one to end, and returns what they cost.
func (d *benchDev) run(n int) (devChunk, error) {
	before, err := d.finished()
	if err != nil {
		return devChunk{}, err
	}
	began := time.Now()
	used, err := d.tree.Usage()
	if err != nil {
		return devChunk{}, err
	}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := d.start(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return devChunk{}, err
	}
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		done, err := d.finished()
		if err != nil {
			return devChunk{}, err
		}
		if done >= before+n {
			break
		}
		if time.Now().After(deadline) {
			return devChunk{}, fmt.Errorf("%d executions of %d did not end within 5 minutes", before+n-done, n)
		}
	}
	took := time.Since(began)
	d.executions += n
	after, err := d.tree.Usage()
	if err != nil {
		return devChunk{}, err
	}
	perExecution := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(n) }
	return devChunk{cpu: perExecution(after.Root - used.Root), pg: perExecution(after.CPU - after.Root - (used.CPU - used.Root)),
		rate: float64(n) / took.Seconds()}, nil
}

// start starts one execution of document-summary.
func (d *benchDev) start() error {
	req, err := http.NewRequest(http.MethodPost, d.base+"/v1/workflows/document-summary/executions", bytes.NewReader(d.input))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("starting an execution: %s: %s", resp.Status, body)
	}
	return nil
}

// finished is the executions of document-summary aiflow dev has seen
// end, by its /metrics; one that did not succeed is an error.
func (d *benchDev) finished() (int, error) {
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	f, err := metricstest.Read(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("reading /metrics: %w", err)
	}
	const name = "aiflow_executions_finished_total"
	workflow := map[string]string{"workflow": "document-summary"}
	ended := f.Value(name, workflow)
	succeeded := f.Value(name, map[string]string{"workflow": "document-summary", "status": metrics.StatusSucceeded})
	if ended != succeeded {
		return 0, fmt.Errorf("%v of %v executions did not succeed", ended-succeeded, ended)
	}
	return int(succeeded), nil
}
