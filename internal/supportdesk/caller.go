package supportdesk

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

// joinCaller gives a tool call's handler what the call's _meta says of
// its caller (mcpclient.CallerContext): the caller's trace as the parent of
// the call's context, its execution and its step, so that the desk's log
// lines of the call carry them, whichever session the call came by.
func joinCaller(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
			ctx = mcpclient.CallerContext(ctx, call.Params.Meta)
		}
		return next(ctx, method, req)
	}
}
