package audit

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// detailsSeeds are audit details: what the HTTP API marshals, and texts
// around every rule of the canonical form.
var detailsSeeds = []string{
	`{"execution":"exec-1","status":201,"workflow":"reply"}`,
	`{"decision":"approved","status":200}`, `{}`, ` {}`, `{"a": 1}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`,
	`{"a":"<b>&"}`, `{"a":"\u003cb\u003e\u0026"}`, `{"a":"\u003C"}`, `{"a":"\u2028"}`, "{\"a\":\"\u2028\"}",
	`{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `{"a":1.50e+3}`, `{"a":-0}`, `{"a":[1,{"c":null,"b":true}]}`,
	`{"a":1}]`, `{"a":1} x`, `[]`, `null`, `"x"`, `{"a\"":1}`, `{"é":1,"z":2}`,
}

// TestCanonicalDetailsFastIsReencoded: details already in json.Marshal's
// form are kept as they are, which is what re-encoding them gives; the
// hash chain is the same either way.
func TestCanonicalDetailsFastIsReencoded(t *testing.T) {
	t.Parallel()
	for _, seed := range detailsSeeds {
		requireDetailsFastIsReencoded(t, []byte(seed))
	}
	marshalled, err := json.Marshal(map[string]any{"workflow": "reply", "execution": "exec-<1>&", "status": 201})
	require.NoError(t, err)
	require.True(t, detailsForm.IsObject(marshalled), "what json.Marshal writes takes the fast path")
	requireDetailsFastIsReencoded(t, marshalled)
}

func requireDetailsFastIsReencoded(t *testing.T, raw []byte) {
	t.Helper()
	got, err := canonicalDetails(raw)
	want, wantErr := reencodeDetails(raw)
	if len(raw) == 0 || len(raw) > MaxDetails || !detailsForm.IsObject(raw) {
		return // the fast path is not taken
	}
	require.NoError(t, err, "%q", raw)
	require.NoError(t, wantErr, "%q", raw)
	require.Equal(t, string(want), string(got), "%q", raw)
}

func FuzzCanonicalDetailsFastIsReencoded(f *testing.F) {
	for _, seed := range detailsSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		requireDetailsFastIsReencoded(t, raw)
	})
}

// BenchmarkCanonicalHashMarshalledDetails is BenchmarkCanonicalHash of a
// record whose details are what the HTTP API marshals for a start.
func BenchmarkCanonicalHashMarshalledDetails(b *testing.B) {
	b.ReportAllocs()
	rec := record(1)
	rec.Details = json.RawMessage(`{"execution":"0f8e1c52-9f41-4d1a-8a3c-2f1f1e9d9b10","status":201,"workflow":"reply"}`)
	for b.Loop() {
		n, err := normalize(rec)
		if err != nil {
			b.Fatal(err)
		}
		e := Entry{Seq: 1, Record: n}
		_ = e.computeHash()
	}
}
