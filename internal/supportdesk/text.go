package supportdesk

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/textgate"
)

// gateArguments is the server's receiving middleware that runs every
// tools/call through checkArguments before the SDK validates and decodes
// its arguments (whose errors would quote the refused text).
func gateArguments(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if call, ok := req.(*mcp.CallToolRequest); ok {
			if err := checkArguments(call); err != nil {
				return nil, err
			}
		}
		return next(ctx, method, req)
	}
}

// checkArguments runs the text gate over a call's arguments as they came
// on the wire (raw: decoded, invalid UTF-8 and lone surrogates would be
// U+FFFD): a NUL, invalid UTF-8 or
// a lone surrogate is refused with a JSON-RPC invalid-params error naming
// the JSON pointer under /arguments, so that nothing of the kind reaches
// the desk's database or the caller's effects. An MCP client reads the
// error as the server's refusal of the arguments (aiflow's pool:
// MCP.InvalidArguments).
func checkArguments(req *mcp.CallToolRequest) error {
	if req == nil || req.Params == nil {
		return nil
	}
	var te *textgate.Error
	if !errors.As(textgate.JSON(req.Params.Arguments), &te) {
		return nil
	}
	where := &textgate.Error{Flaw: te.Flaw, Pointer: "/arguments" + te.Pointer, InKey: te.InKey, Offset: te.Offset}
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams,
		Message: "the arguments hold text that is refused (a NUL, invalid UTF-8 or a lone surrogate): " + where.Error()}
}
