package textgate

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// plainCases are documents on both sides of plain's line.
var plainCases = []string{
	``, ` `, `{}`, `[]`, `1 2`, `{"a":1}`, `{"a": "b\u00e9c", "d": [1, 2.5, true, null]}`,
	`{"a": "\u0000"}`, `{"a": "\\u0000"}`, `{"a": "\ud83d\ude00"}`, `{"a": "\ud800"}`, `{"a": "\uDC00x"}`,
	`{"a": "\u00d8"}`, `{"a": "\u12"}`, `{"a": "x"`, `{"a" 1}`, `nope`, "{\"a\": \"\xff\"}",
	"{\"a\": \"\xed\xa0\x80\"}", "{\"a\": \"\x00\"}", "{\"a\": \"\x01\"}", `"\u`, `{"k\u0000": 1}`,
	`{"a": "é"}`, `["\"\\\/\b\f\n\r\t"]`, `[1e400]`,
}

// TestPlainDocumentsPassTheWalk: JSON, which passes plain documents at
// once, answers every document as the walk alone does.
func TestPlainDocumentsPassTheWalk(t *testing.T) {
	t.Parallel()
	for _, c := range plainCases {
		requireSameAnswer(t, []byte(c))
	}
	require.True(t, plain([]byte(`{"a": "b\u00e9c"}`)))
	require.False(t, plain([]byte(`{"a": "\ud83d\ude00"}`)), "surrogate pairs are the walk's to read")
}

// requireSameAnswer: JSON answers data as the walk does, but for a valid
// document whose number the walk's decoder cannot hold in a float64
// (1e400): the walk gives up there with the decoder's error, not a flaw;
// JSON passes it, as encoding/json's own validator does.
func requireSameAnswer(t *testing.T, data []byte) {
	t.Helper()
	want, got := walkJSON(data), JSON(data)
	if want == nil {
		require.NoError(t, got, "%q", data)
		return
	}
	var flaw *Error
	if got == nil && !errors.As(want, &flaw) && json.Valid(data) {
		return
	}
	require.Error(t, got, "%q", data)
	require.Equal(t, want.Error(), got.Error(), "%q", data)
	if plain(data) {
		t.Fatalf("plain passes %q, which the walk refuses: %v", data, want)
	}
}

// FuzzPlainIsTheWalk: for any input, JSON answers as the walk does.
func FuzzPlainIsTheWalk(f *testing.F) {
	for _, c := range plainCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		requireSameAnswer(t, data)
	})
}
