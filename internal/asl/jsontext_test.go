package asl

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeJSONText: a text is the same as its value's encoding only
// when AppendJSON writes it back byte for byte.
func TestDecodeJSONText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		same bool
	}{
		{`{"n":1,"payload":"0123456789abcdef"}`, true},
		{`{"b":[true,false,null,-1.5e3,"é<&>"],"a":{},"c":[]}`, true},
		{`"\u00e9"`, false},
		{`"a\"b"`, false},
		{`{"a": 1}`, false},
		{` {"a":1}`, false},
		{`{"a":1} `, false},
		{"[1,\n2]", false},
		{`{"a":1,"a":2}`, false},
		{"\"\xff\"", false},
		{`1.0`, true},
	} {
		v, same, err := DecodeJSONText(c.text)
		require.NoError(t, err, c.text)
		require.Equal(t, c.same, same, c.text)
		want, err := DecodeJSON([]byte(c.text))
		require.NoError(t, err)
		require.Equal(t, want, v, c.text)
		if same {
			require.Equal(t, c.text, mustEncode(t, v))
		}
	}
	_, same, err := DecodeJSONText(`{`)
	require.Error(t, err)
	require.False(t, same)
}

// TestDecodeJSONTextLong: a text longer than SharedTextBytes decodes as a
// short one does.
func TestDecodeJSONTextLong(t *testing.T) {
	t.Parallel()
	long := `{"a":"` + strings.Repeat("x", SharedTextBytes) + `","b":[1,"\u00e9"]}`
	v, same, err := DecodeJSONText(long)
	require.NoError(t, err)
	require.False(t, same)
	want, err := DecodeJSON([]byte(long))
	require.NoError(t, err)
	require.Equal(t, want, v)
	compact := `{"a":"` + strings.Repeat("x", SharedTextBytes) + `"}`
	_, same, err = DecodeJSONText(compact)
	require.NoError(t, err)
	require.True(t, same)
}

// FuzzDecodeJSONText: DecodeJSONText decodes as DecodeJSON does, and
// whenever it says a text is its value's encoding, AppendJSON writes that
// text.
func FuzzDecodeJSONText(f *testing.F) {
	for _, seed := range []string{`{"b":1,"a":[true,null,"x\u00e9\n"],"c":{"d":-1.5e3}}`, `[]`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `1e400`, `{`, "\"\xff\"", `{"a":"é"}`, `[ ]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, same, err := DecodeJSONText(string(data))
		want, werr := DecodeJSON(data)
		if werr != nil {
			require.Error(t, err)
			require.False(t, same)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, v)
		if same {
			require.Equal(t, string(data), mustEncode(t, v))
		}
	})
}
