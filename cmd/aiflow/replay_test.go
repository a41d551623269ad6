package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestReplayRebuildsAProjectionWithProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgclustertest.Database(t)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	store, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	for i := range 25 {
		_, err := store.Append(ctx, fmt.Sprintf("execution-%d", i%5), eventstore.Any,
			eventstore.NewEvent{Type: "Step", Data: []byte(fmt.Sprintf(`{"i":%d}`, i))})
		require.NoError(t, err)
	}

	te := newTestEnv(map[string]string{"DATABASE_URL": dsn, "AIFLOW_DATA_DIR": t.TempDir()})
	require.Equal(t, 0, run(ctx, []string{"replay", "--projection", "stream_summaries", "--batch", "10"}, te.env()), te.stderr.String())
	out := te.stdout.String()
	require.Contains(t, out, "rebuilding projection stream_summaries (api.stream_summaries)")
	require.Regexp(t, `replayed 10 of 25 events \(40%\), position \d+`, out)
	require.Regexp(t, `swapped in: 25 events applied, up to position \d+`, out)

	var rows, events int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), sum(events) FROM api.stream_summaries`).Scan(&rows, &events))
	require.Equal(t, 5, rows)
	require.Equal(t, 25, events)
}

func TestReplayRejectsBadUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--projection NAME is required"},
		{[]string{"--projection", "nope"}, `no projection "nope"; there are: stream_summaries`},
		{[]string{"--projection", "stream_summaries", "--batch", "0"}, "--batch must be 1 to 100000"},
		{[]string{"--projection", "stream_summaries", "extra"}, `unexpected arguments ["extra"]`},
	} {
		te := newTestEnv(nil)
		require.Equal(t, 2, run(context.Background(), append([]string{"replay"}, tc.args...), te.env()), "%v", tc.args)
		require.Contains(t, te.stderr.String(), tc.want, "%v", tc.args)
	}
}
