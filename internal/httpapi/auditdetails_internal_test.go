package httpapi

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMarshalDetailsIsJSONs: the notes of an audit record are written
// byte for byte as json.Marshal writes them, plain or not.
func TestMarshalDetailsIsJSONs(t *testing.T) {
	t.Parallel()
	many := map[string]any{}
	for i := range maxPlainDetails + 1 {
		many[fmt.Sprintf("k%02d", i)] = i
	}
	for _, details := range []map[string]any{
		{},
		{"status": 201},
		{"workflow": "reply", "execution": "6c1b3a1e-8f0a-4a53-9a3c-2f1f1e9d9b10", "status": 201, "idempotency_key": "load-1-2"},
		{"dry_run": true, "version": "1.2.0", "status": -400, "service": "x"},
		{"B": 1, "a": 2, "_": 3, "A": false},
		{"workflow": "a<b>"}, {"workflow": "a&b"}, {"workflow": `a"b`}, {"workflow": `a\b`}, {"workflow": "é"},
		{"workflow": "a\nb"}, {"workflow": "a\x7fb"}, {"w<": 1}, {"w\u2028": 1},
		{"decision": approvalStatusForTest("approved")}, {"n": 1.5}, {"n": int64(7)}, {"n": nil}, {"n": []string{"a"}},
		many,
	} {
		want, err := json.Marshal(details)
		require.NoError(t, err)
		require.Equal(t, string(want), string(marshalDetails(details)), "%v", details)
	}
}

type approvalStatusForTest string

func FuzzMarshalDetailsIsJSONs(f *testing.F) {
	f.Add("workflow", "reply", "status", 201, true)
	f.Add("a<", "b\"", "", -1, false)
	f.Fuzz(func(t *testing.T, k1, v1, k2 string, n int, b bool) {
		details := map[string]any{k1: v1, k2: n, k1 + k2: b}
		want, err := json.Marshal(details)
		require.NoError(t, err)
		require.Equal(t, string(want), string(marshalDetails(details)))
	})
}
