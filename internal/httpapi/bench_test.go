package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/procstat"
)

// BenchmarkReadyz is one readiness probe in process: routing, request id,
// a ping of a real PostgreSQL through the pool, the JSON answer.
func BenchmarkReadyz(b *testing.B) {
	api := httpapi.New(httpapi.Options{DB: pgclustertest.PackagePool(b)})
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("readyz: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkHealthz is the liveness probe: no dependency is touched.
func BenchmarkHealthz(b *testing.B) {
	api := httpapi.New(httpapi.Options{})
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
	}
}

// BenchmarkGetExecution is GET /v1/executions/{id} in process for a
// finished execution with one model call: token verification, the
// permission check, DescribeExecution on the in-memory engine, and the
// tokens and cost summed from the detail events in PostgreSQL.
func BenchmarkGetExecution(b *testing.B) {
	bundle := setupAPI(b, bundleOptions{})
	bundle.publish(b, replyWorkflow)
	id := bundle.start(b, "reply", `{"message": "bench"}`)
	approval := bundle.waitPending(b, id)
	resp, raw := bundle.call(b, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": true}`)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("approving: %d %s", resp.StatusCode, raw)
	}
	bundle.waitClosed(b, id)
	req := httptest.NewRequest(http.MethodGet, "/v1/executions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+bundle.tokens[auth.RoleViewer])
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		bundle.api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("get execution: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkLoadGetExecution is the API under load: 64 callers at once
// (b.SetParallelism per core) reading one finished execution over real
// HTTP on loopback, through the whole stack of BenchmarkGetExecution. It
// reports requests per second.
func BenchmarkLoadGetExecution(b *testing.B) {
	bundle := setupAPI(b, bundleOptions{})
	bundle.publish(b, replyWorkflow)
	id := bundle.start(b, "reply", `{"message": "load"}`)
	approval := bundle.waitPending(b, id)
	if resp, raw := bundle.call(b, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": true}`); resp.StatusCode != http.StatusOK {
		b.Fatalf("approving: %d %s", resp.StatusCode, raw)
	}
	bundle.waitClosed(b, id)
	req := loadRequest(bundle, http.MethodGet, "/v1/executions/"+id, bundle.tokens[auth.RoleViewer], "")
	b.ReportAllocs()
	b.SetParallelism(32)
	clock := startLoad(b)
	b.RunParallel(func(pb *testing.PB) {
		c := dialLoad(b, bundle)
		defer c.close()
		for pb.Next() {
			status, err := c.call(req)
			if err != nil {
				b.Error(err)
				return
			}
			if status != http.StatusOK {
				b.Errorf("get execution: %d", status)
				return
			}
		}
	})
	reportLoad(b, clock)
}

// BenchmarkLoadStartExecution is starts under load: 64 callers at once
// starting executions over real HTTP (each one writes its idempotency-free
// start through the engine, and the workflow's first step, an approval,
// is recorded by the approvals worker). It reports starts per second.
func BenchmarkLoadStartExecution(b *testing.B) { loadStarts(b, false, false) }

// BenchmarkLoadStartExecutionDurable is BenchmarkLoadStartExecution with
// the engine's executions kept in PostgreSQL, as aiflow dev keeps them.
func BenchmarkLoadStartExecutionDurable(b *testing.B) { loadStarts(b, false, true) }

// loadStarts runs the start benchmarks: 64 callers starting executions,
// each start with an Idempotency-Key of its own when keyed, the engine
// durable when durable.
func loadStarts(b *testing.B, keyed, durable bool) {
	bundle := setupAPI(b, bundleOptions{durable: durable})
	bundle.publish(b, replyWorkflow)
	req := loadRequest(bundle, http.MethodPost, "/v1/workflows/reply/executions", bundle.tokens[auth.RoleOperator], `{"input": {"message": "load"}}`)
	head, body, _ := bytes.Cut(req, []byte("\r\n\r\n"))
	var callers atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	statements := pgclustertest.StatementStats(b, bundle.pool)
	heap := liveHeap()
	clock := startLoad(b)
	b.RunParallel(func(pb *testing.PB) {
		c := dialLoad(b, bundle)
		defer c.close()
		caller := callers.Add(1)
		for i := 0; pb.Next(); i++ {
			send := req
			if keyed {
				send = fmt.Appendf(slices.Clip(head), "\r\nIdempotency-Key: load-%d-%d\r\n\r\n%s", caller, i, body)
			}
			status, err := c.call(send)
			if err != nil {
				b.Error(err)
				return
			}
			if status != http.StatusCreated {
				b.Errorf("start execution: %d", status)
				return
			}
		}
	})
	reportLoad(b, clock)
	reportApprovalsBehind(b, bundle)
	b.ReportMetric(float64(liveHeap()-heap)/float64(b.N), "live-B/op")
	statements(os.Stdout, b.N)
}

// liveHeap is the heap's live bytes, after a collection: the starts'
// executions wait on their approval, in the engine's memory, so the heap
// they leave behind, per start, is what each execution in flight holds,
// and what the collector marks at every cycle.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// loadClock is what a load benchmark measures from: its start, this
// process's CPU then, and the counter of the PostgreSQL server's CPU.
type loadClock struct {
	start  time.Time
	cpu    time.Duration
	server func(n int, op string)
}

// startLoad starts a load benchmark's clock once its setup is done (a
// fresh database, a published workflow: seconds on a loaded machine,
// which would otherwise count as the first round's time and end the
// benchmark at b.N = 1), and notes the process's CPU time and the
// throwaway cluster's (not DATABASE_URL's server, whose processes are
// not this machine's to read).
func startLoad(b *testing.B) loadClock {
	server := pgclustertest.CountServerCPU(b)
	b.ResetTimer()
	return loadClock{start: time.Now(), cpu: procstat.CPU(), server: server}
}

// reportLoad reports the requests per second since the clock's start, the
// CPU time this process (callers and server together) spent per request,
// and, with the throwaway cluster, PostgreSQL's (pg-cpu-µs/op: every
// backend's and background process's work over the run), which makes with
// it about the machine's CPU per request.
func reportLoad(b *testing.B, c loadClock) {
	b.ReportMetric(float64(b.N)/time.Since(c.start).Seconds(), "requests/s")
	b.ReportMetric(float64((procstat.CPU()-c.cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	c.server(b.N, "op")
}

// BenchmarkLoadStartExecutionWithKey is BenchmarkLoadStartExecution with
// an Idempotency-Key of its own on every start, which the start records
// before it starts the execution.
func BenchmarkLoadStartExecutionWithKey(b *testing.B) { loadStarts(b, true, false) }

// loadCaller is one caller of a load benchmark: one keep-alive
// connection, on which it sends a request written once and reads each
// answer whole. It shares the two cores with the server, so it is kept
// lean: net/http's client, with its two goroutines per connection and
// a request built and written anew each time, cost as much CPU as the
// server it measured.
type loadCaller struct {
	conn net.Conn
	br   *bufio.Reader
}

// dialLoad connects a caller to the bundle's server.
func dialLoad(b *testing.B, bundle *apiBundle) *loadCaller {
	conn, err := net.Dial("tcp", bundle.srv.Listener.Addr().String())
	if err != nil {
		b.Fatalf("connecting a caller: %v", err)
	}
	return &loadCaller{conn: conn, br: bufio.NewReader(conn)}
}

// call sends req and returns the status of its answer, read to its end.
func (c *loadCaller) call(req []byte) (int, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, fmt.Errorf("sending a request: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, fmt.Errorf("reading an answer: %w", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("reading an answer's body: %w", err)
	}
	return resp.StatusCode, nil
}

func (c *loadCaller) close() { _ = c.conn.Close() }

// loadRequest is an HTTP/1.1 request to the bundle's server with a
// bearer token, as a caller sends it on a kept-alive connection.
func loadRequest(bundle *apiBundle, method, path, token, body string) []byte {
	req := method + " " + path + " HTTP/1.1\r\nHost: " + bundle.srv.Listener.Addr().String() +
		"\r\nAuthorization: Bearer " + token + "\r\nUser-Agent: aiflow-load\r\n"
	if body != "" {
		req += "Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	return []byte(req + "\r\n" + body)
}

// reportApprovalsBehind reports the share of the starts whose first
// step, an approval, the approvals worker had not yet recorded when the
// starts ended: work of the starts that the rates above did not pay for.
func reportApprovalsBehind(b *testing.B, bundle *apiBundle) {
	var n int
	if err := bundle.pool.QueryRow(context.Background(), `SELECT count(*) FROM api.approvals`).Scan(&n); err != nil {
		b.Fatalf("counting the approvals: %v", err)
	}
	b.ReportMetric(float64(b.N-n)/float64(b.N), "approvals-behind/op")
}
