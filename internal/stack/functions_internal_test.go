package stack

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFunctionName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"aiflow-migrate":                       {"aiflow-migrate", ""},
		"aiflow-migrate:$LATEST":               {"aiflow-migrate", "$LATEST"},
		"123456789012:function:aiflow-migrate": {"aiflow-migrate", ""},
		"arn:aws:lambda:us-east-1:123456789012:function:aiflow-migrate":      {"aiflow-migrate", ""},
		"arn:aws:lambda:us-east-1:123456789012:function:aiflow-migrate:live": {"aiflow-migrate", "live"},
	} {
		name, qualifier := functionName(in)
		require.Equal(t, want, [2]string{name, qualifier}, in)
	}
}
