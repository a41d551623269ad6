package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

var memberTextCases = []string{
	`{"a":1}`, `[]`, `{}`, `[1,"two",{"three":[3]}]`, `{"s":"with \"quotes\", {braces} and [brackets]","n":-1.5e3}`,
	`{"esc":"back\\slash\n\t\u0001 é ✓ <&>"}`, `"a string"`, `42`, `true`, `null`, `{"MessageBody":{"inner":true}}`,
}

// checkMemberText: the message body cut from the parameters' text is the
// body's own text, for a body of any kind between other members.
func checkMemberText(t *testing.T, body any) {
	params := asl.NewObject(3)
	params.Set("QueueUrl", "https://sqs.us-east-1.amazonaws.com/123456789012/q")
	params.Set("MessageBody", body)
	params.Set("After", []any{"x", asl.NewObject(0)})
	got, ok := memberText(text(params), "MessageBody")
	switch body.(type) {
	case *asl.Object, []any:
		require.True(t, ok)
		require.Equal(t, text(body), got)
	default:
		require.False(t, ok, "a scalar body is encoded as it always was")
	}
}

func TestMemberText(t *testing.T) {
	t.Parallel()
	for _, c := range memberTextCases {
		v, err := asl.DecodeJSON([]byte(c))
		require.NoError(t, err, c)
		checkMemberText(t, v)
	}
	for _, bad := range []string{"", "{", `{"MessageBody"`, `{"MessageBody":{"a":1}`, `{"a":1}`, `{"a":"x","b":[1,2]}`, `["MessageBody"]`} {
		_, ok := memberText(bad, "MessageBody")
		require.False(t, ok, "%q", bad)
	}
	_, ok := memberText(`{"a\"b":{}}`, `a"b`)
	require.False(t, ok, "a key that needs escaping is not looked for")
}

func FuzzMemberText(f *testing.F) {
	for _, c := range memberTextCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		v, err := asl.DecodeJSON([]byte(doc))
		if err != nil {
			return
		}
		checkMemberText(t, v)
		if got, ok := memberText(doc, "MessageBody"); ok { // any text at all: no panic, and a cut within it
			require.Contains(t, doc, got)
		}
	})
}
