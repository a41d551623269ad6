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
		"not JSON":     {`{"a":`, "is not valid JSON"},
		"not object":   {`[1,2]`, "it must be a JSON object"},
		"empty":        {` `, "is empty"},
		"NUL":          {`{"a":"x\u0000y"}`, `holds \u0000 at /a`},
		"trailing":     {`{"a":1} {"b":2}`, "has data after the JSON object"},
		"escaped NULs": {`{"a":"\\u0000"}`, ""},
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
