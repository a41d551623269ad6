package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUsageCacheForgetsAUsageOnRedrive(t *testing.T) {
	t.Parallel()
	var c usageCache
	arn := "arn:aws:states:us-east-1:123456789012:execution:reply:a"
	c.put(arn, 0, &usageView{ModelCalls: 1})
	require.Equal(t, 1, c.get(arn, 0).ModelCalls)
	require.Nil(t, c.get(arn, 1), "the redriven steps may have called models")
}
