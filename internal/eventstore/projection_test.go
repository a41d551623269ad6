package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

type summary struct {
	Version, Events     int64
	FirstType, LastType string
}

func summaries(t *testing.T, s *eventstore.Store) map[string]summary {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT stream_id, version, events, first_type, last_type FROM api.stream_summaries`)
	require.NoError(t, err)
	out := map[string]summary{}
	for rows.Next() {
		var id string
		var sm summary
		require.NoError(t, rows.Scan(&id, &sm.Version, &sm.Events, &sm.FirstType, &sm.LastType))
		out[id] = sm
	}
	require.NoError(t, rows.Err())
	return out
}

// eventually polls check until it returns true; the bound only keeps a
// broken test from hanging.
func eventually(t *testing.T, check func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runProjection(t *testing.T, s *eventstore.Store, p eventstore.Projection) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.RunProjection(ctx, p, eventstore.ProjectionOptions{BatchSize: 7, RetryDelay: 5 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
	eventually(t, func() bool {
		var ok bool
		require.NoError(t, s.Pool().QueryRow(context.Background(), `SELECT to_regclass('api.stream_summaries') IS NOT NULL`).Scan(&ok))
		return ok
	}, "the projection makes its table")
}

func TestProjectionFollowsTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	for i := range 20 {
		_, err := s.Append(ctx, fmt.Sprintf("execution-%d", i%3), eventstore.Any, ev(fmt.Sprintf("T%d", i), `{}`))
		require.NoError(t, err)
	}
	runProjection(t, s, eventstore.StreamSummaries())
	eventually(t, func() bool { return len(summaries(t, s)) == 3 && summaries(t, s)["execution-0"].Events == 7 }, "the projection catches up")
	require.Equal(t, summary{Version: 7, Events: 7, FirstType: "T0", LastType: "T18"}, summaries(t, s)["execution-0"])

	_, err := s.Append(ctx, "execution-0", eventstore.Any, ev("Live", `{}`))
	require.NoError(t, err)
	eventually(t, func() bool { return summaries(t, s)["execution-0"].LastType == "Live" }, "the projection follows live")
	require.Equal(t, int64(8), summaries(t, s)["execution-0"].Events)
	var category string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT category FROM api.stream_summaries WHERE stream_id = 'execution-0'`).Scan(&category))
	require.Equal(t, "execution", category)
}

// A handler that fails half-way through a batch changes nothing: the batch
// and its checkpoint roll back together, and the retry applies each event
// exactly once.
func TestProjectionBatchesAreAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	for i := range 10 {
		_, err := s.Append(ctx, "order-1", eventstore.Any, ev(fmt.Sprintf("T%d", i), `{}`))
		require.NoError(t, err)
	}
	p := eventstore.StreamSummaries()
	var failures atomic.Int32
	failures.Store(3)
	inner := p.HandleFunc
	p.HandleFunc = func(ctx context.Context, tx pgx.Tx, names eventstore.TableNames, e eventstore.Event) error {
		if e.Type == "T5" && failures.Add(-1) >= 0 {
			return errors.New("transient")
		}
		return inner(ctx, tx, names, e)
	}
	runProjection(t, s, p)
	eventually(t, func() bool { return summaries(t, s)["order-1"].Events == 10 }, "the projection catches up")
	require.Equal(t, summary{Version: 10, Events: 10, FirstType: "T0", LastType: "T9"}, summaries(t, s)["order-1"], "no event counted twice")
}

func TestRebuildSwapsInAFreshModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	var total int
	for i := range 60 {
		_, err := s.Append(ctx, fmt.Sprintf("execution-%d", i%4), eventstore.Any, ev(fmt.Sprintf("T%d", i), `{}`))
		require.NoError(t, err)
		total++
	}
	p := eventstore.StreamSummaries()
	runProjection(t, s, p)
	eventually(t, func() bool { return summaries(t, s)["execution-3"].Events == 15 }, "the projection catches up")

	// The model goes wrong (a bug, a bad hand edit): rebuild it.
	_, err := s.Pool().Exec(ctx, `UPDATE api.stream_summaries SET events = 999, last_type = 'wrong'`)
	require.NoError(t, err)

	var progress []eventstore.RebuildProgress
	var seenDuring []map[string]summary
	err = s.RebuildProjection(ctx, p, eventstore.ProjectionOptions{
		BatchSize: 10,
		ProgressFunc: func(pr eventstore.RebuildProgress) {
			progress = append(progress, pr)
			if !pr.Swapped {
				// Readers still see the old model, never the half-built one.
				seenDuring = append(seenDuring, summaries(t, s))
				// And the log keeps growing while the rebuild runs.
				if len(progress) == 2 {
					_, err := s.Append(ctx, "execution-9", eventstore.Any, ev("DuringRebuild", `{}`))
					require.NoError(t, err)
					total++
				}
			}
		},
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(progress), 3)
	for _, seen := range seenDuring {
		require.Equal(t, int64(999), seen["execution-0"].Events, "the old tables stay live until the swap")
	}
	last := progress[len(progress)-1]
	require.True(t, last.Swapped)
	require.GreaterOrEqual(t, last.Applied, int64(60), "every event before the rebuild began")
	for i := 1; i < len(progress); i++ {
		require.GreaterOrEqual(t, progress[i].Applied, progress[i-1].Applied)
	}

	// An event that came during the rebuild is in the new model, applied by
	// the swap or, when an older transaction held it back then, by the live
	// projection right after.
	eventually(t, func() bool { return len(summaries(t, s)) == 5 }, "the event appended during the rebuild arrives")
	got := summaries(t, s)
	require.Equal(t, summary{Version: 15, Events: 15, FirstType: "T3", LastType: "T59"}, got["execution-3"])
	require.Equal(t, summary{Version: 1, Events: 1, FirstType: "DuringRebuild", LastType: "DuringRebuild"}, got["execution-9"])

	// The running projection carries on with the new tables.
	_, err = s.Append(ctx, "execution-3", eventstore.Any, ev("AfterRebuild", `{}`))
	require.NoError(t, err)
	eventually(t, func() bool { return summaries(t, s)["execution-3"].LastType == "AfterRebuild" }, "the live projection follows on the new tables")
	require.Equal(t, int64(16), summaries(t, s)["execution-3"].Events)

	var leftovers int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'api' AND tablename LIKE 'stream_summaries%'`).Scan(&leftovers))
	require.Equal(t, 1, leftovers, "the old and the fresh copies are gone")
}

func TestProjectionDefinitionsAreChecked(t *testing.T) {
	t.Parallel()
	s := openStore(t, false, eventstore.Options{})
	p := eventstore.StreamSummaries()
	p.Name = "Bad Name"
	require.ErrorContains(t, s.RebuildProjection(context.Background(), p, eventstore.ProjectionOptions{}), "lowercase letters")
	p = eventstore.StreamSummaries()
	p.Tables = []string{"x; DROP TABLE y"}
	require.ErrorContains(t, s.RunProjection(context.Background(), p, eventstore.ProjectionOptions{}), "not a plain identifier")
}
