package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
