package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// plainJSON is Plain, for comparisons that do not care about member
// order.
func plainJSON(v any) any { return Plain(v) }

func mustEncode(t testing.TB, v any) string {
	t.Helper()
	s, err := EncodeJSON(v)
	require.NoError(t, err)
	return s
}

func TestDecodeEncodeJSONKeepsTheDocument(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"zebra":1,"apple":{"y":[1.0,1e3,-0.5E-2],"x":null},"mango":"\u00e9 é \u2028 <>&"}`,
		`[{"b":true,"a":false},12345678901234567890123,"",{}]`,
		`"just a string"`,
		`-0`,
	} {
		v, err := DecodeJSON([]byte(in))
		require.NoError(t, err, in)
		want := in
		if in[0] == '{' {
			// Escapes of printable characters are decoded; Step Functions
			// writes the characters themselves.
			want = `{"zebra":1,"apple":{"y":[1.0,1e3,-0.5E-2],"x":null},"mango":"é é ` + "\u2028" + ` <>&"}`
		}
		require.Equal(t, want, mustEncode(t, v), in)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"a":1}x`, `[1,]`, `nul`} {
		_, err := DecodeJSON([]byte(in))
		require.Error(t, err, in)
	}
	v, err := DecodeJSON([]byte(" {\"a\" : 1 , \"b\":[ ] , \"a\":2} "))
	require.NoError(t, err)
	require.Equal(t, `{"a":2,"b":[]}`, mustEncode(t, v), "a repeated member keeps its first place and its last value")
}

func TestObjectSetKeepsPlaces(t *testing.T) {
	t.Parallel()
	o := NewObject(0)
	for i := range 20 {
		o.Set(string(rune('t'-i)), json.Number("1"))
	}
	o.Set("t", "again")
	o.Set("new", true)
	got, ok := o.Get("new")
	require.True(t, ok)
	require.Equal(t, true, got)
	require.Equal(t, "t", o.Keys()[0])
	require.Equal(t, "new", o.Keys()[20])
	require.Equal(t, 21, o.Len())
	b, err := json.Marshal(map[string]any{"o": o})
	require.NoError(t, err)
	require.Contains(t, string(b), `{"o":{"t":"again","s":1,`)
	var back Object
	require.NoError(t, json.Unmarshal(b[5:len(b)-1], &back))
	require.Equal(t, o.Keys(), back.Keys())
	require.Error(t, json.Unmarshal([]byte(`[1]`), &back))
}

func TestAsObjectSortsAMap(t *testing.T) {
	t.Parallel()
	o, ok := AsObject(map[string]any{"b": 1, "a": 2})
	require.True(t, ok)
	require.Equal(t, []string{"a", "b"}, o.Keys())
	_, ok = AsObject([]any{})
	require.False(t, ok)
	require.Equal(t, `{"a":"x","b":[null]}`, mustEncode(t, map[string]any{"b": []any{nil}, "a": "x"}))
}

func TestOrderThroughProcessing(t *testing.T) {
	t.Parallel()
	// Parameters are written in the template's order, a ResultPath that
	// adds a member puts it last, and one that replaces a member keeps its
	// place.
	input, err := DecodeJSON([]byte(`{"z":1,"a":{"m":2,"b":3}}`))
	require.NoError(t, err)
	out, err := ApplyTemplate([]byte(`{"zz":1,"k.$":"$.a","aa":{"y":1,"x":2}}`), input, nil, nil)
	require.NoError(t, err)
	require.Equal(t, `{"zz":1,"k":{"m":2,"b":3},"aa":{"y":1,"x":2}}`, mustEncode(t, out))
	added, err := SetResult(input, &NullablePath{Path: "$.a.c"}, "r")
	require.NoError(t, err)
	require.Equal(t, `{"z":1,"a":{"m":2,"b":3,"c":"r"}}`, mustEncode(t, added))
	replaced, err := SetResult(input, &NullablePath{Path: "$.z"}, "r")
	require.NoError(t, err)
	require.Equal(t, `{"z":"r","a":{"m":2,"b":3}}`, mustEncode(t, replaced))
	require.Equal(t, `{"z":1,"a":{"m":2,"b":3}}`, mustEncode(t, input), "SetResult copies its input")
}

// FuzzDecodeJSON: DecodeJSON reads what encoding/json reads, to the same
// values, and EncodeJSON writes them back to text that decodes the same.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"b":1,"a":[true,null,"x\u00e9\n"],"c":{"d":-1.5e3}}`, `[]`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `1e400`, `{`, `"\xff"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		werr := dec.Decode(&want)
		if werr == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				werr = errors.New("trailing data")
			}
		}
		if werr != nil {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, plainJSON(v))
		again, err := DecodeJSON([]byte(mustEncode(t, v)))
		require.NoError(t, err)
		require.Equal(t, want, plainJSON(again))
	})
}
