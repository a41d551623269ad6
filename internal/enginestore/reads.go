package enginestore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aiflow/aiflow/internal/engine"
)

// Reads of one execution's summary are read together (batchcall): while
// one query is under way, the reads that arrive queue up, and the next
// query reads them all (WHERE arn = ANY). The engine reads an execution
// before every start given a name (whether one closed under it), and a
// thousand starts at once then cost a few queries, not a thousand. A read
// alone goes at once, as before; a read whose caller gives up before its
// query is left out.

// Bounds of a query of summaries.
const (
	// maxReadBatch bounds the executions one query reads.
	maxReadBatch = 1000
	// readBatchTimeout bounds a query, which no one caller's context
	// governs alone.
	readBatchTimeout = 30 * time.Second
)

// readResult is a read's record, or whether there is none, or the error.
type readResult struct {
	rec engine.ExecutionRecord
	ok  bool
	err error
}

// Execution returns one execution's summary.
func (s *Store) Execution(ctx context.Context, arn string) (engine.ExecutionRecord, bool, error) {
	res, err := s.reads.Do(ctx, arn)
	if err != nil {
		return engine.ExecutionRecord{}, false, fmt.Errorf("reading execution %s: %w", arn, err)
	}
	return res.rec, res.ok, res.err
}

// readSummaries reads the summaries of executions in one query.
func (s *Store) readSummaries(ctx context.Context, arns []string) []readResult {
	results := make([]readResult, len(arns))
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
	for i, arn := range arns {
		results[i].rec, results[i].ok = byARN[arn]
	}
	return results
}
