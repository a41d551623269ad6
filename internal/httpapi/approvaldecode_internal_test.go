package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// approvalFieldSeeds are specs and datas of approval messages, of the
// compiler's shape and around it.
var approvalFieldSeeds = [][2]string{
	{`{"approvers":["support-leads"]}`, `{"message":"Answer load?"}`},
	{`{"approvers":["ops"],"timeout_seconds":60}`, `{"message":"Refund 10?"}`},
	{`{"timeout_seconds":60}`, `{}`},
	{`{"a":{"b":[1,"]"],"c":{}},"approvers":["x"],"z":null}`, `{"n":-1.5e3,"message":"m","t":true}`},
	{`{"approvers":["a"],"t":60 }`, `{"message":"m","Message":"n"}`},
	{`{"approvers":["a"],"approvers":["b"]}`, `{"MESSAGE":"x"}`},
	{`{"approvers":["a"],"APPROVERS":["b"]}`, `{"message":"x" }`},
	{`{"approvers":["a","b]}","c,d"]}`, `{"message":"x}"}`},
	{`{"approvers":[]}`, `{}`},
	{`{}`, `{"message":""}`},
	{``, ``},
	{`{"approvers":["é"]}`, `{"message":"中"}`},
	{`{"approvers":null}`, `{"message":null}`},
	{`{"approvers":["a",]}`, `{"message":"a\"b"}`},
	{`{"approvers":["a"],"approvers":["b"]}`, `{"message":"x","message":"y"}`},
	{`{"approvers":["a"],"x":["b"]}`, `{"message":"x","a":"y"}`},
	{`{"Approvers":["a"]}`, `{"Message":"x"}`},
	{`{"approvers": ["a"]}`, `{ "message":"x"}`},
	{`{"approvers":["a" ,"b"]}`, `{"message":5}`},
	{`{"approvers":[1]}`, `[]`},
	{`{"approvers":["a\u0062"]}`, `"x"`},
	{"{\"approvers\":[\"\xff\"]}", "{\"message\":\"\xff\"}"},
	{"{\"approvers\":[\"a\tb\"]}", `{"message":"a"}`},
}

// TestDecodeApprovalFastIsUnmarshal: what decodeApprovalFast reads, it
// reads as json.Unmarshal does.
func TestDecodeApprovalFastIsUnmarshal(t *testing.T) {
	t.Parallel()
	fast := 0
	for _, seed := range approvalFieldSeeds {
		if requireApprovalFastIsUnmarshal(t, []byte(seed[0]), []byte(seed[1])) {
			fast++
		}
	}
	require.Equal(t, 10, fast, "the compiler's shapes take the fast path")
}

func requireApprovalFastIsUnmarshal(t *testing.T, rawSpec, rawData []byte) bool {
	t.Helper()
	spec, data, ok := decodeApprovalFast(rawSpec, rawData)
	if !ok {
		return false
	}
	var wantSpec approvalSpec
	var wantData approvalData
	if len(rawSpec) > 0 {
		require.NoError(t, json.Unmarshal(rawSpec, &wantSpec), "%q", rawSpec)
	}
	if len(rawData) > 0 {
		require.NoError(t, json.Unmarshal(rawData, &wantData), "%q", rawData)
	}
	require.Equal(t, wantSpec, spec, "%q", rawSpec)
	require.Equal(t, wantData, data, "%q", rawData)
	return true
}

func FuzzDecodeApprovalFastIsUnmarshal(f *testing.F) {
	for _, seed := range approvalFieldSeeds {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, rawSpec, rawData []byte) {
		if len(rawSpec) > 0 && !json.Valid(rawSpec) || len(rawData) > 0 && !json.Valid(rawData) {
			return // they come from a task message, which is valid JSON
		}
		requireApprovalFastIsUnmarshal(t, rawSpec, rawData)
	})
}

// BenchmarkDecodeApproval is one approval step's message read by the
// approvals worker: the task message, its spec and its data.
func BenchmarkDecodeApproval(b *testing.B) {
	const body = `{"version":1,"taskToken":"AAAAKgAAAAIAAAAAAAAAAcaG2bXkF1u8S3+hQ0Bmv0BQxvXTYpz0yEKb1ZrmQ2M9MKpBJLZjAn4=","execution":{"id":"arn:aws:states:us-east-1:123456789012:execution:aiflow-reply:6c1b3a1e-8f0a-4a53-9a3c-2f1f1e9d9b10","name":"6c1b3a1e-8f0a-4a53-9a3c-2f1f1e9d9b10","startTime":"2026-12-06T19:09:07.123Z"},"step":{"id":"approve","kind":"approval","attempt":0,"enteredTime":"2026-12-06T19:09:07.124Z"},"spec":{"approvers":["support-leads"]},"data":{"message":"Answer load?"}}`
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := decodeApproval(body); err != nil {
			b.Fatal(err)
		}
	}
}
