package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
