package jsonvalid_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// documents are valid and invalid inputs, for the tests and as the fuzz
// test's seeds.
var documents = []string{
	``, ` `, `{}`, `[]`, ` {} `, "\t[ ]\r\n", `{`, `}`, `[`, `]`, `{]`, `[}`, `{}}`, `[]]`, `{} {}`,
	`null`, `true`, `false`, `nul`, `truex`, `nullx`, `True`, `NaN`, `Infinity`,
	`0`, `-0`, `01`, `-01`, `1.`, `.1`, `1.5`, `-1.5e10`, `1e`, `1e+`, `1E-7`, `1e+07`, `-`, `+1`, `1x`, `12345678901234567890123`,
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`, `"\u00"`, `"\x"`, `"\`, `"`, `"a`,
	"\"\x01\"", "\"\x1f\"", "\"\x7f\"", "\"\xff\xfe\"", "\"é\"", `"\ud800"`, `"\u0000"`,
	`{"a":1}`, `{"a" : 1 , "b":[1,2,{"c":null}]}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{1:2}`, `{"a":1 "b":2}`, `{"a"::1}`,
	`[1,2,3]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[[[]]`, `[{}]`, `[{"a":[]}]`, `{"a":{"b":{}}}`,
	`{"payload":"0123456789abcdef","n":-12.5e-3,"ok":true,"none":null,"list":[{"x":"y"}]}`,
}

// TestValidIsEncodingJSONs: Valid and ValidString answer as
// encoding/json.Valid does.
func TestValidIsEncodingJSONs(t *testing.T) {
	t.Parallel()
	for _, d := range documents {
		require.Equal(t, json.Valid([]byte(d)), jsonvalid.Valid([]byte(d)), "%q", d)
		require.Equal(t, json.Valid([]byte(d)), jsonvalid.ValidString(d), "%q", d)
	}
}

// TestValidNestsAsDeepAsEncodingJSON: 10,000 nested arrays or objects
// are valid, 10,001 are not, empty or not.
func TestValidNestsAsDeepAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{63, 64, 65, 256, 257, 9999, 10000, 10001, 20000} {
		for _, doc := range []string{
			strings.Repeat("[", depth) + strings.Repeat("]", depth),
			strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1),
			strings.Repeat(`[{"a":`, depth/2) + "1" + strings.Repeat("}]", depth/2),
		} {
			require.Equal(t, json.Valid([]byte(doc)), jsonvalid.Valid([]byte(doc)), "depth %d: %.20q", depth, doc)
		}
	}
	require.True(t, jsonvalid.Valid([]byte(strings.Repeat("[", 10000)+strings.Repeat("]", 10000))))
	require.False(t, jsonvalid.Valid([]byte(strings.Repeat("[", 10001)+strings.Repeat("]", 10001))))
}

func FuzzValidIsEncodingJSONs(f *testing.F) {
	for _, d := range documents {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := json.Valid(data)
		if got := jsonvalid.Valid(data); want != got {
			t.Fatalf("Valid(%q) = %v; encoding/json says %v", data, got, want)
		}
		if got := jsonvalid.ValidString(string(data)); want != got {
			t.Fatalf("ValidString(%q) = %v; encoding/json says %v", data, got, want)
		}
	})
}

// benchDocument is an engine history batch's shape: nested objects,
// strings with escapes, numbers.
var benchDocument = []byte(`{"execution":{"arn":"arn:aws:states:us-east-1:123456789012:execution:peers:p123","status":"RUNNING"},` +
	`"events":[` + strings.Repeat(`{"id":12,"previousEventId":11,"timestamp":"2026-12-06T08:00:00.123Z","type":"TaskStateEntered",`+
	`"stateEnteredEventDetails":{"name":"Second","input":"{\"n\":123,\"payload\":\"0123456789abcdef0123456789abcdef\"}","inputDetails":{"truncated":false}}},`, 6) +
	`{"id":13,"type":"TaskScheduled","taskScheduledEventDetails":{"resource":"invoke","region":"us-east-1","parameters":"{\"FunctionName\":\"echo\"}"}}],` +
	`"threads":{"0":{"state":"Second","lastEvent":13,"value":{"n":123,"payload":"0123456789abcdef0123456789abcdef"}}},"seq":4}`)

// BenchmarkValid compares Valid with encoding/json.Valid on benchDocument.
func BenchmarkValid(b *testing.B) {
	b.Run("jsonvalid", func(b *testing.B) {
		b.SetBytes(int64(len(benchDocument)))
		for b.Loop() {
			if !jsonvalid.Valid(benchDocument) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(benchDocument)))
		for b.Loop() {
			if !json.Valid(benchDocument) {
				b.Fatal("invalid")
			}
		}
	})
}
