package httpapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

func TestClosedReadsKeepAnAnswerForTheStateItWasBuiltFrom(t *testing.T) {
	t.Parallel()
	stop := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := sfn.Execution{ExecutionARN: "arn:aws:states:us-east-1:123456789012:execution:reply:a", Status: sfn.StatusAborted, StopDate: stop}
	var c closedReads
	c.put(e, 3, []byte("answer\n"))
	body, ok := c.get(e, 3)
	require.True(t, ok)
	require.Equal(t, "answer\n", string(body))

	for name, later := range map[string]sfn.Execution{
		"redriven and running": {ExecutionARN: e.ExecutionARN, Status: sfn.StatusRunning, RedriveCount: 1},
		"redriven and closed":  {ExecutionARN: e.ExecutionARN, Status: sfn.StatusAborted, StopDate: stop.Add(time.Minute), RedriveCount: 1},
		"counted otherwise":    {ExecutionARN: e.ExecutionARN, Status: sfn.StatusAborted, StopDate: stop, RedriveCount: 1},
		"another status":       {ExecutionARN: e.ExecutionARN, Status: sfn.StatusFailed, StopDate: stop},
		"another execution":    {ExecutionARN: e.ExecutionARN + "b", Status: sfn.StatusAborted, StopDate: stop},
	} {
		_, ok := c.get(later, 3)
		require.False(t, ok, name)
	}
	_, ok = c.get(e, 4)
	require.False(t, ok, "a publish since")
}

func TestClosedReadsStayWithinTheirBytes(t *testing.T) {
	t.Parallel()
	var c closedReads
	big := make([]byte, maxClosedRead)
	c.put(sfn.Execution{ExecutionARN: "too-large", Status: sfn.StatusSucceeded}, 0, append(big, '\n'))
	require.Empty(t, c.answers, "an answer over maxClosedRead is not kept")
	for i := range closedReadsBytes/maxClosedRead + 1 {
		c.put(sfn.Execution{ExecutionARN: string(rune('a'+i%26)) + string(rune('a'+i/26)), Status: sfn.StatusSucceeded}, 0, big)
		require.LessOrEqual(t, c.bytes, closedReadsBytes)
	}
	require.Len(t, c.answers, 1, "the cache started again empty")
}
