package router

import (
	"slices"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/registry"
)

// balancer is the balancing state of one service version. Its mutex also
// guards its instances' instState.
type balancer struct {
	mu     sync.Mutex
	policy registry.Balancing
	// rr counts the routes that started on this version: round robin's
	// next index, and least outstanding's tie-breaker.
	rr uint64
}

// pick chooses an instance of hs (sorted by id) that is not in tried and
// whose breaker lets a call through, and claims it (a breaker probe, one
// more call in flight). first is the route's first pick of this version,
// which moves the balancer on; a later pick is a failover that continues
// after the index last. It returns the index (-1 when none is left), the
// breaker generation of the call, and whether a breaker kept out an
// instance not yet tried. The caller holds b.mu.
func (b *balancer) pick(hs []*instance, tried []*instance, last int, first bool, now time.Time, coolDown time.Duration) (idx int, gen uint64, blocked bool) {
	n := len(hs)
	if n == 0 {
		return -1, 0, false
	}
	available := func(in *instance) bool {
		if slices.Contains(tried, in) {
			return false
		}
		if !in.st.brk.ready(now, coolDown) {
			blocked = true
			return false
		}
		return true
	}
	start := last + 1
	if first {
		start = int(b.rr % uint64(n))
	}
	idx = -1
	switch b.policy {
	case registry.BalancingWeighted:
		// Smooth weighted round robin: every available instance gains its
		// weight, the heaviest is picked and loses the total.
		total := 0
		for i, in := range hs {
			if !available(in) {
				continue
			}
			in.st.current += in.weight
			total += in.weight
			if idx < 0 || in.st.current > hs[idx].st.current {
				idx = i
			}
		}
		if idx >= 0 {
			hs[idx].st.current -= total
		}
	case registry.BalancingLeastOutstanding:
		for k := range n {
			i := (start + k) % n
			in := hs[i]
			if available(in) && (idx < 0 || in.st.inflight < hs[idx].st.inflight) {
				idx = i
			}
		}
	default: // round robin
		for k := range n {
			if i := (start + k) % n; available(hs[i]) {
				idx = i
				break
			}
		}
	}
	if first {
		b.rr++
	}
	if idx < 0 {
		return -1, 0, blocked
	}
	hs[idx].st.inflight++
	return idx, hs[idx].st.brk.claim(), blocked
}
