package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// In version 1, TaskSucceeded had {"result": "..."}; version 2 renamed it
// to {"output": ...}; version 3 added {"tokens": {"in": n, "out": n}}.
func taskSucceededUpcasters() *eventstore.Upcasters {
	u := eventstore.NewUpcasters()
	u.Register("TaskSucceeded", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Result string `json:"result"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"output": v1.Result})
	})
	u.Register("TaskSucceeded", 2, func(data json.RawMessage) (json.RawMessage, error) {
		var v2 map[string]any
		if err := json.Unmarshal(data, &v2); err != nil {
			return nil, err
		}
		v2["tokens"] = map[string]int{"in": 0, "out": 0}
		return json.Marshal(v2)
	})
	return u
}

func TestUpcastingOldEventsOnRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, true, eventstore.Options{Upcasters: taskSucceededUpcasters()})
	id := stream(t)

	// Version-1 events as an old release stored them, written raw: every
	// release wrote an event's eventstore.event_ids row with it.
	_, err := s.Pool().Exec(ctx, `WITH old AS (
		  INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at) VALUES
		  (nextval('eventstore.position_seq'), gen_random_uuid(), $1, 1, 'TaskSucceeded', 1, '{"result": "refund"}', '{}', now()),
		  (nextval('eventstore.position_seq'), gen_random_uuid(), $1, 2, 'TaskSucceeded', 2, '{"output": "ship"}', '{}', now())
		  RETURNING event_id, stream_id, version, position, recorded_at)
		INSERT INTO eventstore.event_ids (event_id, stream_id, version, position, recorded_at, content_hash)
		SELECT event_id, stream_id, version, position, recorded_at, '\x00' FROM old`, id)
	require.NoError(t, err)
	// A current event, appended through the store.
	_, err = s.Append(ctx, id, eventstore.Exact(2), eventstore.NewEvent{Type: "TaskSucceeded", SchemaVersion: 3,
		Data: json.RawMessage(`{"output": "escalate", "tokens": {"in": 12, "out": 3}}`)})
	require.NoError(t, err)

	want := []string{
		`{"output": "refund", "tokens": {"in": 0, "out": 0}}`,
		`{"output": "ship", "tokens": {"in": 0, "out": 0}}`,
		`{"output": "escalate", "tokens": {"in": 12, "out": 3}}`,
	}
	check := func(evs []eventstore.Event) {
		t.Helper()
		require.Len(t, evs, 3)
		for i, e := range evs {
			require.Equal(t, 3, e.SchemaVersion, "event %d is read at the current version", i)
			require.JSONEq(t, want[i], string(e.Data), "event %d", i)
		}
	}
	byStream, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	check(byStream)
	all, err := s.ReadAll(ctx, 0, 10)
	require.NoError(t, err)
	check(all)
	check(readCommitted(t, s, 3))

	// Stored rows keep their old shape: upcasting happens on read only.
	var raw string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT data::text FROM eventstore.events WHERE stream_id = $1 AND version = 1`, id).Scan(&raw))
	require.JSONEq(t, `{"result": "refund"}`, raw)
}

func TestUpcasterErrorsNameTheEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := eventstore.NewUpcasters()
	u.Register("Broken", 1, func(json.RawMessage) (json.RawMessage, error) { return nil, errors.New("no field x") })
	s := openStore(t, false, eventstore.Options{Upcasters: u})
	id := stream(t)
	res, err := s.Append(ctx, id, eventstore.Any, ev("Broken", `{}`))
	require.NoError(t, err)
	_, err = s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.ErrorContains(t, err, "upcasting event "+res.Events[0].ID.String()+" (Broken) from version 1: no field x")
	require.Panics(t, func() { u.Register("Broken", 1, nil) }, "one step per type and version")
}

// readCommitted reads in commit-safe order until n events are safe: an
// open transaction of a test running beside this one (the cluster is
// shared) holds them back for a moment.
func readCommitted(t *testing.T, s *eventstore.Store, n int) []eventstore.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, err := s.ReadCommitted(context.Background(), eventstore.Checkpoint{}, n)
		require.NoError(t, err)
		if len(evs) >= n || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(10 * time.Millisecond)
	}
}
