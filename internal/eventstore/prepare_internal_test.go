package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
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

// streamedContentHash is contentHash as every release before wrote it,
// part by part into a streaming SHA-256: event_ids holds hashes made so,
// which a retry's hash must equal.
func streamedContentHash(stream string, p prepared) []byte {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{[]byte(stream), []byte(p.typ), p.data, p.metadata} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	binary.BigEndian.PutUint64(n[:], uint64(p.schemaVersion))
	h.Write(n[:])
	return h.Sum(nil)
}

func TestContentHashIsTheStreamedOne(t *testing.T) {
	t.Parallel()
	var scratch, hashes []byte
	var got [][]byte
	events := []prepared{
		{typ: "TaskSucceeded", schemaVersion: 1, data: []byte(`{"a":1}`), metadata: []byte(`{}`)},
		{typ: "T", schemaVersion: 3, data: []byte(`{"text":"` + large + `"}`), metadata: []byte(`{"actor":"user:åsa"}`)},
		{typ: "", schemaVersion: 0, data: nil, metadata: nil},
	}
	for _, p := range events {
		var h []byte
		h, scratch, hashes = contentHash("exec-1", p, scratch, hashes)
		got = append(got, h)
	}
	for i, p := range events {
		require.Equal(t, streamedContentHash("exec-1", p), got[i], "event %d", i)
	}
	require.Len(t, hashes, 3*sha256.Size)
}
