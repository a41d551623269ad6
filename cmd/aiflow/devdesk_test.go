package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// TestDevSupportDeskLogsNoOtherCallersStep: dev's in-process support desk
// serves every step through sessions the workers' pool opens once, from
// whichever step dialled first; a tool's log lines carried that step's
// execution and step, whoever called. They carry none of the dialler's:
// they carry the caller's, its trace too, from the call's _meta (which
// aiflow's MCP client fills, see mcpclient.CallerContext).
func TestDevSupportDeskLogsNoOtherCallersStep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgclustertest.Pool(t)
	logs := &lockedBuffer{}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: logs})
	desk, err := devSupportDesk(ctx, pool, logger)
	require.NoError(t, err)

	first := telemetry.WithStep(telemetry.WithExecutionID(ctx, "execution-that-dialled"), "step-that-dialled")
	transport, err := desk.Replicas[0](first)
	require.NoError(t, err)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(first, transport, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })

	pool.Close() // every tool now fails inside the desk, which logs it
	second := telemetry.WithStep(telemetry.WithExecutionID(ctx, "execution-that-called"), "step-that-called")
	res, err := cs.CallTool(second, &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"order_id": 1042}, Meta: mcp.Meta{
		mcpclient.ExecutionMetaKey:   "execution-that-called",
		mcpclient.StepMetaKey:        "step-that-called",
		mcpclient.TraceparentMetaKey: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}})
	if err == nil {
		require.True(t, res.IsError, "a tool whose database is closed fails")
	}
	require.Contains(t, logs.String(), "support tool failed")
	require.NotContains(t, logs.String(), "execution-that-dialled")
	require.NotContains(t, logs.String(), "step-that-dialled")
	var failed map[string]any
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "support tool failed") {
			require.NoError(t, json.Unmarshal([]byte(line), &failed))
		}
	}
	require.Equal(t, "execution-that-called", failed["execution_id"])
	require.Equal(t, "step-that-called", failed["step"])
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", failed["trace_id"])
}
