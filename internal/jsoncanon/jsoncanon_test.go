package jsoncanon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/jsoncanon"
)

// seeds are JSON texts around every rule of IsObject, in both forms.
var seeds = []string{
	`{}`, `{"a":1}`, `{"a":1,"b":2}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{ "a":1}`, `{"a": 1}`, `{"a":1} `, ` {"a":1}`,
	`{"a":[]}`, `{"a":[1,2,{"c":null,"b":true}]}`, `{"a":[1,2,{"b":true,"c":false}]}`, `{"a":{}}`, `[]`, `"x"`, `1`, `null`,
	`{"a":-0}`, `{"a":1.50}`, `{"a":1e5}`, `{"a":1E+5}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
	`{"a":"x\"y\\z\n\r\t\b\f"}`, `{"a":"\u001f\u0001"}`, `{"a":"\u001F"}`, `{"a":"\u0000"}`, `{"a":"\u0041"}`, `{"a":"\/"}`,
	`{"a":"\u000a"}`, `{"a":"\u2028\u2029"}`, "{\"a\":\"\u2028\"}", `{"a":"<&>"}`, `{"a":"\u003c\u0026\u003e"}`,
	`{"a":"\u003C"}`, "{\"a\":\"\x7f\"}", "{\"a\":\"\xff\"}",
	`{"a":"é中🙂"}`, `{"é":1,"z":2}`, `{"z":1,"é":2}`, `{"a\"b":1}`, `{"A":1,"a":2,"b":3}`, `{"":1,"a":2}`, `{"a":tru}`,
	`{"a":true,}`, `{"a":[1,]}`, `{"a":1}{"b":2}`, `{"a":"unterminated}`, `{"a"`, `{"a":`, `{`, `{"a":1,"b":{"c":[[[]]]}}`,
	`{"execution":"exec-1","status":201,"workflow":"reply"}`,
	`{"<":1}`, `{"\u003c":1}`,
	"{\"a\":" + strings.Repeat("[", 199) + strings.Repeat("]", 199) + "}",
	"{\"a\":" + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "}",
}

// reencode is what encoding/json writes in the form for raw decoded
// with UseNumber into a map, and false when raw is not one object.
func reencode(raw []byte, html bool) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // more after the object
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(obj); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

// check fails when IsObject accepts raw in a form but encoding/json
// writes other bytes for it (or refuses it).
func check(t *testing.T, raw []byte) {
	t.Helper()
	for _, html := range []bool{false, true} {
		if !(jsoncanon.Form{EscapeHTML: html}).IsObject(raw) {
			continue
		}
		out, ok := reencode(raw, html)
		require.True(t, ok, "accepted as canonical (html %v): %q", html, raw)
		require.Equal(t, string(out), string(raw), "accepted as canonical (html %v)", html)
	}
}

func TestIsObjectAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, seed := range seeds {
		check(t, []byte(seed))
		for _, html := range []bool{false, true} {
			out, ok := reencode([]byte(seed), html)
			escapedKey := strings.Contains(seed, `\"b`) || strings.Contains(seed, `{"<"`) || strings.Contains(seed, `{"\u003c"`)
			if !ok || escapedKey || strings.Contains(seed, `\u0000`) || strings.Count(seed, "[") >= 200 {
				continue // keys with escapes, NUL and deep nesting are not recognised
			}
			require.True(t, (jsoncanon.Form{EscapeHTML: html}).IsObject(out), "encoding/json's own output %s is recognised (html %v)", out, html)
		}
	}
	html, plain := jsoncanon.Form{EscapeHTML: true}, jsoncanon.Form{}
	require.True(t, html.IsObject([]byte(`{"a":"\u003c\u0026\u003e"}`)))
	require.False(t, plain.IsObject([]byte(`{"a":"\u003c\u0026\u003e"}`)))
	require.True(t, plain.IsObject([]byte(`{"a":"<&>"}`)))
	require.False(t, html.IsObject([]byte(`{"a":"<&>"}`)))
	require.False(t, html.IsObject([]byte(`{"a":"\u0000"}`)), "NUL is left to the caller")
}

func FuzzIsObject(f *testing.F) {
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check(t, raw)
		for _, html := range []bool{false, true} {
			if out, ok := reencode(raw, html); ok {
				check(t, out)
			}
		}
	})
}

func ExampleForm_IsObject() {
	marshal := jsoncanon.Form{EscapeHTML: true} // json.Marshal's form
	fmt.Println(marshal.IsObject([]byte(`{"a":1,"b":"\u003cb\u003e"}`)))
	fmt.Println(marshal.IsObject([]byte(`{"b":1,"a":2}`)))
	fmt.Println(marshal.IsObject([]byte(`{"a": 1}`)))
	// Output:
	// true
	// false
	// false
}
