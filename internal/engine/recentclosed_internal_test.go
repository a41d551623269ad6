package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// TestRecentClosedBounds: the records kept are the last ones put, within
// the bounds in records and bytes; a dropped or replaced record is not
// given back as it was.
func TestRecentClosedBounds(t *testing.T) {
	t.Parallel()
	var c recentClosed
	rec := func(i int, output string) *ExecutionRecord {
		return &ExecutionRecord{ARN: fmt.Sprintf("arn:%d", i), Status: sfn.StatusSucceeded, Output: output}
	}
	for i := range recentClosedRecords + 10 {
		c.put(rec(i, "{}"))
	}
	for i := range recentClosedRecords + 10 {
		_, ok := c.get(fmt.Sprintf("arn:%d", i))
		require.Equal(t, i >= 10, ok, "record %d", i)
	}

	c.drop("arn:20")
	_, ok := c.get("arn:20")
	require.False(t, ok)
	c.put(rec(21, `{"again":true}`))
	got, ok := c.get("arn:21")
	require.True(t, ok)
	require.Equal(t, `{"again":true}`, got.Output)

	big := strings.Repeat("x", recentClosedBytes/4)
	for i := range 5 {
		c.put(rec(5000+i, big))
	}
	require.LessOrEqual(t, c.bytes, recentClosedBytes)
	for i := range 5 {
		_, ok := c.get(fmt.Sprintf("arn:%d", 5000+i))
		require.Equal(t, i >= 1, ok, "large record %d: four fit", i)
	}
	c.put(rec(6000, strings.Repeat("x", recentClosedBytes+1)))
	_, ok = c.get("arn:6000")
	require.False(t, ok, "larger than the bound: not kept")
}
