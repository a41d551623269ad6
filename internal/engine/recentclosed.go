package engine

import "sync"

// recentClosed keeps the records, as written, of the executions that
// closed last in this engine, so that describing one just after it
// closed (a caller that waited for it, an SDK's last poll) reads no
// store. A closed execution's record changes only when it is redriven,
// through this engine: the redrive puts the execution back among the
// running ones (which record reads first) and drops it from here; when
// it leaves them again, forget keeps its new record or none. It is
// bounded in records and in bytes of input and output held, the oldest
// dropped first.
type recentClosed struct {
	mu    sync.Mutex
	recs  map[string]*ExecutionRecord
	ring  []string // the ARNs kept, oldest at head
	head  int
	n     int
	bytes int
}

// leave takes x out of the running executions, if it is still the one
// there, and keeps its record as written if it is closed (keepClosed).
func (e *Engine) leave(x *execution) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.execs[x.rec.ARN] == x {
		delete(e.execs, x.rec.ARN)
		e.keepClosed(x)
	}
}

// keepClosed keeps the record of x, which leaves the running executions,
// as written if it is closed, and drops what was kept of its ARN if not.
// e.mu is held, so that a redrive, which puts the execution back among
// them and drops its record, comes wholly before or after.
func (e *Engine) keepClosed(x *execution) {
	if w := x.written.Load(); w != nil && w.Status.Closed() {
		// As the stores give it back: its times in microseconds, UTC.
		rec := *w
		rec.StartDate, rec.StopDate, rec.RedriveDate = memTime(rec.StartDate), memTime(rec.StopDate), memTime(rec.RedriveDate)
		e.closedRecs.put(&rec)
		return
	}
	e.closedRecs.drop(x.rec.ARN)
}

// The bounds of recentClosed: a few seconds of closes at the engine's
// rates, and little memory beside the running executions'.
const (
	recentClosedRecords = 1024
	recentClosedBytes   = 4 << 20
)

// heldBytes is what a record holds beyond its fixed size.
func heldBytes(rec *ExecutionRecord) int {
	return len(rec.Input) + len(rec.Output) + len(rec.Error) + len(rec.Cause) + len(rec.TraceHeader)
}

// get returns the record of arn, if kept.
func (c *recentClosed) get(arn string) (ExecutionRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.recs[arn]
	if !ok {
		return ExecutionRecord{}, false
	}
	return *rec, true
}

// put keeps rec, a closed execution's record as written, dropping the
// oldest records while the bounds are passed; a record larger than the
// byte bound is not kept.
func (c *recentClosed) put(rec *ExecutionRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(rec.ARN)
	size := heldBytes(rec)
	if size > recentClosedBytes {
		return
	}
	if c.recs == nil {
		c.recs = make(map[string]*ExecutionRecord)
		c.ring = make([]string, recentClosedRecords)
	}
	for c.n > 0 && (c.n == len(c.ring) || c.bytes+size > recentClosedBytes) {
		c.dropLocked(c.ring[c.head])
		c.head = (c.head + 1) % len(c.ring)
		c.n--
	}
	c.recs[rec.ARN] = rec
	c.ring[(c.head+c.n)%len(c.ring)] = rec.ARN
	c.n++
	c.bytes += size
}

// drop forgets the record of arn.
func (c *recentClosed) drop(arn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(arn)
}

// dropLocked forgets the record of arn; mu is held. Its ARN stays in the
// ring until its turn, and then drops whatever is kept under it (a record
// put again since, which is then a miss: the store is read, which is
// right for every record).
func (c *recentClosed) dropLocked(arn string) {
	if rec, ok := c.recs[arn]; ok {
		c.bytes -= heldBytes(rec)
		delete(c.recs, arn)
	}
}
