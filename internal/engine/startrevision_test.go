package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// earlierRelease is a store whose executions a release before revisions
// wrote: each first commit carries its state machine's definition (the
// store rewrites the revision the engine names), and the store gives back
// no revision.
type earlierRelease struct {
	engine.Store
	mu   sync.Mutex
	defs map[string]string // revision -> definition, as they were put
	// asked counts StateMachineRevision's calls, rewrote the starts
	// Commit wrote with their definitions.
	asked, rewrote int
}

func (s *earlierRelease) PutStateMachine(ctx context.Context, sm engine.StateMachineRecord) error {
	s.mu.Lock()
	s.defs[sm.RevisionID] = sm.Definition
	s.mu.Unlock()
	return s.Store.PutStateMachine(ctx, sm)
}

func (s *earlierRelease) StateMachineRevision(context.Context, string, string) (string, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	return "", "", false, nil
}

// Commit writes a first commit's start as the earlier release did: the
// definition in place of the revision.
func (s *earlierRelease) Commit(ctx context.Context, commits []engine.Commit) error {
	for i := range commits {
		c := &commits[i]
		if c.Seq != 1 {
			continue
		}
		var b struct {
			Start struct{ Revision string } `json:"start"`
		}
		if err := json.Unmarshal(c.Data, &b); err != nil {
			return err
		}
		if b.Start.Revision == "" {
			continue
		}
		rev, _ := json.Marshal(b.Start.Revision)
		s.mu.Lock()
		def, _ := json.Marshal(s.defs[b.Start.Revision])
		s.mu.Unlock()
		c.Data = bytes.Replace(c.Data, append([]byte(`{"start":{"revision":`), rev...), append([]byte(`{"start":{"definition":`), def...), 1)
		c.Batch = nil
		s.mu.Lock()
		s.rewrote++
		s.mu.Unlock()
	}
	return s.Store.Commit(ctx, commits)
}

func ptr[T any](v T) *T { return &v }

// TestStartRevisionOrDefinition: an execution's first commit names the
// revision it runs, not its definition, and an execution that an earlier
// release wrote with its definition inline is resumed, described and
// redriven from that definition, after its state machine has changed.
func TestStartRevisionOrDefinition(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const (
		first = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"F"},"F":{"Type":"Fail","Error":"First"}}}`
		later = `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Later"}}}`
	)

	t.Run("Now", func(t *testing.T) {
		t.Parallel()
		store := engine.NewMemoryStore()
		e := startEngine(t, engine.Config{Store: store})
		arn := createMachine(t, e, sfn.TypeStandard, first)
		d, err := e.DescribeStateMachine(ctx, arn)
		require.NoError(t, err)
		x, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		_, err = e.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: arn, Definition: ptr(later)})
		require.NoError(t, err)
		batches, err := store.Batches(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Contains(t, string(batches[0]), `"start":{"revision":"`+d.RevisionID+`"`)
		require.NotContains(t, string(batches[0]), `"definition"`, "the definition is the store's, under its revision")
		m, err := e.DescribeStateMachineForExecution(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, first, m.Definition, "the revision it started on, not the state machine's now")
	})

	t.Run("EarlierRelease", func(t *testing.T) {
		t.Parallel()
		store := &earlierRelease{Store: engine.NewMemoryStore(), defs: map[string]string{}}
		e1, err := engine.New(engine.Config{Store: store})
		require.NoError(t, err)
		require.NoError(t, e1.Start(ctx))
		arn := createMachine(t, e1, sfn.TypeStandard, first)
		x, err := e1.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		_, err = e1.UpdateStateMachine(ctx, sfn.UpdateStateMachineInput{StateMachineARN: arn, Definition: ptr(later)})
		require.NoError(t, err)
		require.NoError(t, e1.Close(), "closed in the Wait: the next engine resumes it")
		batches, err := store.Batches(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Contains(t, string(batches[0]), `{"start":{"definition":`)

		e2 := startEngine(t, engine.Config{Store: store})
		store.mu.Lock()
		require.Equal(t, 1, store.rewrote)
		require.Zero(t, store.asked, "nothing asked at the engine's start")
		store.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, e2.Wait(wctx, x.ExecutionARN))
		got := redriveDescribe(t, e2, x.ExecutionARN)
		require.Equal(t, sfn.StatusFailed, got.Status)
		require.Equal(t, "First", got.Error, "resumed on the definition it started with")
		m, err := e2.DescribeStateMachineForExecution(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, first, m.Definition)
		_, err = e2.RedriveExecution(ctx, sfn.RedriveExecutionInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err)
		require.NoError(t, e2.Wait(wctx, x.ExecutionARN))
		got = redriveDescribe(t, e2, x.ExecutionARN)
		require.Equal(t, "First", got.Error, "redriven on the definition it started with")
		require.Equal(t, 1, got.RedriveCount)
		store.mu.Lock()
		require.Zero(t, store.asked, "no revision is asked for an execution that carries its definition")
		store.mu.Unlock()

		// e2 names the state machine's revision in its executions' first
		// commits, as e1 did, which the store rewrites.
		y, err := e2.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: arn})
		require.NoError(t, err)
		require.NoError(t, e2.Wait(wctx, y.ExecutionARN))
		store.mu.Lock()
		require.Equal(t, 2, store.rewrote, "named by e2, rewritten by the store")
		store.mu.Unlock()
		require.Equal(t, "Later", redriveDescribe(t, e2, y.ExecutionARN).Error)
	})
}
