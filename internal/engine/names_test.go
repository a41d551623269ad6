package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestStartNameOfAClosedExecution: a closed execution is not in memory;
// a second start of its name fails with ExecutionAlreadyExists, alone or
// among other starts, which carry on.
func TestStartNameOfAClosedExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), CommitWriters: 1})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "names",
		Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	require.NoError(t, err)
	first, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "taken", Input: `{}`})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, first.ExecutionARN))

	// The same name again, alone and among other starts.
	_, err = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "taken", Input: `{}`})
	var ee *sfn.Error
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, sfn.CodeExecutionAlreadyExists, ee.Code)

	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			name := fmt.Sprintf("new-%d", i)
			if i == 7 {
				name = "taken"
			}
			_, errs[i] = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: name, Input: `{"other": true}`})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 7 {
			require.True(t, errors.As(err, &ee), "%v", err)
			require.Equal(t, sfn.CodeExecutionAlreadyExists, ee.Code)
			continue
		}
		require.NoError(t, err, "start %d", i)
	}
	list, err := e.ListExecutions(ctx, sfn.ListExecutionsInput{StateMachineARN: sm.StateMachineARN, MaxResults: 100})
	require.NoError(t, err)
	require.Len(t, list.Executions, 20, "the first and the 19 new ones")
	d, err := e.DescribeExecution(ctx, first.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status)
	require.Equal(t, "{}", d.Input, "the closed execution is untouched")
}

// readCountingStore counts the reads of an execution's record.
type readCountingStore struct {
	engine.Store
	mu    sync.Mutex
	reads []string
}

func (s *readCountingStore) Execution(ctx context.Context, arn string) (engine.ExecutionRecord, bool, error) {
	s.mu.Lock()
	s.reads = append(s.reads, arn)
	s.mu.Unlock()
	return s.Store.Execution(ctx, arn)
}

func (s *readCountingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reads)
}

// TestStartLooksForAClosedExecutionOfItsName: a start given a name looks
// in the store for a closed execution of that name first; one whose name
// the engine makes from crypto/rand does not (no execution had it),
// unless the engine's random source is another, which may repeat.
func TestStartLooksForAClosedExecutionOfItsName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		random io.Reader
		given  string
		reads  int
	}{
		{"named", nil, "given", 1},
		{"unnamed", nil, "", 0},
		{"unnamed, another random source", bytes.NewReader(make([]byte, 1024)), "", 1},
	} {
		store := &readCountingStore{Store: engine.NewMemoryStore()}
		e, err := engine.New(engine.Config{Store: store, Random: tc.random})
		require.NoError(t, err)
		require.NoError(t, e.Start(ctx))
		sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "names",
			Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
		require.NoError(t, err)
		before := store.count()
		out, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: tc.given, Input: `{}`})
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.reads, store.count()-before, tc.name)
		require.NoError(t, e.Wait(ctx, out.ExecutionARN))
		require.NoError(t, e.Close())
	}
}

// TestMadeNamesAreInTheOrderOfTheirStarts: an execution started without
// a name gets a version 7 UUID, its start's millisecond first, so the
// names (and ARNs) of later starts sort after.
func TestMadeNamesAreInTheOrderOfTheirStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore()})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { _ = e.Close() })
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "ordered",
		Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	require.NoError(t, err)
	var prev string
	for i := range 5 {
		before := time.Now().UnixMilli()
		out, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Input: `{}`})
		require.NoError(t, err)
		after := time.Now().UnixMilli()
		name := out.ExecutionARN[strings.LastIndexByte(out.ExecutionARN, ':')+1:]
		id, err := uuid.Parse(name)
		require.NoError(t, err, name)
		require.Equal(t, name, id.String(), "the canonical form")
		require.Equal(t, 7, int(id.Version()), name)
		require.Equal(t, uuid.RFC4122, id.Variant(), name)
		sec, nsec := id.Time().UnixTime()
		ms := sec*1000 + nsec/1e6
		require.True(t, ms >= before && ms <= after, "%s: %d not in [%d, %d]", name, ms, before, after)
		require.Less(t, prev, out.ExecutionARN, "start %d", i)
		prev = out.ExecutionARN
		require.NoError(t, e.Wait(ctx, out.ExecutionARN))
		time.Sleep(2 * time.Millisecond) // the next start is a later millisecond
	}
}
