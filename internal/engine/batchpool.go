package engine

import "sync"

// batchPool holds the batch structs of transitions already frozen or
// encoded, with their Threads maps emptied, for the next transitions: a
// batch is read by no one once flush has made its commit (a frozen Batch
// keeps copies of its threads, not the map), and its struct and map were
// three allocations per transition.
var batchPool = sync.Pool{New: func() any { return new(batch) }}

// putBatch gives b back to batchPool, cleared; a map grown by a large
// fan-out is left to the collector.
func putBatch(b *batch) {
	m := b.Threads
	if len(m) > 8 {
		m = nil
	}
	clear(m)
	*b = batch{Threads: m}
	batchPool.Put(b)
}

// pendingCommits holds the pendingCommits of transitions written, for
// the next transitions: once write has handed a written transition's
// effects on and answered its waiter, no one reads it (the execution's
// written record is a copy of its own), and each was 448 bytes.
var pendingCommits = sync.Pool{New: func() any { return new(pendingCommit) }}

// putPendingCommit gives a written transition's pendingCommit back,
// cleared.
func putPendingCommit(p *pendingCommit) {
	*p = pendingCommit{}
	pendingCommits.Put(p)
}
