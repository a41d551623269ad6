package main

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// TestDevSupportDeskLogsNoOtherCallersStep: dev's in-process support desk
// serves every step through sessions the workers' pool opens once, from
// whichever step dialled first; a tool's log lines carried that step's
// execution and step, whoever called. They carry none of the dialler's.
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
	res, err := cs.CallTool(second, &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"order_id": 1042}})
	if err == nil {
		require.True(t, res.IsError, "a tool whose database is closed fails")
	}
	require.Contains(t, logs.String(), "support tool failed")
	require.NotContains(t, logs.String(), "execution-that-dialled")
	require.NotContains(t, logs.String(), "step-that-dialled")
}
