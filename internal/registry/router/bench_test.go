package router_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/router"
)

// BenchmarkRoute measures the routing decision (Route, Next, Succeeded)
// with 1,000 registered instances, and reports its 99th percentile as
// p99-ns from per-call timings. The listing is cached, as between the
// router's refreshes.
func BenchmarkRoute(b *testing.B) {
	one := func(policy registry.Balancing) []registry.Service {
		var ins []registry.Instance
		for i := range 1000 {
			in := inst(fmt.Sprintf("i%04d", i))
			in.Weight = 1 + i%7
			if i%10 == 9 {
				in.Status = registry.StatusDraining
			}
			ins = append(ins, in)
		}
		return []registry.Service{svc("threat-intel", "1.2.0", policy, ins...)}
	}
	many := func() []registry.Service {
		var out []registry.Service
		for s := range 100 {
			var ins []registry.Instance
			for i := range 10 {
				ins = append(ins, inst(fmt.Sprintf("s%02d-i%d", s, i)))
			}
			name := "threat-intel"
			if s > 0 {
				name = fmt.Sprintf("intel-%02d", s)
			}
			out = append(out, svc(name, fmt.Sprintf("1.%d.0", s%3), "", ins...))
		}
		return out
	}
	for _, c := range []struct {
		name     string
		services []registry.Service
		req      router.Request
	}{
		{"1x1000/round_robin", one(registry.BalancingRoundRobin), getReputation},
		{"1x1000/least_outstanding", one(registry.BalancingLeastOutstanding), getReputation},
		{"1x1000/weighted", one(registry.BalancingWeighted), getReputation},
		{"100x10/by_name_and_version", many(), router.Request{Service: "threat-intel", Version: "^1.0", Method: "GET", Path: "/v1/ip/192.0.2.7/reputation"}},
		{"100x10/by_capability", many(), router.Request{Capability: "ip.reputation", Method: "GET", Path: "/v1/ip/192.0.2.7/reputation"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := &source{}
			src.set(c.services...)
			r, err := router.New(router.Config{Source: src, Refresh: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				rt, err := r.Route(ctx, c.req)
				if err != nil {
					b.Fatal(err)
				}
				p, err := rt.Next()
				if err != nil {
					b.Fatal(err)
				}
				p.Succeeded()
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
