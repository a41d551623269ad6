package supportdesk_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkToolCall measures one tool call through the MCP SDK's in-memory
// transport to the desk on a real database: protocol, schema validation,
// queries and the structured result.
func BenchmarkToolCall(b *testing.B) {
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_order", map[string]any{"order_id": orderInTransit}},
		{"search_kb", map[string]any{"query": "where is my order shipping delay", "limit": 3}},
	} {
		b.Run(c.tool, func(b *testing.B) {
			cs := connectMemory(b, setup(b), 0)
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
				if err != nil || res.IsError {
					b.Fatalf("%s: %v %v", c.tool, err, res)
				}
			}
		})
	}
}
