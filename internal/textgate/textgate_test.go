package textgate_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/textgate"
)

func TestString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		flaw textgate.Flaw
		at   int
	}{
		{"clean", "héllo, 世界 🙂", "", 0},
		{"empty", "", "", 0},
		{"NUL", "ab\x00c", textgate.FlawNUL, 2},
		{"invalid byte", "ab\xffc", textgate.FlawInvalidUTF8, 2},
		{"truncated sequence", "é\xe4\xb8", textgate.FlawInvalidUTF8, 2},
		{"overlong", "\xc0\xaf", textgate.FlawInvalidUTF8, 0},
		{"CESU-8 surrogate", "x\xed\xa0\x80", textgate.FlawLoneSurrogate, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := textgate.String(c.in)
			require.Equal(t, c.flaw == "", textgate.Valid(c.in))
			if c.flaw == "" {
				require.NoError(t, err)
				return
			}
			var te *textgate.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, textgate.Error{Flaw: c.flaw, Offset: c.at}, *te)
		})
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		flaw    textgate.Flaw
		pointer string
		inKey   bool
	}{
		{"clean", `{"a": ["x", {"b": "\u00e9\ud83d\ude42\n"}], "c": null, "d": 1.5}`, "", "", false},
		{"escaped NUL in a value", `{"reason": "stop\u0000now"}`, textgate.FlawNUL, "/reason", false},
		{"escaped NUL deep", `{"input": {"items": [1, {"note": "\u0000"}]}}`, textgate.FlawNUL, "/input/items/1/note", false},
		{"raw NUL in a string", "{\"a\": \"x\x00\"}", textgate.FlawNUL, "/a", false},
		{"invalid UTF-8 in a value", "{\"a\": [\"ok\", \"\xff\"]}", textgate.FlawInvalidUTF8, "/a/1", false},
		{"lone high surrogate", `{"a": "\ud800"}`, textgate.FlawLoneSurrogate, "/a", false},
		{"high surrogate then not a low one", `{"a": "\ud800\u0041"}`, textgate.FlawLoneSurrogate, "/a", false},
		{"lone low surrogate", `{"a": "x\udc00"}`, textgate.FlawLoneSurrogate, "/a", false},
		{"reversed pair", `{"a": "\ude42\ud83d"}`, textgate.FlawLoneSurrogate, "/a", false},
		{"NUL in a key", `{"ok": 1, "k\u0000": 2}`, textgate.FlawNUL, "", true},
		{"bad key in a nested object", "{\"a\": {\"b\": 1, \"\xff\": 2}}", textgate.FlawInvalidUTF8, "/a", true},
		{"key with pointer escapes", `{"a/b~c": "\u0000"}`, textgate.FlawNUL, "/a~1b~0c", false},
		{"root string", `"\u0000"`, textgate.FlawNUL, "", false},
		{"escaped backslash before u0000 text", `{"a": "\\u0000"}`, "", "", false},
		{"after an array", `[[1,2],["x"],"\u0000"]`, textgate.FlawNUL, "/2", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := textgate.JSON([]byte(c.in))
			require.Equal(t, c.flaw == "", textgate.ValidJSON([]byte(c.in)))
			if c.flaw == "" {
				require.NoError(t, err)
				return
			}
			var te *textgate.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, c.flaw, te.Flaw)
			require.Equal(t, c.pointer, te.Pointer)
			require.Equal(t, c.inKey, te.InKey)
			require.True(t, te.Offset >= 0 && te.Offset < len(c.in))
			require.True(t, textgate.Valid(te.Error()), "the message itself is clean: %q", te.Error())
		})
	}
}

// TestJSONWhatEncodingJSONReplaces shows why the gate reads raw bytes:
// encoding/json turns each of these into U+FFFD without an error.
func TestJSONWhatEncodingJSONReplaces(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"a": "\ud800"}`, "{\"a\": \"\xff\"}", `{"a": "\udfff"}`} {
		var v map[string]string
		require.NoError(t, json.Unmarshal([]byte(in), &v))
		require.Equal(t, "\uFFFD", v["a"])
		require.Error(t, textgate.JSON([]byte(in)), in)
	}
}

func TestJSONNotJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"a": `, `{"a" 1}`, `nope`} {
		err := textgate.JSON([]byte(in))
		require.Error(t, err, in)
		var te *textgate.Error
		require.False(t, errors.As(err, &te), in)
		require.True(t, textgate.ValidJSON([]byte(in)))
	}
	require.NoError(t, textgate.JSON(nil), "an empty document has no flaw")
}

func TestErrorWhere(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/a holds a NUL character (U+0000) at byte 7", (&textgate.Error{Flaw: textgate.FlawNUL, Pointer: "/a", Offset: 7}).Error())
	require.Equal(t, "a key of /a", (&textgate.Error{Pointer: "/a", InKey: true}).Where())
	require.Equal(t, "a key of the root object", (&textgate.Error{InKey: true}).Where())
	require.Equal(t, "the text", (&textgate.Error{}).Where())
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"a": ["x\u0000", {"b": "\ud800"}]}`))
	f.Add([]byte("{\"a\": \"\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := textgate.JSON(data)
		var te *textgate.Error
		if errors.As(err, &te) {
			require.True(t, textgate.Valid(te.Error()))
			return
		}
		// A document the gate passes and encoding/json reads decodes to
		// text that is clean and survives a round trip unchanged.
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		out, merr := json.Marshal(v)
		require.NoError(t, merr)
		require.True(t, textgate.Valid(string(out)))
		require.NoError(t, textgate.JSON(out))
	})
}

func TestClean(t *testing.T) {
	t.Parallel()
	require.Equal(t, "héllo", textgate.Clean("héllo"))
	require.Equal(t, "a\uFFFDb\uFFFDc\uFFFD\uFFFD\uFFFD", textgate.Clean("a\x00b\xffc\xed\xa0\x80"))
	for _, s := range []string{"\x00", "\xc3", "x\xed\xa0\x80y", "ok"} {
		require.True(t, textgate.Valid(textgate.Clean(s)), "%q", s)
	}
}
