package enginestore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestReadsOfSummariesAreReadTogether: reads of single executions made
// at once are answered, each with its own execution or none, in fewer
// queries than reads; a read whose context ends gives up without holding
// the others up; a read alone is one query.
func TestReadsOfSummariesAreReadTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, queries := pgclustertest.CountingPool(t, "FROM engine.executions WHERE arn = ANY")
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	store, err := enginestore.New(ctx, pool, events)
	require.NoError(t, err)

	e, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "reads",
		Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	require.NoError(t, err)
	var arns []string
	for i := range 20 {
		out, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: fmt.Sprintf("x%d", i), Input: fmt.Sprintf(`{"i":%d}`, i)})
		require.NoError(t, err)
		require.NoError(t, e.Wait(ctx, out.ExecutionARN))
		arns = append(arns, out.ExecutionARN)
	}

	before := queries.Load()
	rec, ok, err := store.Execution(ctx, arns[3])
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, `{"i":3}`, rec.Input)
	require.Equal(t, before+1, queries.Load(), "a read alone is one query")

	const readers = 400
	before = queries.Load()
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			rctx := ctx
			if i%7 == 0 { // gives up at once or soon
				var cancel context.CancelFunc
				rctx, cancel = context.WithTimeout(ctx, time.Duration(i%3)*time.Millisecond)
				defer cancel()
			}
			arn := arns[i%len(arns)]
			if i%5 == 0 {
				arn = strings.Replace(arn, ":x", ":missing", 1)
			}
			rec, ok, err := store.Execution(rctx, arn)
			switch {
			case err != nil && i%7 == 0:
				errs[i] = nil // given up: its context ended
			case err != nil:
				errs[i] = err
			case i%5 == 0 && ok:
				errs[i] = fmt.Errorf("read %d: %s found", i, arn)
			case i%5 != 0 && (!ok || rec.ARN != arn || rec.Status != sfn.StatusSucceeded):
				errs[i] = fmt.Errorf("read %d: %s gave %+v, %v", i, arn, rec, ok)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("reads still waiting after a minute")
	}
	for _, err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d reads in %d queries", readers, queries.Load()-before)
	require.Less(t, queries.Load()-before, int64(readers), "reads at once are read together")

	// The queue is left empty: a read now is one query again.
	before = queries.Load()
	_, ok, err = store.Execution(ctx, arns[0])
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, before+1, queries.Load())
}
