package supportdesk

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/outage"
)

// ToolsJSON is the definition of the support tools (name, description,
// input and output schemas) in the shape of MCP's tools/list. The server
// serves exactly these, and examples/mcp-catalog.json's "support" server
// holds the same (a test keeps them equal).
//
//go:embed tools.json
var ToolsJSON []byte

// Tools returns the support tools' definitions, decoded from ToolsJSON.
func Tools() ([]*mcp.Tool, error) {
	var doc struct {
		Tools []*mcp.Tool `json:"tools"`
	}
	if err := json.Unmarshal(ToolsJSON, &doc); err != nil {
		return nil, fmt.Errorf("decoding the support tools' definitions: %w", err)
	}
	return doc.Tools, nil
}

// ServerName is the name the server gives in its initialize result.
const ServerName = "aiflow-support"

// ServerOptions configure NewServer.
type ServerOptions struct {
	// Version is the server's version in its initialize result.
	Version string
	// Logger receives the errors tools hide from callers; nil discards
	// them.
	Logger *slog.Logger
	// LocalCaller is the caller of a session that has no bearer token: the
	// stdio transport, run by whoever may run the binary. Its Subject
	// defaults to "local".
	LocalCaller Caller
}

// NewServer returns an MCP server with the support tools on d. A call's
// caller is the bearer token's (see NewHTTPHandler), or opts.LocalCaller
// when the transport has no token. A bad argument or a refusal is a tool
// error result (isError) whose text says what was wrong; an internal error
// is a tool error that says only that, and goes to the logger; a database
// that is unavailable is the JSON-RPC error mcpclient.UnavailableErrorCode,
// which clients of this project name MCP.Unavailable and retry. Arguments
// holding a NUL, invalid UTF-8 or a lone surrogate are refused before the
// SDK reads them, with a JSON-RPC invalid-params error naming the JSON
// pointer (gateArguments).
func NewServer(d *Desk, opts ServerOptions) (*mcp.Server, error) {
	tools, err := Tools()
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LocalCaller.Subject == "" {
		opts.LocalCaller.Subject = "local"
	}
	if opts.Version == "" {
		opts.Version = "devel"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: ServerName, Title: "aiflow customer-support desk", Version: opts.Version}, &mcp.ServerOptions{
		Instructions: "Tools of an online store's support desk: look up customers and orders, search the knowledge base, open, update and escalate tickets, and issue refunds within the store's rules.",
		Logger:       opts.Logger,
	})
	s.AddReceivingMiddleware(gateArguments, joinCaller)
	byName := map[string]*mcp.Tool{}
	for _, t := range tools {
		byName[t.Name] = t
	}
	h := &toolHandlers{desk: d, opts: opts}
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)}
	// Every change honours an idempotency key in the call's _meta (see
	// Desk); a refund's request_id is one too, which a client fills.
	keyedInMeta := mcp.Meta{mcpclient.IdempotencyMetaKey: "_meta"}
	adds := map[string]func(*mcp.Tool){
		"find_customer": func(t *mcp.Tool) {
			t.Annotations = readOnly
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, c Caller, in FindCustomerParams) (Customer, error) {
				return d.FindCustomer(ctx, c, in)
			}))
		},
		"get_order": func(t *mcp.Tool) {
			t.Annotations = readOnly
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, c Caller, in GetOrderParams) (Order, error) {
				return d.GetOrder(ctx, c, in)
			}))
		},
		"search_kb": func(t *mcp.Tool) {
			t.Annotations = readOnly
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, _ Caller, in SearchKBParams) (KBResults, error) {
				return d.SearchKB(ctx, in)
			}))
		},
		"create_ticket": func(t *mcp.Tool) {
			t.Annotations = &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(false)}
			t.Meta = keyedInMeta
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, c Caller, in CreateTicketParams) (TicketCreated, error) {
				return d.CreateTicket(ctx, c, in)
			}))
		},
		"update_ticket": func(t *mcp.Tool) {
			t.Annotations = &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(false)}
			t.Meta = keyedInMeta
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, c Caller, in UpdateTicketParams) (TicketUpdated, error) {
				return d.UpdateTicket(ctx, c, in)
			}))
		},
		"escalate_ticket": func(t *mcp.Tool) {
			t.Annotations = &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(false)}
			t.Meta = keyedInMeta
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, c Caller, in EscalateTicketParams) (TicketEscalated, error) {
				return d.EscalateTicket(ctx, c, in)
			}))
		},
		"issue_refund": func(t *mcp.Tool) {
			// Destructive, and idempotent only with a request_id, which a
			// client may send to make its retries safe; aiflow's client
			// fills it with the call's idempotency key, as declared here.
			t.Annotations = &mcp.ToolAnnotations{DestructiveHint: new(true), OpenWorldHint: new(true)}
			t.Meta = mcp.Meta{mcpclient.IdempotencyMetaKey: "request_id"}
			mcp.AddTool(s, t, tool(h, func(ctx context.Context, c Caller, in IssueRefundParams) (Refund, error) {
				return d.IssueRefund(ctx, c, in)
			}))
		},
	}
	for name, add := range adds {
		t, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("building the support server: tools.json has no tool %s", name)
		}
		add(t)
		delete(byName, name)
	}
	for name := range byName {
		return nil, fmt.Errorf("building the support server: tools.json's tool %s has no handler", name)
	}
	return s, nil
}

type toolHandlers struct {
	desk *Desk
	opts ServerOptions
}

// caller is the token's caller, or the local one on a transport without
// tokens.
func (h *toolHandlers) caller(req *mcp.CallToolRequest) Caller {
	if req.Extra == nil || req.Extra.TokenInfo == nil {
		return h.opts.LocalCaller
	}
	c := Caller{Subject: req.Extra.TokenInfo.UserID}
	if id, ok := req.Extra.TokenInfo.Extra[customerIDClaim].(int64); ok {
		c.CustomerID = id
	}
	return c
}

// idempotencyKey is the key in the call's _meta, or "".
func idempotencyKey(req *mcp.CallToolRequest) string {
	if req.Params == nil {
		return ""
	}
	key, _ := req.Params.Meta[mcpclient.IdempotencyMetaKey].(string)
	return key
}

// tool adapts a Desk method to an MCP typed tool handler, turning its
// errors into tool error results.
func tool[In, Out any](h *toolHandlers, f func(context.Context, Caller, In) (Out, error)) mcp.ToolHandlerFor[In, Out] {
	return func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		if k, ok := any(&in).(keyed); ok {
			k.setIdempotencyKey(idempotencyKey(req))
		}
		out, err := f(ctx, h.caller(req), in)
		if err == nil {
			return nil, out, nil
		}
		var zero Out
		var de *Error
		if errors.As(err, &de) {
			return nil, zero, de
		}
		h.opts.Logger.ErrorContext(ctx, "support tool failed", "tool", req.Params.Name, "error", err)
		if ctx.Err() != nil {
			return nil, zero, errors.New("the request was cancelled before the support desk finished it")
		}
		if outage.Is(err) {
			// Retryable: the client names it MCP.Unavailable, not a tool error.
			return nil, zero, &jsonrpc.Error{Code: mcpclient.UnavailableErrorCode,
				Message: "the support desk's database is unavailable; try again shortly"}
		}
		return nil, zero, errors.New("the support desk could not complete this request because of an internal error; try again later")
	}
}
