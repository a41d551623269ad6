package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

var fastSeq atomic.Int64

func fastStream(t *testing.T) string {
	return fmt.Sprintf("%s-%06d", t.Name(), fastSeq.Add(1)) // fixed width: stream order is creation order
}

func fastEvents(types ...string) []NewEvent {
	evs := make([]NewEvent, len(types))
	for i, typ := range types {
		evs[i] = NewEvent{Type: typ, Data: json.RawMessage(`{"n":1}`)}
	}
	return evs
}

// appendFastOnly runs the one-statement path alone, as appendMany would.
func appendFastOnly(t *testing.T, s *Store, reqs []AppendRequest) ([]AppendResult, bool) {
	t.Helper()
	batch, _, err := s.prepareBatch(reqs, true)
	require.NoError(t, err)
	require.True(t, fitsFastPath(batch))
	res, ok, err := s.appendFast(context.Background(), batch, s.now().UTC().Truncate(time.Microsecond), alsoWrites{})
	require.NoError(t, err)
	return res, ok
}

func TestAppendFastTakesEveryKindOfExpectationInOneTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, pgclustertest.PackagePool(t), Options{})
	require.NoError(t, err)
	a, b, c := fastStream(t), fastStream(t), fastStream(t)
	_, err = s.Append(ctx, a, NoStream, fastEvents("A1")...)
	require.NoError(t, err)
	_, err = s.Append(ctx, c, NoStream, fastEvents("C1", "C2")...)
	require.NoError(t, err)

	// Given out of stream order: c (Any), b (NoStream), a (Exact).
	res, ok := appendFastOnly(t, s, []AppendRequest{
		{StreamID: c, Expected: Any, Events: fastEvents("C3")},
		{StreamID: b, Expected: NoStream, Events: fastEvents("B1", "B2")},
		{StreamID: a, Expected: Exact(1), Events: fastEvents("A2", "A3")},
	})
	require.True(t, ok)
	require.Equal(t, []int64{3, 2, 3}, []int64{res[0].Version, res[1].Version, res[2].Version})
	require.Equal(t, []int64{2, 3}, []int64{res[2].Events[0].Version, res[2].Events[1].Version})
	require.Equal(t, []int64{1, 2}, []int64{res[1].Events[0].Version, res[1].Events[1].Version})
	// Positions follow stream order, then the order given, as in appendOnce.
	inOrder := []Event{res[2].Events[0], res[2].Events[1], res[1].Events[0], res[1].Events[1], res[0].Events[0]}
	for i := 1; i < len(inOrder); i++ {
		require.Less(t, inOrder[i-1].Position, inOrder[i].Position)
		require.Equal(t, inOrder[0].TxID, inOrder[i].TxID, "one transaction")
	}
	require.NotZero(t, inOrder[0].TxID)

	stored, err := s.ReadStream(ctx, a, ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, stored, 3)
	require.Equal(t, res[2].Events[1].Position, stored[2].Position)
	require.Equal(t, res[2].Events[1].ID, stored[2].ID)
	require.Equal(t, res[2].Events[1].TxID, stored[2].TxID)
}

func TestAppendFastLeavesWhatItCannotDecideWithNothingWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, pgclustertest.PackagePool(t), Options{})
	require.NoError(t, err)
	a, fresh := fastStream(t), fastStream(t)
	first, err := s.Append(ctx, a, NoStream, fastEvents("A1")...)
	require.NoError(t, err)
	storedID := first.Events[0].ID

	for name, bad := range map[string]AppendRequest{
		"a stale exact version":       {StreamID: a, Expected: Exact(5), Events: fastEvents("X")},
		"an exact version, no stream": {StreamID: fastStream(t), Expected: Exact(1), Events: fastEvents("X")},
		"no stream, but it exists":    {StreamID: a, Expected: NoStream, Events: fastEvents("X")},
		"an event id stored already":  {StreamID: fastStream(t), Expected: Any, Events: []NewEvent{{ID: storedID, Type: "A1", Data: json.RawMessage(`{"n":1}`)}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := appendFastOnly(t, s, []AppendRequest{
				{StreamID: fresh, Expected: NoStream, Events: []NewEvent{{ID: uuid.New(), Type: "F", Data: json.RawMessage(`{}`)}}},
				bad,
			})
			require.False(t, ok)
			v, err := s.StreamVersion(ctx, fresh)
			require.NoError(t, err)
			require.Zero(t, v, "the good part of the append is not written")
			v, err = s.StreamVersion(ctx, a)
			require.NoError(t, err)
			require.Equal(t, int64(1), v)
		})
	}
	evs, err := s.ReadStream(ctx, fresh, ReadStreamOptions{})
	require.NoError(t, err)
	require.Empty(t, evs)
}

func TestFitsFastPath(t *testing.T) {
	t.Parallel()
	one := []prepared{{}}
	require.True(t, fitsFastPath([]preparedRequest{{streamID: "a", events: one}}))
	require.True(t, fitsFastPath([]preparedRequest{{streamID: "a", events: one}, {streamID: "b", events: one}}))
	require.False(t, fitsFastPath([]preparedRequest{{streamID: "a"}}), "nothing to write: appendOnce reads the version")
	require.False(t, fitsFastPath([]preparedRequest{{streamID: "a", events: one}, {streamID: "b"}}))
	require.False(t, fitsFastPath([]preparedRequest{{streamID: "a", events: one}, {streamID: "a", events: one}}), "a stream moved twice")
}

func TestLeftToSlowPath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "23502", SchemaName: "eventstore", TableName: "events_2026_12", ColumnName: "version"}, true},
		{&pgconn.PgError{Code: "23502", SchemaName: "eventstore", TableName: "event_ids", ColumnName: "version"}, true},
		{&pgconn.PgError{Code: "23502", SchemaName: "eventstore", TableName: "events_2026_12", ColumnName: "type"}, false},
		{&pgconn.PgError{Code: "23505", ConstraintName: "event_ids_pkey"}, true},
		{&pgconn.PgError{Code: "23505", ConstraintName: "event_ids_stream_id_version_key"}, true},
		{&pgconn.PgError{Code: "23505", ConstraintName: "summaries_pkey"}, false},
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("storing: %w", &pgconn.PgError{Code: "40P01"}), true},
		{&pgconn.PgError{Code: "23514", ConstraintName: "events_data_check"}, false},
		{context.Canceled, false},
	} {
		require.Equal(t, c.want, leftToSlowPath(c.err), "%v", c.err)
	}
}
