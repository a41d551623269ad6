package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// sideTable makes a table of the test's own in the shared database, for the
// rows an AlsoFunc writes.
func sideTable(t *testing.T, s *eventstore.Store) string {
	t.Helper()
	name := fmt.Sprintf("append_with_%d", streamSeq.Add(1))
	_, err := s.Pool().Exec(context.Background(), "CREATE TABLE "+name+" (stream_id text PRIMARY KEY, events bigint NOT NULL)")
	require.NoError(t, err)
	return name
}

// countInto is an AlsoFunc that records, in table, how many events of
// stream its transaction sees.
func countInto(table, stream string, calls *int) eventstore.AlsoFunc {
	return func(ctx context.Context, tx pgx.Tx) error {
		*calls++
		_, err := tx.Exec(ctx, `INSERT INTO `+table+` (stream_id, events)
			SELECT $1, count(*) FROM eventstore.events WHERE stream_id = $1
			ON CONFLICT (stream_id) DO UPDATE SET events = EXCLUDED.events`, stream)
		return err
	}
}

func sideCount(t *testing.T, s *eventstore.Store, table, stream string) (int64, bool) {
	t.Helper()
	var n int64
	err := s.Pool().QueryRow(context.Background(), "SELECT events FROM "+table+" WHERE stream_id = $1", stream).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false
	}
	require.NoError(t, err)
	return n, true
}

func TestAppendManyWithCommitsTheExtraStatementsWithTheEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a, b := stream(t), stream(t)

	calls := 0
	res, err := s.AppendManyWith(ctx, []eventstore.AppendRequest{
		{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("A", `{}`), ev("B", `{}`)}},
		{StreamID: b, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("A", `{}`)}},
	}, countInto(table, a, &calls))
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.Equal(t, int64(2), res[0].Version)
	require.Equal(t, 1, calls)
	n, ok := sideCount(t, s, table, a)
	require.True(t, ok, "the extra statement committed")
	require.Equal(t, int64(2), n, "the extra statement saw the events of its own transaction")
}

type sideError struct{ reason string }

func (e *sideError) Error() string { return e.reason }

func TestAppendManyWithRollsBackEverythingWhenTheExtraStatementsFail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a := stream(t)

	_, err := s.AppendManyWith(ctx, []eventstore.AppendRequest{
		{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("A", `{}`)}},
	}, func(ctx context.Context, tx pgx.Tx) error {
		calls := 0
		if err := countInto(table, a, &calls)(ctx, tx); err != nil {
			return err
		}
		return &sideError{reason: "refused by the caller"}
	})
	var side *sideError
	require.ErrorAs(t, err, &side, "the caller's own error comes back")
	require.Contains(t, err.Error(), "refused by the caller")

	v, err := s.StreamVersion(ctx, a)
	require.NoError(t, err)
	require.Zero(t, v, "no event of the failed transaction was stored")
	_, ok := sideCount(t, s, table, a)
	require.False(t, ok, "no row of the failed transaction was stored")
	evs, err := s.ReadStream(ctx, a, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Empty(t, evs)
}

func TestAppendManyWithRunsNothingOnAConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a := stream(t)

	calls := 0
	_, err := s.AppendManyWith(ctx, []eventstore.AppendRequest{
		{StreamID: a, Expected: eventstore.Exact(4), Events: []eventstore.NewEvent{ev("A", `{}`)}},
	}, countInto(table, a, &calls))
	require.ErrorIs(t, err, eventstore.ErrConflict)
	_, ok := sideCount(t, s, table, a)
	require.False(t, ok)
	require.Zero(t, calls, "a refused append does not run the extra statements")
}

func TestAppendManyWithRunsTheExtraStatementsOnARetriedAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a := stream(t)
	event := ev("A", `{"n":1}`)
	event.ID = uuid.New()
	req := []eventstore.AppendRequest{{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{event}}}

	_, err := s.AppendMany(ctx, req)
	require.NoError(t, err)
	calls := 0
	res, err := s.AppendManyWith(ctx, req, countInto(table, a, &calls))
	require.NoError(t, err, "the same events again are a no-op")
	require.Equal(t, int64(1), res[0].Version)
	require.Equal(t, 1, calls)
	n, ok := sideCount(t, s, table, a)
	require.True(t, ok)
	require.Equal(t, int64(1), n)
}

func TestAppendManyWithNoRequestsRunsTheStatementsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a := stream(t)

	calls := 0
	res, err := s.AppendManyWith(ctx, nil, countInto(table, a, &calls))
	require.NoError(t, err)
	require.Empty(t, res)
	require.Equal(t, 1, calls)
	n, ok := sideCount(t, s, table, a)
	require.True(t, ok)
	require.Zero(t, n)

	// Without an AlsoFunc it is AppendMany.
	res, err = s.AppendManyWith(ctx, []eventstore.AppendRequest{
		{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("A", `{}`)}},
	}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), res[0].Version)
}
