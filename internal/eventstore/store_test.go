package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// openStore opens a store on a fresh database (own=true) or on the
// package's shared one, where tests keep to streams of their own.
func openStore(t testing.TB, own bool, opts eventstore.Options) *eventstore.Store {
	t.Helper()
	var pool *pgxpool.Pool
	if own {
		pool = pgclustertest.Pool(t)
	} else {
		pool = pgclustertest.PackagePool(t)
	}
	s, err := eventstore.Open(context.Background(), pool, opts)
	require.NoError(t, err)
	return s
}

var streamSeq atomic.Int64

// stream returns a stream id no other test uses.
func stream(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), streamSeq.Add(1))
}

func ev(typ string, data string) eventstore.NewEvent {
	return eventstore.NewEvent{Type: typ, Data: json.RawMessage(data)}
}

func TestAppendAndReadAStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)

	res, err := s.Append(ctx, id, eventstore.NoStream,
		eventstore.NewEvent{Type: "ExecutionStarted", Data: json.RawMessage(`{"input": {"b": 2, "a": 1}}`),
			Metadata: eventstore.Metadata{CorrelationID: "c1", CausationID: "cmd-1", TraceID: "1-5759e988-bd862e3fe1be46a994272793", Actor: "user:ada"}},
		ev("TaskStateEntered", `{"name":"Classify"}`))
	require.NoError(t, err)
	require.Equal(t, int64(2), res.Version)
	require.Len(t, res.Events, 2)
	require.Equal(t, int64(1), res.Events[0].Version)
	require.Equal(t, int64(2), res.Events[1].Version)
	require.Less(t, res.Events[0].Position, res.Events[1].Position)
	require.NotZero(t, res.Events[0].TxID)
	require.Equal(t, 7, int(res.Events[0].ID.Version()), "ids made by the store are UUIDv7")

	_, err = s.Append(ctx, id, eventstore.Exact(2), ev("TaskSucceeded", `{"output":"refund"}`))
	require.NoError(t, err)

	fwd, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, fwd, 3)
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskSucceeded"}, []string{fwd[0].Type, fwd[1].Type, fwd[2].Type})
	require.JSONEq(t, `{"input":{"a":1,"b":2}}`, string(fwd[0].Data))
	require.Equal(t, "user:ada", fwd[0].Metadata.Actor)
	require.Equal(t, "cmd-1", fwd[0].Metadata.CausationID)
	require.Equal(t, 1, fwd[0].SchemaVersion)
	require.Equal(t, res.Events[0].ID, fwd[0].ID)
	require.Equal(t, res.Events[0].Position, fwd[0].Position)
	require.Equal(t, res.Events[0].TxID, fwd[0].TxID)
	require.WithinDuration(t, time.Now(), fwd[0].RecordedAt, time.Minute)

	back, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{Direction: eventstore.Backward, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []int64{3, 2}, []int64{back[0].Version, back[1].Version})

	from2, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{From: 2, Limit: 1})
	require.NoError(t, err)
	require.Len(t, from2, 1)
	require.Equal(t, int64(2), from2[0].Version)

	back2, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{From: 2, Direction: eventstore.Backward})
	require.NoError(t, err)
	require.Equal(t, []int64{2, 1}, []int64{back2[0].Version, back2[1].Version})

	none, err := s.ReadStream(ctx, stream(t), eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Empty(t, none)

	v, err := s.StreamVersion(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(3), v)
}

func TestOptimisticConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)

	_, err := s.Append(ctx, id, eventstore.Exact(3), ev("A", `{}`))
	var conflict *eventstore.ConflictError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, id, conflict.StreamID)
	require.Equal(t, eventstore.Exact(3), conflict.Expected)
	require.Equal(t, int64(0), conflict.Actual)
	require.ErrorIs(t, err, eventstore.ErrConflict)
	require.Contains(t, err.Error(), "expected version 3, but it does not exist")

	_, err = s.Append(ctx, id, eventstore.NoStream, ev("A", `{}`), ev("B", `{}`))
	require.NoError(t, err)
	_, err = s.Append(ctx, id, eventstore.NoStream, ev("C", `{}`))
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, int64(2), conflict.Actual)
	require.Contains(t, err.Error(), "expected no stream, but it is at version 2")

	_, err = s.Append(ctx, id, eventstore.Exact(1), ev("C", `{}`))
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, int64(2), conflict.Actual)

	res, err := s.Append(ctx, id, eventstore.Any, ev("C", `{}`))
	require.NoError(t, err)
	require.Equal(t, int64(3), res.Version)

	// Many writers race for the same version: exactly one wins each round.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.Append(ctx, id, eventstore.Exact(3), ev("Race", `{}`))
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, eventstore.ErrConflict) {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(1), wins.Load())
	v, err := s.StreamVersion(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(4), v)
}

func TestRetriedAppendIsANoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)
	e1 := eventstore.NewEvent{ID: uuid.New(), Type: "TaskSucceeded", Data: json.RawMessage(`{"a": 1, "b": [1, 2]}`)}
	e2 := eventstore.NewEvent{ID: uuid.New(), Type: "TaskSucceeded", Data: json.RawMessage(`{"c": true}`)}

	first, err := s.Append(ctx, id, eventstore.NoStream, e1, e2)
	require.NoError(t, err)
	// The same call again, as a retried Lambda makes it: same ids, same
	// content (even written with other spacing and key order), same expected
	// version, which no longer holds.
	e1.Data = json.RawMessage(`{"b":[1,2],"a":1}`)
	again, err := s.Append(ctx, id, eventstore.NoStream, e1, e2)
	require.NoError(t, err)
	require.Equal(t, first.Version, again.Version)
	require.Equal(t, first.Events[0].Position, again.Events[0].Position)
	require.Equal(t, first.Events[1].Version, again.Events[1].Version)
	all, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, all, 2, "nothing was written twice")

	// Concurrent retries of a new append: one writes, the others find it.
	e3 := eventstore.NewEvent{ID: uuid.New(), Type: "X", Data: json.RawMessage(`{}`)}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			_, err := s.Append(ctx, id, eventstore.Exact(2), e3)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	all, err = s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, all, 3)

	// The same id with other content is refused.
	changed := e2
	changed.Data = json.RawMessage(`{"c": false}`)
	_, err = s.Append(ctx, id, eventstore.Any, changed)
	var dup *eventstore.DuplicateEventError
	require.ErrorAs(t, err, &dup)
	require.Equal(t, e2.ID, dup.ID)
	require.Equal(t, id, dup.StoredStreamID)
	require.Equal(t, int64(2), dup.StoredVersion)
	_, err = s.Append(ctx, stream(t), eventstore.Any, e2)
	require.ErrorIs(t, err, eventstore.ErrDuplicateEvent, "another stream is other content")
}

func TestGroupCommitIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	a, b, c := stream(t), stream(t), stream(t)
	_, err := s.Append(ctx, c, eventstore.NoStream, ev("Seed", `{}`))
	require.NoError(t, err)

	res, err := s.AppendMany(ctx, []eventstore.AppendRequest{
		{StreamID: b, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("B1", `{}`)}},
		{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("A1", `{}`), ev("A2", `{}`)}},
		{StreamID: b, Expected: eventstore.Exact(1), Events: []eventstore.NewEvent{ev("B2", `{}`)}},
	})
	require.NoError(t, err)
	require.Len(t, res, 3)
	require.Equal(t, b, res[0].StreamID)
	require.Equal(t, int64(1), res[0].Version)
	require.Equal(t, int64(2), res[1].Version)
	require.Equal(t, int64(2), res[2].Version, "a second request for a stream applies after the first")
	require.Equal(t, res[0].Events[0].TxID, res[1].Events[0].TxID, "one transaction")

	// One conflicting stream: nothing of the batch is written.
	_, err = s.AppendMany(ctx, []eventstore.AppendRequest{
		{StreamID: a, Expected: eventstore.Exact(2), Events: []eventstore.NewEvent{ev("A3", `{}`)}},
		{StreamID: c, Expected: eventstore.Exact(5), Events: []eventstore.NewEvent{ev("C2", `{}`)}},
	})
	var conflict *eventstore.ConflictError
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, c, conflict.StreamID)
	v, err := s.StreamVersion(ctx, a)
	require.NoError(t, err)
	require.Equal(t, int64(2), v, "the good part of a failed batch is not written")

	// Every kind of expectation across many streams in one commit.
	d, e := stream(t), stream(t)
	res, err = s.AppendMany(ctx, []eventstore.AppendRequest{
		{StreamID: e, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("E1", `{}`), ev("E2", `{}`)}},
		{StreamID: a, Expected: eventstore.Exact(2), Events: []eventstore.NewEvent{ev("A3", `{}`)}},
		{StreamID: d, Expected: eventstore.Any, Events: []eventstore.NewEvent{ev("D1", `{}`)}},
		{StreamID: c, Expected: eventstore.Any, Events: []eventstore.NewEvent{ev("C2", `{}`)}},
		{StreamID: b, Expected: eventstore.Any},
	})
	require.NoError(t, err)
	require.Equal(t, []int64{2, 3, 1, 2, 2}, []int64{res[0].Version, res[1].Version, res[2].Version, res[3].Version, res[4].Version})
	require.Equal(t, int64(2), res[0].Events[1].Version)
	require.Equal(t, int64(3), res[1].Events[0].Version)
	for _, tc := range []eventstore.AppendRequest{
		{StreamID: e, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev("X", `{}`)}},
		{StreamID: stream(t), Expected: eventstore.Exact(1), Events: []eventstore.NewEvent{ev("X", `{}`)}},
	} {
		_, err = s.AppendMany(ctx, []eventstore.AppendRequest{
			{StreamID: d, Expected: eventstore.Exact(1), Events: []eventstore.NewEvent{ev("D2", `{}`)}}, tc,
		})
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, tc.StreamID, conflict.StreamID)
	}
	v, err = s.StreamVersion(ctx, d)
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
}

