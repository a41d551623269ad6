package enginestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// BenchmarkCommitGrownStore commits executions' batches as the engine's
// group commits do, 100 executions a call, each execution's four commits
// in four calls, into a store that already holds grown commits of
// executions started before (the event store is never archived: it only
// grows). The executions are named by version 7 UUIDs, in the order of
// their starts, as the engine names those started without a name, or by
// version 4 UUIDs, random, as it named them before: the name is in the
// keys of the summaries' indexes and of the history's stream. It reports the server's CPU and WAL per commit
// (pg-cpu-µs/commit, wal-B/commit) and, once done, the size of the event
// store's unique index of event ids per commit it holds
// (idx-B/stored-commit): what each commit's id costs the index depends on
// where in it the id goes.
//
//	go test ./internal/enginestore -run '^$' -bench CommitGrownStore -benchtime 40000x
func BenchmarkCommitGrownStore(b *testing.B) {
	names := []struct {
		name string
		make func() string
	}{
		// As the engine names an execution started without a name.
		{"ordered", func() string { return uuid.Must(uuid.NewV7()).String() }},
		// As it named one before (and as a caller's random UUIDs do).
		{"random", uuid.NewString},
	}
	for _, grown := range []int{0, 1_000_000} {
		for _, nm := range names {
			b.Run(fmt.Sprintf("grown=%d/names=%s", grown, nm.name), func(b *testing.B) {
				ctx := context.Background()
				pool := pgclustertest.Pool(b)
				events, err := eventstore.Open(ctx, pool, eventstore.Options{})
				require.NoError(b, err)
				store, err := enginestore.New(ctx, pool, events)
				require.NoError(b, err)
				// The earlier executions started one every 2 ms until an hour
				// ago, each with its four commits.
				first := time.Now().Add(-time.Hour - time.Duration(grown/4)*2*time.Millisecond)
				commitRounds(b, store, nm.make, grown/4, 500, func(i int) time.Time {
					return first.Add(time.Duration(i) * 2 * time.Millisecond)
				})
				_, err = pool.Exec(ctx, "CHECKPOINT")
				require.NoError(b, err)

				wal := pgclustertest.WALInsertLSN(b, pool)
				serverCPU := pgclustertest.CountServerCPU(b)
				b.ResetTimer()
				commitRounds(b, store, nm.make, (b.N+3)/4, 100, func(int) time.Time { return time.Now() })
				b.StopTimer()
				n := (b.N + 3) / 4 * 4
				serverCPU(n, "commit")
				b.ReportMetric(float64(pgclustertest.WALInsertLSN(b, pool)-wal)/float64(n), "wal-B/commit")
				var size int64
				require.NoError(b, pool.QueryRow(ctx, `SELECT pg_relation_size('eventstore.event_ids_pkey')`).Scan(&size))
				b.ReportMetric(float64(size)/float64(grown+n), "idx-B/stored-commit")
			})
		}
	}
}

// commitRounds commits n executions' four commits, per executions a call:
// the first commit of each of a call's executions, then their second, and
// so on, as the engine's group commits come. newName names each
// execution, started gives the i-th one's start.
func commitRounds(b *testing.B, store *enginestore.Store, newName func() string, n, per int, started func(i int) time.Time) {
	b.Helper()
	ctx := context.Background()
	data := json.RawMessage(`{"events":[{"timestamp":"2026-12-07T05:26:35.971745928Z","type":"TaskStateEntered","id":7,"previousEventId":6,` +
		`"stateEnteredEventDetails":{"name":"Two","input":"{\"n\":17745,\"payload\":\"` + strings.Repeat("0123456789abcdef", 16) + `\"}"}}]}`)
	commits := make([]engine.Commit, 0, per)
	for from := 0; from < n; from += per {
		recs := make([]engine.ExecutionRecord, min(per, n-from))
		for k := range recs {
			name := newName()
			recs[k] = engine.ExecutionRecord{
				ARN:             "arn:aws:states:us-east-1:123456789012:execution:grown:" + name,
				StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:grown",
				Name:            name, Status: sfn.StatusRunning, StartDate: started(from + k), Input: `{}`,
			}
		}
		for seq := int64(1); seq <= 4; seq++ {
			commits = commits[:0]
			for _, r := range recs {
				if seq == 4 {
					r.Status, r.StopDate, r.Output = sfn.StatusSucceeded, r.StartDate, `{}`
				}
				commits = append(commits, engine.Commit{Execution: r, Seq: seq, Type: "TaskStateEntered", Data: data})
			}
			require.NoError(b, store.Commit(ctx, commits))
		}
	}
}
