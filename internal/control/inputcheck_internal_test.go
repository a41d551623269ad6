package control

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// inputSeeds are execution inputs around what the two decoders read.
var inputSeeds = []string{
	`{"message":"load"}`, `{"message": "load"}`, `{}`, `[]`, `null`, `1`, `-0.50e+3`, `"x"`, `true`,
	`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":null}],"d":"\u00e9\"\\\/\n\u2028"}}`, `{"a":"\ud83d\ude00"}`,
	`{"a":"\ud83d"}`, `{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `{"a":1} 2`, `{"a":1}  `, `{"a":`, ``,
	`[1,2,3,{"x":[]}]`, strings.Repeat("[", 100) + strings.Repeat("]", 100),
	`{"b":1,"a":2,"é":3,"A":4}`, `12345678901234567890123456789`,
}

// requireDecodedInputIsJSONSchemas fails when decodeInput reads raw to
// another value than jsonschema.UnmarshalJSON, or reads what it refuses.
func requireDecodedInputIsJSONSchemas(t *testing.T, raw []byte) bool {
	t.Helper()
	got, ok := decodeInput(raw)
	if !ok {
		return false
	}
	want, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err, "%q", raw)
	require.Equal(t, want, got, "%q", raw)
	return true
}

// TestDecodedInputIsJSONSchemas: what decodeInput reads, it reads as the
// schema library's decoder does; the rest is left to schema.Validate.
func TestDecodedInputIsJSONSchemas(t *testing.T) {
	t.Parallel()
	read := 0
	for _, seed := range inputSeeds {
		if requireDecodedInputIsJSONSchemas(t, []byte(seed)) {
			read++
		}
	}
	require.Equal(t, 19, read)
}

func FuzzDecodedInputIsJSONSchemas(f *testing.F) {
	for _, seed := range inputSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		requireDecodedInputIsJSONSchemas(t, raw)
	})
}
