package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
// b.N is the executions of each process, in chunks of 1,000. It reports
// the median CPU per execution and executions a second of the chunks of
// each, and what tracing added by the pairs: their median, least and
// most, in percent of off.
func BenchmarkDevTracingPaired(b *testing.B) {
	bin := buildAiflow(b)
	rcv := tracingtest.NewCountingReceiver(b)
	noOTEL := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_TRACES_EXPORTER=", "OTEL_SDK_DISABLED=", "OTEL_TRACES_SAMPLER=",
		"AIFLOW_RATE_LIMIT=100000", "AIFLOW_RATE_BURST=100000", "AIFLOW_LOG_LEVEL=warn"}
	off := startBenchDev(b, bin, noOTEL...)
	on := startBenchDev(b, bin, append(noOTEL, "OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.URL, "OTEL_SERVICE_NAME=aiflow-dev-bench")...)

	const chunk = 1000
	pair := func(n int) (a, c devChunk) {
		var errOff, errOn error
		var wg sync.WaitGroup
		wg.Go(func() { a, errOff = off.run(n) })
		wg.Go(func() { c, errOn = on.run(n) })
		wg.Wait()
		require.NoError(b, errOff, "tracing off")
		require.NoError(b, errOn, "tracing on")
		return a, c
	}
	pair(100) // warm both up: the first executions of a process pay for its growth
	var offCPU, onCPU, offPG, onPG, offRate, onRate, added []float64
	for range max(1, b.N/chunk) {
		a, c := pair(chunk)
		offCPU, onCPU = append(offCPU, a.cpu), append(onCPU, c.cpu)
		offPG, onPG = append(offPG, a.pg), append(onPG, c.pg)
		offRate, onRate = append(offRate, a.rate), append(onRate, c.rate)
		added = append(added, 100*(c.cpu-a.cpu)/a.cpu)
	}
	b.ReportMetric(median(offCPU), "off-cpu-µs/execution")
	b.ReportMetric(median(onCPU), "on-cpu-µs/execution")
	b.ReportMetric(median(offPG), "off-pg-cpu-µs/execution")
	b.ReportMetric(median(onPG), "on-pg-cpu-µs/execution")
	b.ReportMetric(median(offRate), "off-executions/s")
	b.ReportMetric(median(onRate), "on-executions/s")
	b.ReportMetric(median(added), "added-%")
	b.ReportMetric(slices.Min(added), "least-added-%")
	b.ReportMetric(slices.Max(added), "most-added-%")
	b.ReportMetric(float64(len(added)), "pairs")
	b.ReportMetric(0, "ns/op")

	// Ctrl-C: the traced aiflow dev exports the spans it holds, and every
	// execution's trace is whole.
	on.stop(b)
	require.Empty(b, rcv.Refused())
	executions := on.executions
	var sizes []float64
	for _, n := range rcv.Traces() {
		if n > 1 { // an API request that started nothing (GET /metrics) is a trace of its own span
			sizes = append(sizes, float64(n))
		}
	}
	require.Len(b, sizes, executions, "a trace per execution")
	b.ReportMetric(median(sizes), "spans/execution")
	require.Equal(b, slices.Min(sizes), slices.Max(sizes), "every execution's trace has the same spans")
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
func startBenchDev(b *testing.B, bin string, env ...string) *benchDev {
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(b), ".aiflow")
	p, base := startDev(b, bin, dataDir, env...)
	go func() { // its output is not read: drain it
		for range p.lines {
		}
	}()
	b.Cleanup(func() {
		if p.cmd.ProcessState == nil { // not stopped yet
			_ = p.cmd.Process.Signal(syscall.SIGINT)
			_ = p.cmd.Wait()
		}
	})
	token, err := os.ReadFile(filepath.Join(dataDir, "dev-token"))
	require.NoError(b, err)
	input, err := os.ReadFile(filepath.Join(repoRoot, "examples", "mocks", "document-summary.input.json"))
	require.NoError(b, err)
	tree, err := procstat.OpenTree(p.cmd.Process.Pid)
	require.NoError(b, err)
	b.Cleanup(tree.Close)
	return &benchDev{base: base, token: strings.TrimSpace(string(token)), tree: tree,
		input: []byte(`{"input": ` + string(input) + `}`), process: p}
}

// stop stops aiflow dev as Ctrl-C does and waits for it to exit.
func (d *benchDev) stop(b *testing.B) {
	require.NoError(b, d.process.cmd.Process.Signal(syscall.SIGINT))
	require.NoError(b, d.process.cmd.Wait(), "aiflow dev exits with status 0 after Ctrl-C")
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

// finished is the executions aiflow dev has seen end, by its /metrics;
// one that did not succeed is an error.
func (d *benchDev) finished() (int, error) {
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "aiflow_executions_finished_total{") {
			continue
		}
		if !strings.Contains(line, `status="succeeded"`) {
			return 0, fmt.Errorf("an execution did not succeed: %s", line)
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", line, err)
		}
		total += int(v)
	}
	return total, sc.Err()
}

// median is the middle of xs (the mean of the two middle ones when even).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
