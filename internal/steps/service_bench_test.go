package steps_test

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aiflow/aiflow/internal/egress"
)

// BenchmarkServiceStep compares a service step's call (routing, the
// body's and the response's schema checks, the egress guard, the
// idempotency key and auth, the detail event in memory) with a direct
// HTTP call to the same loopback server; their difference is the step's
// overhead.
func BenchmarkServiceStep(b *testing.B) {
	d := newDesk(b)
	url := d.srv.URL + "/v1/incidents/7"
	b.Run("direct", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Idempotency-Key", "k")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("direct_guarded", func(b *testing.B) {
		client := egress.New(egress.Config{}).Client(egress.Policy{AllowPrivate: true})
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("step", func(b *testing.B) {
		sb := setupService(b, deskService(endpoint("a", d, true)), nil)
		m := serviceMessage(b, getIncident, map[string]any{"path": "/v1/incidents/7"})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sb.handler.Run(b.Context(), m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("paired", func(b *testing.B) {
		// One direct call and one step call in turn, each timed: the
		// medians compare them under the same load, and overhead-p50-ns is
		// their difference.
		sb := setupService(b, deskService(endpoint("a", d, true)), nil)
		m := serviceMessage(b, getIncident, map[string]any{"path": "/v1/incidents/7"})
		client := egress.New(egress.Config{}).Client(egress.Policy{AllowPrivate: true})
		var direct, step []time.Duration
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			direct = append(direct, time.Since(start))
			start = time.Now()
			if _, err := sb.handler.Run(b.Context(), m); err != nil {
				b.Fatal(err)
			}
			step = append(step, time.Since(start))
		}
		slices.Sort(direct)
		slices.Sort(step)
		p50 := func(ds []time.Duration) float64 { return float64(ds[len(ds)/2].Nanoseconds()) }
		b.ReportMetric(p50(direct), "direct-p50-ns")
		b.ReportMetric(p50(step), "step-p50-ns")
		b.ReportMetric(p50(step)-p50(direct), "overhead-p50-ns")
	})
}
