package task

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/textgate"
)

// fastBodies are messages decodeFast reads: the template's shape, spaced
// and ordered every way encoding/json allows.
var fastBodies = []string{
	`{"version":1,"taskToken":"tok","execution":{"id":"arn:aws:states:eu-west-1:123456789012:execution:wf:run-1","name":"run-1","startTime":"2026-01-02T03:04:05Z"},"step":{"id":"approve","kind":"approval","attempt":0,"enteredTime":"2026-01-02T03:04:06.5Z"},"spec":{"approvers":["support-leads"]},"data":{"message":"Answer load?"}}`,
	"{ \"data\" : [1, {\"a\": \"}\\\"]\"}] ,\n\t\"spec\":\"x\\\\\" , \"step\":{\"kind\":\"ai\",\"id\":\"café\",\"attempt\":-12},\"taskToken\":\"t\",\"version\" : 1 }\r\n",
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"spec":{},"data":{}}`,
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"spec":12.5e3,"data":true}`,
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"spec":-0,"data":"s"}`,
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"execution":{},"data":false}`,
}

// slowBodies are messages decodeFast leaves to encoding/json: each has one
// thing outside its subset.
var slowBodies = []string{
	`{"taskToken":"t\u00e9k","step":{"id":"a","kind":"mcp"}}`,              // an escape
	`{"TaskToken":"tok","step":{"id":"a","kind":"mcp"}}`,                   // a key in another case
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"trace":1}`,         // an unknown member
	`{"taskToken":"tok","taskToken":"tok","step":{"id":"a","kind":"mcp"}}`, // a member twice
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp","id":"b"}}`,          // a step member twice
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp","attempt":1.0}}`,     // a fraction
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp","attempt":1e2}}`,     // an exponent
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp","attempt":99999999999999999999}}`,
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"spec":null}`,            // null
	`{"version":null,"taskToken":"tok","step":{"id":"a","kind":"mcp"}}`,         // null
	`{"taskToken":"tok","execution":null,"step":{"id":"a","kind":"mcp"}}`,       // null
	`{"version":2,"taskToken":"tok","step":{"id":"a","kind":"mcp"}}`,            // refused
	`{"taskToken":"","step":{"id":"a","kind":"mcp"}}`,                           // refused
	`{"taskToken":"tok","step":{"id":"a"}}`,                                     // refused
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"}} {}`,                     // refused
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"execution":{"id":7}}`,   // refused
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"data":{"a":[}}`,         // not JSON
	`[{"taskToken":"tok","step":{"id":"a","kind":"mcp"}}]`,                      // not an object
	"{\"taskToken\":\"tok\xff\",\"step\":{\"id\":\"a\",\"kind\":\"mcp\"}}",      // invalid UTF-8
	`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"execution":{"ID":"x"}}`, // a key in another case
}

// TestDecodeFastIsDecodeReflect: decodeFast reads the bodies of its subset
// as encoding/json does, and leaves the others to it.
func TestDecodeFastIsDecodeReflect(t *testing.T) {
	t.Parallel()
	for _, body := range fastBodies {
		got, ok := decodeFast(body)
		require.True(t, ok, body)
		want, err := decodeReflect(body)
		require.NoError(t, err, body)
		require.Equal(t, want, got, body)
	}
	for _, body := range slowBodies {
		_, ok := decodeFast(body)
		require.False(t, ok, body)
	}
}

// TestDecodeFastCopiesRawValues: spec and data are copies that a caller
// may change, each with no room to grow into the other.
func TestDecodeFastCopiesRawValues(t *testing.T) {
	t.Parallel()
	m, ok := decodeFast(`{"taskToken":"tok","step":{"id":"a","kind":"mcp"},"spec":[1],"data":[2]}`)
	require.True(t, ok)
	m.Spec = append(m.Spec, '!')
	require.Equal(t, json.RawMessage(`[2]`), m.Data)
}

// FuzzDecodeFastIsDecodeReflect: every body decodeFast reads, after the
// text gate, is read the same by encoding/json.
func FuzzDecodeFastIsDecodeReflect(f *testing.F) {
	for _, body := range append(fastBodies, slowBodies...) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if textgate.JSON([]byte(body)) != nil {
			return
		}
		got, ok := decodeFast(body)
		if !ok {
			return
		}
		want, err := decodeReflect(body)
		require.NoError(t, err, body)
		require.Equal(t, want, got, body)
	})
}
