// Package mcpclienttest serves a small MCP server, built with the official
// SDK, for the tests of the MCP pool and its users: in process (the SDK's
// in-memory transports), over Streamable HTTP, and over stdio as a child
// process (the test binary run again, see ServeStdioIfChild). Its tools
// cover what a pool must handle: read-only, non-idempotent and keyed
// calls, tool errors, hanging calls, large results, and a process that
// dies during a call.
package mcpclienttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

// Options configures New.
type Options struct {
	// Name is the server's implementation name; empty means "test".
	Name string
	// Versions, if set, are the only protocol versions the server speaks.
	Versions []string
}

// Server is the test server. Its tools:
//
//   - lookup {id, block?, exit_first?}: read-only; answers
//     {"id": id, "name": "customer <id>"} as structured content;
//   - create_ticket {subject, block?, exit_first?}: neither read-only nor
//     idempotent; answers {"ticket_id": n};
//   - refund {order_id}: honours an idempotency key in _meta
//     (mcpclient.IdempotencyMetaKey): a repeated key answers the first
//     result;
//   - add_note {note, op_id?}: takes its idempotency key in its
//     op_id argument; answers the op_id and the _meta key it
//     got;
//   - fail {}: answers isError with "order 1042 does not exist";
//   - reject {}: answers the JSON-RPC error -32602;
//   - hang {}: answers only when its call is cancelled;
//   - big {bytes}: answers that many bytes of text;
//   - env {name}: answers the value of a variable of its environment.
//
// block makes a call wait for Release (Entered says when it waits);
// exit_first names a file: when it does not exist, the call creates it and
// the process exits (a stdio server killed during the call).
type Server struct {
	MCP *mcp.Server

	mu      sync.Mutex
	calls   map[string]int
	keys    map[string]int
	metas   []mcp.Meta // the _meta of every call that counted a key, in order
	conns   []net.Conn
	release chan struct{}
	entered chan string
	tickets int
}

// New returns a server with its tools.
func New(opts Options) *Server {
	name := opts.Name
	if name == "" {
		name = "test"
	}
	s := &Server{calls: map[string]int{}, keys: map[string]int{}, release: make(chan struct{}), entered: make(chan string, 16)}
	s.MCP = mcp.NewServer(&mcp.Implementation{Name: name, Version: "1.0.0"}, &mcp.ServerOptions{SupportedProtocolVersions: opts.Versions})
	s.addTools()
	return s
}

func schema(src string) json.RawMessage { return json.RawMessage(src) }

func (s *Server) addTools() {
	s.MCP.AddTool(&mcp.Tool{
		Name:         "lookup",
		Description:  "Look up a customer by id.",
		Annotations:  &mcp.ToolAnnotations{ReadOnlyHint: true},
		InputSchema:  schema(`{"type":"object","required":["id"],"additionalProperties":false,"properties":{"id":{"type":"integer","minimum":1},"block":{"type":"boolean"},"exit_first":{"type":"string"}}}`),
		OutputSchema: schema(`{"type":"object","required":["id","name"],"properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`),
	}, s.lookup)
	s.MCP.AddTool(&mcp.Tool{
		Name:        "create_ticket",
		Description: "Open a support ticket.",
		InputSchema: schema(`{"type":"object","required":["subject"],"additionalProperties":false,"properties":{"subject":{"type":"string","minLength":1},"block":{"type":"boolean"},"exit_first":{"type":"string"}}}`),
	}, s.createTicket)
	s.MCP.AddTool(&mcp.Tool{
		Name:        "refund",
		Description: "Refund an order, once per idempotency key.",
		Meta:        mcp.Meta{mcpclient.IdempotencyMetaKey: "_meta"},
		InputSchema: schema(`{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"integer"},"block":{"type":"boolean"}}}`),
	}, s.refund)
	s.MCP.AddTool(&mcp.Tool{
		Name:        "add_note",
		Description: "Add a note, once per op_id.",
		Meta:        mcp.Meta{mcpclient.IdempotencyMetaKey: "op_id"},
		InputSchema: schema(`{"type":"object","required":["note"],"additionalProperties":false,"properties":{"note":{"type":"string"},"op_id":{"type":"string"}}}`),
	}, s.addNote)
	s.MCP.AddTool(&mcp.Tool{Name: "fail", Description: "Always fails.", InputSchema: schema(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.count("fail")
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "order 1042 does not exist"}}}, nil
		})
	s.MCP.AddTool(&mcp.Tool{Name: "reject", Description: "Refuses its arguments.", InputSchema: schema(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.count("reject")
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "order_id must be a number"}
		})
	s.MCP.AddTool(&mcp.Tool{Name: "hang", Description: "Never answers.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}, InputSchema: schema(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.count("hang")
			<-ctx.Done()
			return nil, ctx.Err()
		})
	s.MCP.AddTool(&mcp.Tool{Name: "env", Description: "Reads a variable of the server's environment.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		InputSchema: schema(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.count("env")
			var in struct{ Name string }
			if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: os.Getenv(in.Name)}}}, nil
		})
	s.MCP.AddTool(&mcp.Tool{Name: "big", Description: "Answers many bytes.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		InputSchema: schema(`{"type":"object","required":["bytes"],"properties":{"bytes":{"type":"integer","minimum":0}}}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.count("big")
			var in struct{ Bytes int }
			if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", in.Bytes)}}}, nil
		})
}

type blockArgs struct {
	ID        int    `json:"id"`
	Subject   string `json:"subject"`
	OrderID   int    `json:"order_id"`
	Block     bool   `json:"block"`
	ExitFirst string `json:"exit_first"`
}

