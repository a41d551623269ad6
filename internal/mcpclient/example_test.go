package mcpclient_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

// A pool over a server served in process: the call is validated against
// the tool's input schema before it is sent, and a failure has a name a
// workflow's retry and catch match.
func Example() {
	server := mcp.NewServer(&mcp.Implementation{Name: "greeter", Version: "1.0.0"}, nil)
	server.AddTool(&mcp.Tool{
		Name:        "greet",
		Description: "Greets someone.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		InputSchema: json.RawMessage(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}`),
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Hello, " + in.Name + "!"}}}, nil
	})
	connect := func(ctx context.Context) (mcp.Transport, error) {
		client, srv := mcp.NewInMemoryTransports()
		_, err := server.Connect(ctx, srv, nil)
		return client, err
	}
	pool, err := mcpclient.New(mcpclient.Options{InProcess: map[string]mcpclient.InProcessServer{
		"greeter": {Replicas: []mcpclient.ConnectFunc{connect}},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	ctx := context.Background()
	res, err := pool.Call(ctx, mcpclient.CallParams{Server: "greeter", Tool: "greet", Arguments: json.RawMessage(`{"name": "Ada"}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Output(), res.ProtocolVersion)

	_, err = pool.Call(ctx, mcpclient.CallParams{Server: "greeter", Tool: "greet", Arguments: json.RawMessage(`{}`)})
	fmt.Println(mcpclient.CodeOf(err))
	// Output:
	// Hello, Ada! 2025-11-25
	// MCP.InvalidArguments
}
