package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/enginetest"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	enginetest.RunStoreSuite(t, func(*testing.T) engine.Store { return engine.NewMemoryStore() })
}

func TestMemoryStoreRefusesARetriedCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := engine.NewMemoryStore()
	c := engine.Commit{
		Execution: engine.ExecutionRecord{ARN: "arn:aws:states:us-east-1:123456789012:execution:sm:x", StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:sm", Name: "x", Status: sfn.StatusRunning},
		Seq:       1, Type: "ExecutionStarted", Data: json.RawMessage(`{}`),
	}
	require.NoError(t, s.Commit(ctx, []engine.Commit{c}))
	err := s.Commit(ctx, []engine.Commit{c})
	var e *sfn.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, sfn.CodeConflict, e.Code)
	require.Contains(t, e.Message, "commit seq 1 is not the next one; expected seq 2")
}

// TestMemoryStoreHoldsTenThousandExecutions keeps 10,000 running
// executions of ten commits each (about 600 bytes of history per commit)
// and checks what the heap grows by. It does not run in parallel: the heap
// it measures is the process's.
func TestMemoryStoreHoldsTenThousandExecutions(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	const executions, commits = 10_000, 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	s := engine.NewMemoryStore()
	ctx := context.Background()
	batch := json.RawMessage(fmt.Sprintf(`{"events":[{"type":"TaskStateEntered","stateEnteredEventDetails":{"name":"Classify","input":%q}}]}`, string(make([]byte, 500))))
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	recs := make([]engine.ExecutionRecord, executions)
	for i := range recs {
		recs[i] = engine.ExecutionRecord{
			ARN:             fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:sm:e%05d", i),
			StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
			Name:            fmt.Sprintf("e%05d", i),
			Status:          sfn.StatusRunning,
			StartDate:       start.Add(time.Duration(i) * time.Millisecond),
			Input:           `{"ticket":"T-1"}`,
		}
	}
	call := make([]engine.Commit, 0, 200)
	for seq := int64(1); seq <= commits; seq++ {
		for i := range recs {
			call = append(call, engine.Commit{Execution: recs[i], Seq: seq, Type: "TaskStateEntered", Data: batch})
			if len(call) == cap(call) {
				require.NoError(t, s.Commit(ctx, call))
				call = call[:0]
			}
		}
	}
	require.NoError(t, s.Commit(ctx, call))

	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	history := int64(executions * commits * len(batch))
	t.Logf("10,000 executions with %d MB of history take %d MB of heap", history>>20, grown>>20)
	require.Less(t, grown, 2*history, "the store's overhead stays below the history it holds")
	open, err := s.OpenExecutions(ctx)
	require.NoError(t, err)
	require.Len(t, open, executions)
	runtime.KeepAlive(s)
}

// BenchmarkMemoryStoreCommit commits the transitions of many executions,
// a few calls per execution as the engine makes them: the first commit,
// two middle ones and the last.
func BenchmarkMemoryStoreCommit(b *testing.B) {
	for _, perCall := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("commits=%d", perCall), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			s := engine.NewMemoryStore()
			data := json.RawMessage(`{"events":[{"type":"TaskScheduled","taskScheduledEventDetails":{"resourceType":"sqs","resource":"sendMessage.waitForTaskToken"}}]}`)
			start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
			call := make([]engine.Commit, perCall)
			recs := make([]engine.ExecutionRecord, perCall)
			n := 0
			for b.Loop() {
				for i := range call {
					seq := int64(n%4) + 1
					if seq == 1 {
						recs[i] = engine.ExecutionRecord{
							ARN:             fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:sm:e%d-%d", n, i),
							StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
							Name:            fmt.Sprintf("e%d-%d", n, i),
							Status:          sfn.StatusRunning,
							StartDate:       start.Add(time.Duration(n) * time.Microsecond),
						}
					}
					if seq == 4 {
						recs[i].Status = sfn.StatusSucceeded
					}
					call[i] = engine.Commit{Execution: recs[i], Seq: seq, Type: "TaskScheduled", Data: data}
				}
				if err := s.Commit(ctx, call); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*perCall)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