func TestBadInputIsRefusedBeforeAnythingIsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	good := stream(t)
	huge := `{"blob":"` + strings.Repeat("x", eventstore.MaxEventBytes) + `"}`
	for _, tc := range []struct {
		name   string
		stream string
		event  eventstore.NewEvent
		want   string
	}{
		{"array data", good, ev("T", `[1,2]`), `event 1: data: is a JSON array; it must be a JSON object`},
		{"string data", good, ev("T", `"hi"`), `data: is a JSON string`},
		{"broken json", good, ev("T", `{"a":`), `data: is not valid JSON`},
		{"empty data", good, ev("T", ``), `data: is empty`},
		{"trailing data", good, ev("T", `{} {}`), `data: has data after the JSON object`},
		{"nul in a string", good, ev("T", `{"a":{"b":["ok","bad\u0000"]}}`), `data: holds \u0000 at /a/b/1`},
		{"nul in a key", good, ev("T", `{"k\u0000":1}`), `holds \u0000 at /k`},
		{"over 1 MiB", good, ev("T", huge), `more than the 1048576-byte limit`},
		{"empty type", good, ev("", `{}`), `type: is empty`},
		{"empty stream", "", ev("T", `{}`), `stream id: is empty`},
		{"long stream", strings.Repeat("s", 201), ev("T", `{}`), `stream id: is 201 bytes, more than 200`},
		{"control char in stream", "a\nb", ev("T", `{}`), `stream id: holds a control character`},
		{"nul in metadata", good, eventstore.NewEvent{Type: "T", Data: json.RawMessage(`{}`), Metadata: eventstore.Metadata{Actor: "a\x00"}}, `metadata.actor`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Append(ctx, tc.stream, eventstore.Any, ev("First", `{}`), tc.event)
			require.ErrorIs(t, err, eventstore.ErrInvalid)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	all, err := s.ReadStream(ctx, good, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Empty(t, all, "the valid first event of each bad append was not written either")

	id := uuid.New()
	_, err = s.Append(ctx, good, eventstore.Any, eventstore.NewEvent{ID: id, Type: "A", Data: json.RawMessage(`{}`)}, eventstore.NewEvent{ID: id, Type: "A", Data: json.RawMessage(`{}`)})
	require.ErrorContains(t, err, "appears twice in one append")
}

func TestReadAllInPositionOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{})
	a, b := stream(t), stream(t)
	for i := range 5 {
		_, err := s.Append(ctx, a, eventstore.Any, ev("A", fmt.Sprintf(`{"i":%d}`, i)))
		require.NoError(t, err)
		_, err = s.Append(ctx, b, eventstore.Any, ev("B", fmt.Sprintf(`{"i":%d}`, i)))
		require.NoError(t, err)
	}
	page1, err := s.ReadAll(ctx, 0, 4)
	require.NoError(t, err)
	require.Len(t, page1, 4)
	page2, err := s.ReadAll(ctx, page1[3].Position, 100)
	require.NoError(t, err)
	require.Len(t, page2, 6)
	all := append(page1, page2...)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].Position, all[i].Position)
	}
	require.Equal(t, []string{"A", "B", "A", "B"}, []string{all[0].Type, all[1].Type, all[2].Type, all[3].Type})
}

func TestAppendsAcrossAMonthBoundary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var clock atomic.Pointer[time.Time]
	start := time.Date(2031, 1, 31, 23, 59, 59, 999_000_000, time.UTC)
	clock.Store(&start)
	s := openStore(t, true, eventstore.Options{NowFunc: func() time.Time { return *clock.Load() }})
	id := stream(t)
	_, err := s.Append(ctx, id, eventstore.Any, ev("Before", `{}`))
	require.NoError(t, err)
	for _, ts := range []time.Time{
		time.Date(2031, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2031, 3, 1, 0, 0, 0, 1000, time.UTC), // a month the store did not see coming
		time.Date(2031, 2, 28, 23, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)),
	} {
		clock.Store(&ts)
		_, err := s.Append(ctx, id, eventstore.Any, ev("At", fmt.Sprintf(`{"t":%q}`, ts.Format(time.RFC3339Nano))))
		require.NoError(t, err, ts)
	}
	got, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 4)
	require.Equal(t, start, got[0].RecordedAt)

	var parts []string
	rows, err := s.Pool().Query(ctx, `SELECT tableoid::regclass::text FROM eventstore.events WHERE stream_id = $1 ORDER BY version`, id)
	require.NoError(t, err)
	for rows.Next() {
		var p string
		require.NoError(t, rows.Scan(&p))
		parts = append(parts, p)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"eventstore.events_2031_01", "eventstore.events_2031_02", "eventstore.events_2031_03", "eventstore.events_2031_03"}, parts,
		"each event lands in the partition of its UTC month")
}
