package eventstore

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMetadataEncoderIsJSONMarshal: the encoder gives json.Marshal's bytes
// for every metadata in turn, whether it repeats the last or not, and
// refuses a bad field even right after good metadata.
func TestMetadataEncoderIsJSONMarshal(t *testing.T) {
	t.Parallel()
	a := Metadata{CorrelationID: "corr-1", Actor: "user:åsa <x@y> & \u2028"}
	b := Metadata{CausationID: "cause", TraceID: "1-abc-def"}
	var e metadataEncoder
	bad := func(field, reason string) error { return errors.New(field + " " + reason) }
	for _, m := range []Metadata{a, a, b, {}, {}, a, b, b} {
		got, err := e.encode(m, bad)
		require.NoError(t, err)
		want, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	_, err := e.encode(Metadata{CorrelationID: "corr-1", TraceID: "\x00"}, bad)
	require.EqualError(t, err, `metadata.trace_id must be UTF-8 without \u0000`)
	_, err = e.encode(Metadata{Actor: "\xff"}, bad)
	require.EqualError(t, err, `metadata.actor must be UTF-8 without \u0000`)
	got, err := e.encode(b, bad)
	require.NoError(t, err)
	require.JSONEq(t, `{"causation_id":"cause","trace_id":"1-abc-def"}`, string(got))
}
