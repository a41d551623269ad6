package eventstore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// canonicalSeeds are JSON texts around every rule of isCanonicalObject.
var canonicalSeeds = []string{
	`{}`, `{"a":1}`, `{"a":1,"b":2}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{ "a":1}`, `{"a": 1}`, `{"a":1} `, ` {"a":1}`,
	`{"a":[]}`, `{"a":[1,2,{"c":null,"b":true}]}`, `{"a":[1,2,{"b":true,"c":false}]}`, `{"a":{}}`, `[]`, `"x"`, `1`, `null`,
	`{"a":-0}`, `{"a":1.50}`, `{"a":1e5}`, `{"a":1E+5}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
	`{"a":"x\"y\\z\n\r\t\b\f"}`, `{"a":"\u001f\u0001"}`, `{"a":"\u001F"}`, `{"a":"\u0000"}`, `{"a":"\u0041"}`, `{"a":"\/"}`,
	`{"a":"\u000a"}`, `{"a":"\u2028\u2029"}`, "{\"a\":\"\u2028\"}", `{"a":"<&>"}`, "{\"a\":\"\x7f\"}", "{\"a\":\"\xff\"}",
	`{"a":"é中🙂"}`, `{"é":1,"z":2}`, `{"z":1,"é":2}`, keyWithEscape, `{"A":1,"a":2,"b":3}`, `{"":1,"a":2}`, `{"a":tru}`,
	`{"a":true,}`, `{"a":[1,]}`, `{"a":1}{"b":2}`, `{"a":"unterminated}`, `{"a"`, `{"a":`, `{`, `{"a":1,"b":{"c":[[[]]]}}`,
	`{"attempt":1,"duration_ms":1234,"execution_id":"exec-0b7e3c52-9f41-4d1a","input":{"channel":"email","priority":"high","ticket_id":"T-12345"},"output":{"confidence":0.93,"label":"refund"},"state":"ClassifyTicket"}`,
}

func TestIsCanonicalObjectAgreesWithCanonicalObject(t *testing.T) {
	t.Parallel()
	for _, seed := range canonicalSeeds {
		checkCanonical(t, []byte(seed))
		if seed == keyWithEscape {
			continue // keys with escapes are left to canonicalObject
		}
		if out, err := canonicalObject([]byte(seed)); err == nil {
			require.True(t, isCanonicalObject(out), "canonicalObject's own output %s is recognised", out)
		}
	}
	require.True(t, isCanonicalObject([]byte(canonicalSeeds[len(canonicalSeeds)-1])), "the benchmarks' data takes the fast path")
	require.False(t, isCanonicalObject([]byte(`{"a":"\u0000"}`)), "NUL is left to canonicalObject, which refuses it")
}

// checkCanonical fails when isCanonicalObject accepts raw but
// canonicalObject would store other bytes (or refuse it).
func checkCanonical(t *testing.T, raw []byte) {
	t.Helper()
	if !isCanonicalObject(raw) {
		return
	}
	out, err := canonicalObject(raw)
	require.NoError(t, err, "accepted as canonical: %q", raw)
	require.Equal(t, string(out), string(raw), "accepted as canonical")
}

const keyWithEscape = `{"a\"b":1}`

func FuzzIsCanonicalObject(f *testing.F) {
	for _, seed := range canonicalSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkCanonical(t, raw)
		if out, err := canonicalObject(raw); err == nil && isCanonicalObject(out) {
			checkCanonical(t, out)
		}
	})
}
