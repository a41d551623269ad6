package sfn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

func TestTaskTokenExecution(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:states:us-east-1:123456789012:execution:wf:run-1"
	random := []byte("0123456789abcdef|x") // the random part may hold "|"
	token := sfn.NewTaskToken(arn, random)
	got, ok := sfn.TaskTokenExecution(token)
	require.True(t, ok)
	require.Equal(t, arn, got)

	for _, opaque := range []string{
		"", "tok", "AAAAKyAxZ+/=", // not base64url
		sfn.NewTaskToken(arn, make([]byte, 18))[:40], // cut short
	} {
		_, ok := sfn.TaskTokenExecution(opaque)
		require.False(t, ok, opaque)
	}
	require.Panics(t, func() { sfn.NewTaskToken(arn, []byte("short")) })
}