// begin counts a call and does what block and exit_first ask.
func (s *Server) begin(ctx context.Context, tool string, raw json.RawMessage) (blockArgs, error) {
	var a blockArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, err
	}
	s.count(tool)
	if a.ExitFirst != "" {
		if _, err := os.Stat(a.ExitFirst); errors.Is(err, os.ErrNotExist) {
			_ = os.WriteFile(a.ExitFirst, []byte(tool), 0o600)
			os.Exit(3)
		}
	}
	if a.Block {
		s.entered <- tool
		select {
		case <-s.releaseCh():
		case <-ctx.Done():
			return a, ctx.Err()
		}
	}
	return a, nil
}

func (s *Server) releaseCh() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.release
}

func (s *Server) count(tool string) {
	s.mu.Lock()
	s.calls[tool]++
	s.mu.Unlock()
}

func (s *Server) lookup(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, err := s.begin(ctx, "lookup", req.Params.Arguments)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"id": a.ID, "name": fmt.Sprintf("customer %d", a.ID)}
	text, _ := json.Marshal(out)
	return &mcp.CallToolResult{StructuredContent: out, Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}}, nil
}

func (s *Server) createTicket(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	s.noteKey(req)
	if _, err := s.begin(ctx, "create_ticket", req.Params.Arguments); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.tickets++
	n := s.tickets
	s.mu.Unlock()
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(`{"ticket_id": %d}`, n)}}}, nil
}

// noteKey counts the call's idempotency key (see Keys), notes its _meta
// (see Metas) and returns the key.
func (s *Server) noteKey(req *mcp.CallToolRequest) string {
	key, _ := req.Params.Meta[mcpclient.IdempotencyMetaKey].(string)
	s.mu.Lock()
	if key != "" {
		s.keys[key]++
	}
	s.metas = append(s.metas, maps.Clone(req.Params.Meta))
	s.mu.Unlock()
	return key
}

// Metas returns the _meta of the calls of create_ticket, refund and
// add_note so far, in order (nil for a call without one).
func (s *Server) Metas() []mcp.Meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.metas)
}

func (s *Server) addNote(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	key := s.noteKey(req)
	s.count("add_note")
	var a struct {
		OpID string `json:"op_id"`
	}
	if err := json.Unmarshal(req.Params.Arguments, &a); err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("noted (op_id %q, key %q)", a.OpID, key)}}}, nil
}

func (s *Server) refund(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	key := s.noteKey(req)
	a, err := s.begin(ctx, "refund", req.Params.Arguments)
	if err != nil {
		return nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("refunded order %d (key %q)", a.OrderID, key)}}}, nil
}

// Calls returns how many calls of tool the server received (in this
// process).
func (s *Server) Calls(tool string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[tool]
}

// Keys returns how many calls of create_ticket, add_note and refund
// carried the idempotency key in their _meta.
func (s *Server) Keys(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[key]
}

// Entered returns the tools' names as their blocked calls start waiting.
func (s *Server) Entered() <-chan string { return s.entered }

// Release lets every blocked call (and every later one) answer.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// Connect serves one in-memory session per call (over a net.Pipe): the
// pool's ConnectFunc of an in-process replica.
func (s *Server) Connect(ctx context.Context) (mcp.Transport, error) {
	client, server := net.Pipe()
	if _, err := s.MCP.Connect(ctx, &mcp.IOTransport{Reader: server, Writer: server}, nil); err != nil {
		return nil, fmt.Errorf("serving an in-memory session: %w", err)
	}
	s.mu.Lock()
	s.conns = append(s.conns, server)
	s.mu.Unlock()
	return &mcp.IOTransport{Reader: client, Writer: client}, nil
}

// Kill cuts every in-memory session at once, calls in flight included, as
// a server process that dies does.
func (s *Server) Kill() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// HTTPHandler serves the server over Streamable HTTP. Each handler keeps
// its own sessions: a new one is the server restarted.
func (s *Server) HTTPHandler() http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.MCP }, nil)
}

// ChangeLookup changes the lookup tool's description, which changes its
// definition; the server tells its sessions that its tool list changed.
func (s *Server) ChangeLookup(description string) {
	s.MCP.AddTool(&mcp.Tool{
		Name:         "lookup",
		Description:  description,
		Annotations:  &mcp.ToolAnnotations{ReadOnlyHint: true},
		InputSchema:  schema(`{"type":"object","required":["id"],"additionalProperties":false,"properties":{"id":{"type":"integer","minimum":1},"block":{"type":"boolean"},"exit_first":{"type":"string"}}}`),
		OutputSchema: schema(`{"type":"object","required":["id","name"],"properties":{"id":{"type":"integer"},"name":{"type":"string"}}}`),
	}, s.lookup)
}

// EnvServe is the variable that makes ServeStdioIfChild serve.
const EnvServe = "AIFLOW_MCPTEST_SERVE"

// ServeStdioIfChild serves the test server on stdin and stdout, then
// exits, when EnvServe is "stdio"; otherwise it returns at once. Call it
// first in TestMain, and configure a stdio server whose command is the
// test binary (os.Args[0]) with EnvServe=stdio in its env.
func ServeStdioIfChild() {
	if os.Getenv(EnvServe) != "stdio" {
		return
	}
	var versions []string
	if v := os.Getenv("AIFLOW_MCPTEST_VERSIONS"); v != "" {
		versions = strings.Split(v, ",")
	}
	s := New(Options{Name: "test-stdio", Versions: versions})
	err := s.MCP.Run(context.Background(), &mcp.StdioTransport{})
	if err != nil && !errors.Is(err, mcp.ErrConnectionClosed) {
		fmt.Fprintln(os.Stderr, "mcpclienttest:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
