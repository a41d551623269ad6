package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

// TestAPIMCPServers: the API's view of the workers' pool lists each
// server with its endpoints and tools, and a server that cannot be
// reached with its error's code only.
func TestAPIMCPServers(t *testing.T) {
	t.Parallel()
	require.Nil(t, apiMCPServers(nil, nil), "no pool, no route behind it")

	server := mcp.NewServer(&mcp.Implementation{Name: "greeter", Version: "1.0.0"}, nil)
	server.AddTool(&mcp.Tool{Name: "greet", Description: "Greets someone.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	connect := func(ctx context.Context) (mcp.Transport, error) {
		client, srv := mcp.NewInMemoryTransports()
		_, err := server.Connect(ctx, srv, nil)
		return client, err
	}
	broken := func(context.Context) (mcp.Transport, error) { return nil, errors.New("dialing 10.0.0.7: refused") }
	pool, err := mcpclient.New(mcpclient.Options{
		InProcess: map[string]mcpclient.InProcessServer{
			"greeter": {Replicas: []mcpclient.ConnectFunc{connect}},
			"broken":  {Replicas: []mcpclient.ConnectFunc{broken}, Config: mcpclient.ServerConfig{MaxAttempts: 1}},
		},
		SleepFunc: func(context.Context, time.Duration) error { return nil },
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pool.Close() })

	list := apiMCPServers(pool, slog.New(slog.DiscardHandler)).MCPServers(t.Context())
	require.Len(t, list, 2)
	require.Equal(t, "broken", list[0].Name)
	require.Empty(t, list[0].Tools)
	require.Contains(t, list[0].Error, "MCP.")
	require.NotContains(t, list[0].Error, "10.0.0.7", "the cause stays in the log")
	require.Equal(t, "greeter", list[1].Name)
	require.Empty(t, list[1].Error)
	require.Len(t, list[1].Endpoints, 1)
	require.True(t, list[1].Endpoints[0].Connected)
	require.Len(t, list[1].Tools, 1)
	require.Equal(t, "greet", list[1].Tools[0].Name)
	require.True(t, list[1].Tools[0].ReadOnly)
	require.Equal(t, "pinned", list[1].Tools[0].Status)
}
