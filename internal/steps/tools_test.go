package steps_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/steps"
)

func TestInProcessToolsRefuseBadTools(t *testing.T) {
	t.Parallel()
	tools := &steps.InProcessTools{}
	require.ErrorContains(t, tools.Add(steps.ToolInfo{Name: "noserver"}, nil), "server/tool")
	require.ErrorContains(t, tools.Add(steps.ToolInfo{Name: "s/t", InputSchema: []byte(`[1]`)}, nil), "not a JSON object")
}
