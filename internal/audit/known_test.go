package audit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogsOfSeveralProcessesShareOneChain: a log appends after the head
// it knows only while no other has moved it; after another's append, it
// appends after that one.
func TestLogsOfSeveralProcessesShareOneChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := New(b.pool, Options{NowFunc: b.log.now})
	ctx := context.Background()

	var got []Entry
	for i, l := range []*Log{b.log, b.log, other, b.log, other, other, b.log} {
		e, err := l.Append(ctx, record(i))
		require.NoError(t, err)
		got = append(got, e)
	}
	for i, e := range got {
		require.Equal(t, int64(i+1), e.Seq)
		if i > 0 {
			require.Equal(t, got[i-1].Hash, e.PrevHash, "record %d follows record %d", e.Seq, got[i-1].Seq)
		}
	}
	rep, err := b.log.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(len(got)), rep.Records)
}

func TestConcurrentLogsNeverFork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	logs := []*Log{b.log, New(b.pool, Options{NowFunc: b.log.now}), New(b.pool, Options{NowFunc: b.log.now})}
	appendConcurrently(t, b.log, logs, 9, 15)
}
