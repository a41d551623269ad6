// Package gcpolicy paces the garbage collector of aiflow's long-running
// processes (aiflow dev, engine, stack, bench and run) and of the
// benchmarks that stand for them.
//
// Go's default (GOGC=100, no memory limit) collects whenever the heap has
// grown by as much as was live after the last collection. The engine's
// live heap is small (tens of megabytes with PostgreSQL) and it allocates
// fast, so it collected tens of times a second: a quarter to a third of
// its CPU went to the collector (docs/performance.md). The policy lets the
// heap grow to five times the live heap (GOGC=400) while that stays under
// a floor of 512 MiB, and to three times the live heap above it (a soft
// memory limit that follows the live heap): the collector runs a fifth as
// often for small heaps, and a large in-memory engine uses at most half
// again the memory it would under the default, not four times.
//
// GOGC or GOMEMLIMIT set in the environment is the user's choice: the
// policy then changes nothing.
package gcpolicy

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// Percent is GOGC under the policy.
	Percent = 400
	// Floor is the least soft memory limit the policy sets.
	Floor = 512 << 20
	// LiveFactor times the live heap is the soft memory limit once that
	// is above Floor.
	LiveFactor = 3
)

// Limit is the soft memory limit the policy sets for a live heap of live
// bytes.
func Limit(live uint64) int64 {
	if live > math.MaxInt64/LiveFactor {
		return math.MaxInt64
	}
	return max(Floor, LiveFactor*int64(live))
}

// Start applies the policy unless lookup finds GOGC or GOMEMLIMIT set,
// and moves the memory limit after the live heap at the end of every
// collection until stop is called; stop restores what was set before.
// applied reports whether the policy was applied.
func Start(lookup func(string) (string, bool)) (stop func(), applied bool) {
	if _, ok := lookup("GOGC"); ok {
		return func() {}, false
	}
	if _, ok := lookup("GOMEMLIMIT"); ok {
		return func() {}, false
	}
	p := &pacer{live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	oldPercent := debug.SetGCPercent(Percent)
	p.mu.Lock()
	oldLimit := debug.SetMemoryLimit(p.limit())
	p.mu.Unlock()
	p.arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.stopped = true
			debug.SetMemoryLimit(oldLimit)
			debug.SetGCPercent(oldPercent)
		})
	}, true
}

// pacer moves the memory limit after each collection.
type pacer struct {
	mu      sync.Mutex
	stopped bool
	live    []metrics.Sample
}

// limit is the limit for the live heap the last collection left; mu is
// held.
func (p *pacer) limit() int64 {
	metrics.Read(p.live)
	return Limit(p.live[0].Value.Uint64())
}

// arm runs follow once the next collection has ended: a cleanup of an
// object nothing refers to runs after the collection that finds it so.
// (The object is 16 bytes: a smaller one could share a block with others
// that keep it from being collected.)
func (p *pacer) arm() {
	runtime.AddCleanup(new([16]byte), func(p *pacer) { p.follow() }, p)
}

// follow sets the limit for the live heap now, and arms again, until
// stopped.
func (p *pacer) follow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	debug.SetMemoryLimit(p.limit())
	p.arm()
}
