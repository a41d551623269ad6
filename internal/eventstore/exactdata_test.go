package eventstore_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

// TestExactData: an event appended with ExactData keeps its bytes' identity:
// a retry with the same bytes is the same event, one with the same meaning
// in other bytes is other content; the checks on Data still hold.
func TestExactData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	id := stream(t)
	e := eventstore.NewEvent{ID: uuid.New(), Type: "Transition", Data: json.RawMessage(`{"b":2,"a":{"y":1,"x":[1,2]}}`), ExactData: true}
	first, err := s.Append(ctx, id, eventstore.NoStream, e)
	require.NoError(t, err)
	again, err := s.Append(ctx, id, eventstore.NoStream, e)
	require.NoError(t, err, "the same bytes again are the same event")
	require.Equal(t, first.Events[0].Position, again.Events[0].Position)

	read, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, read, 1)
	require.JSONEq(t, string(e.Data), string(read[0].Data))

	reordered := e
	reordered.Data = json.RawMessage(`{"a":{"x":[1,2],"y":1},"b":2}`)
	_, err = s.Append(ctx, id, eventstore.Any, reordered)
	require.ErrorIs(t, err, eventstore.ErrDuplicateEvent, "the same meaning in other bytes is other content")

	for name, tc := range map[string]struct{ data, reason string }{
		"not JSON":   {`{"a":`, "is not valid JSON"},
		"not object": {`[1,2]`, "it must be a JSON object"},
		"empty":      {` `, "is empty"},
		"NUL":        {`{"a":"x\u0000y"}`, `holds \u0000 at /a`},
		"trailing":   {`{"a":1} {"b":2}`, "has data after the JSON object"},
		// Shaped as an object at both ends: PostgreSQL refuses them, and the
		// store names them as it names the others.
		"no value":       {`{"a":}`, "is not valid JSON"},
		"trailing comma": {`{"a":1,}`, "is not valid JSON"},
		"bad escape":     {`{"a":"\x"}`, "is not valid JSON"},
		"escaped NULs":   {`{"a":"\\u0000"}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Append(ctx, stream(t), eventstore.NoStream, eventstore.NewEvent{Type: "X", Data: json.RawMessage(tc.data), ExactData: true})
			if tc.reason == "" {
				require.NoError(t, err, "a backslash before u0000 is text, not a NUL")
				return
			}
			var inv *eventstore.InvalidError
			require.ErrorAs(t, err, &inv)
			require.Equal(t, "data", inv.Field)
			require.Contains(t, inv.Reason, tc.reason)
		})
	}
}

// TestExactDataRefusedInAGroup: in an append of several streams, data
// that only PostgreSQL finds wrong fails the whole append, which names the
// stream and the event, and nothing of it is stored.
func TestExactDataRefusedInAGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, false, eventstore.Options{})
	good, bad := stream(t)+"-good", stream(t)+"-bad"
	ok := eventstore.NewEvent{Type: "X", Data: json.RawMessage(`{"a":1}`), ExactData: true}
	_, err := s.AppendMany(ctx, []eventstore.AppendRequest{
		{StreamID: good, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ok}},
		{StreamID: bad, Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ok, {Type: "X", Data: json.RawMessage(`{"a":tru}`), ExactData: true}}},
	})
	var inv *eventstore.InvalidError
	require.ErrorAs(t, err, &inv)
	require.Equal(t, bad, inv.StreamID)
	require.Equal(t, 1, inv.Index)
	require.Equal(t, "data", inv.Field)
	require.Contains(t, inv.Reason, "is not valid JSON")
	for _, id := range []string{good, bad} {
		read, err := s.ReadStream(ctx, id, eventstore.ReadStreamOptions{})
		require.NoError(t, err)
		require.Empty(t, read, "nothing of the append is stored")
	}
}
