package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
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

// loadClient is an HTTP client for load over loopback: enough idle
// connections for every parallel caller.
func loadClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return &http.Client{Transport: t}
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
	client, url, token := loadClient(), bundle.srv.URL+"/v1/executions/"+id, "Bearer "+bundle.tokens[auth.RoleViewer]
	b.ReportAllocs()
	b.SetParallelism(32)
	start, cpu := startLoad(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", token)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("get execution: %d", resp.StatusCode)
				return
			}
		}
	})
	reportLoad(b, start, cpu)
}

// BenchmarkLoadStartExecution is starts under load: 64 callers at once
// starting executions over real HTTP (each one writes its idempotency-free
// start through the engine, and the workflow's first step, an approval,
// is recorded by the approvals worker). It reports starts per second.
func BenchmarkLoadStartExecution(b *testing.B) {
	bundle := setupAPI(b, bundleOptions{})
	bundle.publish(b, replyWorkflow)
	client, url, token := loadClient(), bundle.srv.URL+"/v1/workflows/reply/executions", "Bearer "+bundle.tokens[auth.RoleOperator]
	b.ReportAllocs()
	b.SetParallelism(32)
	start, cpu := startLoad(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"input": {"message": "load"}}`))
			req.Header.Set("Authorization", token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("start execution: %d", resp.StatusCode)
				return
			}
		}
	})
	reportLoad(b, start, cpu)
}

// startLoad starts a load benchmark's clock once its setup is done (a
// fresh database, a published workflow: seconds on a loaded machine,
// which would otherwise count as the first round's time and end the
// benchmark at b.N = 1), and notes the process's CPU time.
func startLoad(b *testing.B) (time.Time, time.Duration) {
	b.ResetTimer()
	return time.Now(), processCPU()
}

// reportLoad reports the requests per second since start, and the CPU
// time this process (callers and server together, PostgreSQL not
// included) spent per request.
func reportLoad(b *testing.B, start time.Time, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}
