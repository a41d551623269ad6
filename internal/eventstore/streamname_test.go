package eventstore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
)

func TestExecutionStreamID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "execution-us-east-1:123456789012:Support:ticket-42",
		eventstore.ExecutionStreamID("arn:aws:states:us-east-1:123456789012:execution:Support:ticket-42"))
	require.Equal(t, "execution-us-east-1:123456789012:Support:a:b",
		eventstore.ExecutionStreamID("arn:aws:states:us-east-1:123456789012:execution:Support:a:b"))

	long := "arn:aws:states:us-east-1:123456789012:execution:" + strings.Repeat("s", 80) + ":" + strings.Repeat("n", 120)
	for _, arn := range []string{long, "arn:aws:states:us-east-1:123456789012:express:Support:x:y", "not an ARN", "arn:aws:states:us-east-1:123456789012:execution:a\nb:c", ""} {
		id := eventstore.ExecutionStreamID(arn)
		require.True(t, strings.HasPrefix(id, "execution-"), id)
		require.Len(t, id, len("execution-")+64, "%q is hashed", arn)
		require.NotContains(t, id, ":")
		require.Equal(t, id, eventstore.ExecutionStreamID(arn), "the stream id is deterministic")
	}
	require.NotEqual(t, eventstore.ExecutionStreamID(long), eventstore.ExecutionStreamID(long+"x"))
	require.NotEqual(t,
		eventstore.ExecutionStreamID("arn:aws:states:us-east-1:123456789012:execution:Support:x"),
		eventstore.ExecutionStreamID("arn:aws:states:eu-west-1:123456789012:execution:Support:x"))
}

func TestDetailStreamIDIsTheExecutionsSibling(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:states:us-east-1:123456789012:execution:triage:run-1"
	require.Equal(t, "execution-us-east-1:123456789012:triage:run-1", eventstore.ExecutionStreamID(arn))
	require.Equal(t, "details-us-east-1:123456789012:triage:run-1", eventstore.DetailStreamID(arn))
	odd := eventstore.DetailStreamID("not an ARN")
	require.True(t, strings.HasPrefix(odd, "details-"))
	require.NotContains(t, odd, ":")
	require.Equal(t, strings.TrimPrefix(eventstore.ExecutionStreamID("not an ARN"), "execution-"), strings.TrimPrefix(odd, "details-"))
}
