package enginestore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aiflow/aiflow/internal/engine"
)

// Reads of one execution's summary are read together: while one query is
// under way, the reads that arrive queue up, and the next query reads
// them all (WHERE arn = ANY). The engine reads an execution before every
// start given a name (whether one closed under it), and a thousand starts
// at once then cost a few queries, not a thousand. A read alone goes at
// once, as before.
//
// No goroutine is started for it: the caller whose read finds no query
// under way makes the query; when it is done and reads are waiting, it
// hands the next query to the first of them, whose caller makes it.

// Bounds of a query of summaries.
const (
	// maxReadBatch bounds the executions one query reads.
	maxReadBatch = 1000
	// readBatchTimeout bounds a query, which no one caller's context
	// governs alone.
	readBatchTimeout = 30 * time.Second
)

// readQueue holds the reads waiting for their query.
type readQueue struct {
	mu      sync.Mutex
	queue   []*pendingRead
	reading bool // a caller makes a query, or has been handed the next
}

// pendingRead is a read waiting for its query, and where its result goes.
type pendingRead struct {
	arn  string
	done chan readResult // buffered: the reader never waits for the caller
	// lead is set, under the queue's lock, when the read is handed the
	// next query: its caller must make it, even if it gives up waiting.
	lead bool
}

// readResult is a read's record, or whether there is none, or the error;
// or, with next set, the hand-over of the next query.
type readResult struct {
	rec  engine.ExecutionRecord
	ok   bool
	err  error
	next bool
}

// Execution returns one execution's summary.
func (s *Store) Execution(ctx context.Context, arn string) (engine.ExecutionRecord, bool, error) {
	if err := ctx.Err(); err != nil {
		return engine.ExecutionRecord{}, false, fmt.Errorf("reading execution %s: %w", arn, err)
	}
	r := &pendingRead{arn: arn, done: make(chan readResult, 2)}
	q := &s.reads
	q.mu.Lock()
	q.queue = append(q.queue, r)
	lead := !q.reading
	q.reading = true
	q.mu.Unlock()
	if lead {
		s.readBatch(ctx)
	}
	for {
		select {
		case res := <-r.done:
			if res.next {
				q.mu.Lock()
				r.lead = false // taken: its read is in the query it makes
				q.mu.Unlock()
				s.readBatch(ctx)
				continue
			}
			return res.rec, res.ok, res.err
		case <-ctx.Done():
			q.mu.Lock()
			lead := r.lead
			if i := indexOfRead(q.queue, r); i >= 0 && !lead {
				q.queue = append(q.queue[:i], q.queue[i+1:]...)
			}
			q.mu.Unlock()
			if lead {
				// It was handed the next query, which the reads queued
				// after it wait for: make it (its hand-over is in done).
				<-r.done
				s.readBatch(ctx)
			}
			return engine.ExecutionRecord{}, false, fmt.Errorf("reading execution %s: %w", arn, ctx.Err())
		}
	}
}

// indexOfRead is the index of r in reads, or -1.
func indexOfRead(reads []*pendingRead, r *pendingRead) int {
	for i, p := range reads {
		if p == r {
			return i
		}
	}
	return -1
}

// readBatch reads the reads queued, up to maxReadBatch, in one query, and
// hands the next query to the first read still queued, or ends the
// queue's reading when none is.
func (s *Store) readBatch(ctx context.Context) {
	q := &s.reads
	q.mu.Lock()
	n := min(len(q.queue), maxReadBatch)
	batch := make([]*pendingRead, n)
	copy(batch, q.queue)
	q.queue = q.queue[n:]
	q.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readBatchTimeout)
	results := s.readSummaries(ctx, batch)
	cancel()
	for i, r := range batch {
		r.done <- results[i]
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) == 0 {
		q.reading = false
		return
	}
	next := q.queue[0]
	next.lead = true
	next.done <- readResult{next: true}
}

// readSummaries reads the summaries of the batch's executions in one
// query.
func (s *Store) readSummaries(ctx context.Context, batch []*pendingRead) []readResult {
	results := make([]readResult, len(batch))
	arns := make([]string, len(batch))
	for i, r := range batch {
		arns[i] = r.arn
	}
	what := "reading execution " + arns[0]
	if len(arns) > 1 {
		what = fmt.Sprintf("reading %d executions", len(arns))
	}
	rows, err := s.pool.Query(ctx, `SELECT `+executionColumns+` FROM engine.executions WHERE arn = ANY($1::text[])`, arns)
	var recs []engine.ExecutionRecord
	if err == nil {
		recs, err = pgx.CollectRows(rows, scanExecution)
	}
	if err != nil {
		err = opaque(what, err)
		for i := range results {
			results[i].err = err
		}
		return results
	}
	byARN := make(map[string]engine.ExecutionRecord, len(recs))
	for _, rec := range recs {
		byARN[rec.ARN] = rec
	}
	for i, r := range batch {
		results[i].rec, results[i].ok = byARN[r.arn]
	}
	return results
}
