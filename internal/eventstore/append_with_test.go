package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgbinary"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
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

// countStatement is an AlsoStatement's statement that records, in table,
// how many events of each stream of its one parameter (a text[]) its
// transaction sees; named for the table, as each table's is its own.
func countStatement(table string) *pgbinary.Statement {
	return &pgbinary.Statement{Name: "count_" + table, ParamOIDs: []uint32{pgtype.TextArrayOID},
		SQL: `INSERT INTO ` + table + ` (stream_id, events)
			SELECT s, (SELECT count(*) FROM eventstore.events AS e WHERE e.stream_id = s) FROM unnest($1::text[]) AS s
			ON CONFLICT (stream_id) DO UPDATE SET events = EXCLUDED.events`}
}

// streamsParam is the parameters of countStatement. They are released
// when the test ends.
func streamsParam(t *testing.T, streams ...string) *pgbinary.Params {
	p := pgbinary.Get()
	t.Cleanup(p.Release)
	p.TextArray(len(streams), func(i int) string { return streams[i] })
	return p
}

// TestAppendManyWithStatementCommitsItWithTheEvents: the statement runs in
// the append's own transaction, after its events, in the query mode that
// prepares statements and in one that sends their text each time.
func TestAppendManyWithStatementCommitsItWithTheEvents(t *testing.T) {
	t.Parallel()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg, err := pgxpool.ParseConfig(pgclustertest.PackageDatabase(t))
			require.NoError(t, err)
			cfg.ConnConfig.DefaultQueryExecMode = mode
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			s, err := eventstore.Open(ctx, pool, eventstore.Options{})
			require.NoError(t, err)
			table := sideTable(t, s)
			a, b := stream(t), stream(t)
			for round := range 2 { // the second on a connection that has it prepared
				res, err := s.AppendManyWithStatement(ctx, []eventstore.AppendRequest{
					{StreamID: a, Expected: eventstore.Exact(int64(2 * round)), Events: []eventstore.NewEvent{ev("A", `{}`), ev("B", `{}`)}},
					{StreamID: b, Expected: eventstore.Exact(int64(round)), Events: []eventstore.NewEvent{ev("A", `{}`)}},
				}, eventstore.AlsoStatement{Statement: countStatement(table), Params: streamsParam(t, a, b)})
				require.NoError(t, err)
				require.Equal(t, []int64{int64(2 * (round + 1)), int64(round + 1)}, []int64{res[0].Version, res[1].Version})
				for stream, want := range map[string]int64{a: int64(2 * (round + 1)), b: int64(round + 1)} {
					n, ok := sideCount(t, s, table, stream)
					require.True(t, ok, "the statement committed")
					require.Equal(t, want, n, "the statement saw the events of its own transaction")
				}
			}
		})
	}
}

// TestAppendManyWithStatementRollsBackEverythingWhenItFails: a statement
// that fails takes the events with it, and its error comes back.
func TestAppendManyWithStatementRollsBackEverythingWhenItFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a := stream(t)
	failing := &pgbinary.Statement{Name: "fail_" + table, ParamOIDs: []uint32{pgtype.TextArrayOID},
		SQL: `INSERT INTO ` + table + ` (stream_id, events) SELECT s, 1 / (count(*) - count(*)) FROM unnest($1::text[]) AS s GROUP BY s`}

	_, err := s.AppendManyWithStatement(ctx, []eventstore.AppendRequest{
		{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("A", `{}`)}},
	}, eventstore.AlsoStatement{Statement: failing, Params: streamsParam(t, a)})
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "22012", pgErr.Code, "division by zero")
	require.ErrorContains(t, err, "running statements in the append's transaction")

	v, err := s.StreamVersion(ctx, a)
	require.NoError(t, err)
	require.Zero(t, v, "no event of the failed transaction was stored")
	_, ok := sideCount(t, s, table, a)
	require.False(t, ok)

	_, err = s.AppendManyWithStatement(ctx, nil, eventstore.AlsoStatement{})
	require.ErrorContains(t, err, "no statement or no parameters given")
}

// TestAppendManyWithStatementOnTheSlowPath: an append the one statement
// cannot decide alone runs the statement in the slow path's transaction (a
// retried append) or not at all (a conflict); with no requests it runs
// alone.
func TestAppendManyWithStatementOnTheSlowPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	table := sideTable(t, s)
	a, b, c := stream(t), stream(t), stream(t)
	event := ev("A", `{"n":1}`)
	event.ID = uuid.New()
	req := []eventstore.AppendRequest{{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{event}}}
	_, err := s.AppendMany(ctx, req)
	require.NoError(t, err)

	res, err := s.AppendManyWithStatement(ctx, req, eventstore.AlsoStatement{Statement: countStatement(table), Params: streamsParam(t, a)})
	require.NoError(t, err, "the same events again are a no-op")
	require.Equal(t, int64(1), res[0].Version)
	n, ok := sideCount(t, s, table, a)
	require.True(t, ok, "the retried append ran the statement")
	require.Equal(t, int64(1), n)

	_, err = s.AppendManyWithStatement(ctx, []eventstore.AppendRequest{
		{StreamID: b, Expected: eventstore.Exact(4), Events: []eventstore.NewEvent{ev("A", `{}`)}},
	}, eventstore.AlsoStatement{Statement: countStatement(table), Params: streamsParam(t, b)})
	require.ErrorIs(t, err, eventstore.ErrConflict)
	_, ok = sideCount(t, s, table, b)
	require.False(t, ok, "a refused append does not run the statement")

	_, err = s.AppendManyWithStatement(ctx, nil, eventstore.AlsoStatement{Statement: countStatement(table), Params: streamsParam(t, c)})
	require.NoError(t, err)
	n, ok = sideCount(t, s, table, c)
	require.True(t, ok, "with no requests the statement runs alone")
	require.Zero(t, n)
}
