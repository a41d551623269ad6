package httpapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// strictBodies are bodies the fast paths read, and bodies they leave to
// checkJSON and decodeStrict.
var strictBodies = []string{
	`{"input": {"message": "load"}}`,
	`{}`,
	" { } \n",
	"\t{ \"input\" :\n[1, {\"a\": \"}\\\"{\", \"b\": [{\"a\": 1}]}] }\r\n",
	`{"input": "x}"}`,
	`{"input": 12.5e-3}`,
	`{"input": {"a": 1, "b": {"a": 2}, "c": [{"a": 1}, {"a": 1}]}}`,
	`{"input": null}`,
	`{"input": 1, "input": 2}`,
	`{"input": {"a": 1, "a": 2}}`,
	`{"input": {"a": 1, "\u0061": 2}}`,
	`{"Input": 1}`,
	`{"input": 1, "other": 2}`,
	`{"other": 2, "input": 1}`,
	`{"in\u0070ut": 1}`,
	`{"input": 1} {}`,
	`{"input": 1`,
	`[1]`,
	`"input"`,
	`{"input": "caf\u00e9"}`,
	`{"input": "\u0000"}`,
	"{\"input\": \"\xff\"}",
	`{"input": {"k": "v"}, "input ": 1}`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	`{"input": ` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
	`{"input": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
	`{"input": {` + manyKeys(40, false) + `}}`,
	`{"input": {` + manyKeys(40, true) + `}}`,
}

// manyKeys lists n members "k0" to "k<n-1>", the last one again if dup.
func manyKeys(n int, dup bool) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `": 1`)
	}
	if dup {
		b.WriteString(`, "k": 2`)
	}
	return b.String()
}

// TestStrictFastIsCheckJSON: a body strictFast passes, checkJSON passes
// too, and the bodies it leaves to checkJSON include each kind it does
// not read.
func TestStrictFastIsCheckJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{`{"input": {"message": "load"}}`, true},
		{`{"a": [{"a": 1}, {"a": 1}], "b": {"a": {"a": 1}}}`, true},
		{`{"input": {` + manyKeys(40, false) + `}}`, true},
		{strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), true},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), false},
		{`{"input": {` + manyKeys(40, true) + `}}`, false},
		{`{"a": 1, "a": 2}`, false},
		{`{"a": 1, "\u0062": 2}`, false},
		{`{"a": 1} 2`, false},
		{`{"a": 1`, false},
	} {
		require.Equal(t, tc.fast, strictFast([]byte(tc.body)), tc.body)
		if tc.fast {
			require.NoError(t, checkJSON([]byte(tc.body)), tc.body)
		}
	}
}

// TestDecodeStartFastIsDecodeStrict: every body decodeStartFast reads,
// decodeStrict reads to the same input; the others it leaves to
// decodeStrict.
func TestDecodeStartFastIsDecodeStrict(t *testing.T) {
	t.Parallel()
	fast := 0
	for _, body := range strictBodies {
		requireStartFastIsStrict(t, []byte(body))
		var req startRequest
		if decodeStartFast([]byte(body), &req) {
			fast++
		}
	}
	require.Equal(t, 11, fast, "the bodies of a start's usual shape take the fast path")
}

func requireStartFastIsStrict(t *testing.T, data []byte) {
	t.Helper()
	if checkBodyText(data) == nil && strictFast(data) {
		require.NoError(t, checkJSON(data), "%q", data)
	}
	var fast startRequest
	if !decodeStartFast(data, &fast) {
		return
	}
	var slow startRequest
	require.NoError(t, decodeStrict(data, &slow), "%q", data)
	require.Equal(t, string(slow.Input), string(fast.Input), "%q", data)
	require.Equal(t, slow.Input == nil, fast.Input == nil, "%q", data)
}

// FuzzDecodeStartFastIsDecodeStrict: what the fast paths pass, checkJSON
// and decodeStrict pass, reading the same input.
func FuzzDecodeStartFastIsDecodeStrict(f *testing.F) {
	for _, body := range strictBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		requireStartFastIsStrict(t, data)
	})
}
