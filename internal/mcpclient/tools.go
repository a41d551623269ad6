package mcpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aiflow/aiflow/internal/schema"
)

// ToolStatus says whether a tool may be called.
type ToolStatus string

// The statuses of a tool.
const (
	// ToolPinned: the definition is the approved one; calls go through.
	ToolPinned ToolStatus = "pinned"
	// ToolChanged: the definition differs from the approved one; calls
	// fail with MCP.ToolChanged until Approve.
	ToolChanged ToolStatus = "changed"
	// ToolUnapproved: no definition was approved yet and the pool
	// requires approval; calls fail with MCP.ToolChanged until Approve.
	ToolUnapproved ToolStatus = "unapproved"
)

// ToolInfo is a discovered tool.
type ToolInfo struct {
	Server       string
	Name         string
	Title        string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// ReadOnly and Idempotent are the tool's annotations (hints the
	// server gives; they decide whether a call is sent again).
	ReadOnly   bool
	Idempotent bool
	// IdempotencyKey is where the tool takes an idempotency key (see
	// IdempotencyMetaKey): "_meta", an argument's name, or "".
	IdempotencyKey string
	// Hash is the definition's hash now; PinnedHash the approved one ("" if
	// none).
	Hash       string
	PinnedHash string
	Status     ToolStatus
}

// toolEntry is a cached tool.
type toolEntry struct {
	info  ToolInfo
	keyIn string

	once      sync.Once
	schema    *jsonschema.Schema
	schemaErr error
}

// validate checks args against the input schema, compiled on first use.
func (e *toolEntry) validate(args json.RawMessage) error {
	e.once.Do(func() {
		var se *schema.Error
		e.schema, e.schemaErr = schema.Compile("input_schema.json", e.info.InputSchema)
		switch {
		case errors.As(e.schemaErr, &se) && se.Compiling:
			e.schemaErr = se.Err
		case errors.As(e.schemaErr, &se):
			e.schemaErr = fmt.Errorf("reading the tool's input schema: %w", se.Err)
		}
	})
	if e.schemaErr != nil {
		return e.schemaErr
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return fmt.Errorf("reading the arguments: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("the arguments are not a JSON object")
	}
	return e.schema.Validate(v)
}

// withKey returns args with key in the tool's idempotency argument, when
// the tool declares one (not "_meta") and args leave it unset; otherwise
// args as they are.
func (e *toolEntry) withKey(args json.RawMessage, key string) json.RawMessage {
	if e.keyIn == "" || e.keyIn == "_meta" {
		return args
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(args, &obj) != nil || obj == nil {
		return args
	}
	if v, ok := obj[e.keyIn]; ok && string(v) != "null" && string(v) != `""` {
		return args
	}
	obj[e.keyIn], _ = json.Marshal(key)
	out, err := json.Marshal(obj)
	if err != nil {
		return args
	}
	return out
}

// retrySafe reports whether a call may be sent again after its session
// broke: the tool is read-only or idempotent, or the call carries an
// idempotency key the tool honours.
func (e *toolEntry) retrySafe(metaKey bool, args json.RawMessage) bool {
	switch {
	case e.info.ReadOnly || e.info.Idempotent:
		return true
	case e.keyIn == "_meta":
		return metaKey
	case e.keyIn != "":
		var obj map[string]any
		if json.Unmarshal(args, &obj) != nil {
			return false
		}
		v, ok := obj[e.keyIn]
		return ok && v != nil && v != ""
	}
	return false
}

// tool returns a tool that may be called.
func (p *Pool) tool(ctx context.Context, srv *server, name string) (*toolEntry, error) {
	tools, err := p.listed(ctx, srv)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) && pe.Tool == "" {
			named := *pe
			named.Tool = name
			return nil, &named
		}
		return nil, err
	}
	e, ok := tools[name]
	if !ok {
		names := make([]string, 0, len(tools))
		for n := range tools {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, errorf(CodeUnknownTool, srv.name, name, nil, "the server has no tool %q (its tools: %s)", name, strings.Join(names, ", "))
	}
	switch e.info.Status {
	case ToolChanged:
		return nil, errorf(CodeToolChanged, srv.name, name, nil, "the tool's definition changed since it was approved (%s, approved %s); it is disabled until approved again", e.info.Hash, e.info.PinnedHash)
	case ToolUnapproved:
		return nil, errorf(CodeToolChanged, srv.name, name, nil, "the tool has not been approved; approve it to enable it")
	}
	return e, nil
}

// listed returns the server's tools, listing them again when the cache is
// empty or stale.
func (p *Pool) listed(ctx context.Context, srv *server) (map[string]*toolEntry, error) {
	srv.mu.Lock()
	tools, stale := srv.tools, srv.stale
	srv.mu.Unlock()
	if tools != nil && !stale {
		return tools, nil
	}
	srv.listMu.Lock()
	defer srv.listMu.Unlock()
	srv.mu.Lock()
	tools, stale = srv.tools, srv.stale
	srv.mu.Unlock()
	if tools != nil && !stale {
		return tools, nil
	}
	fresh, err := p.list(ctx, srv)
	if err != nil {
		if tools != nil {
			// A stale list is better than none while the server is away;
			// the call itself will say whether it is reachable.
			return tools, nil
		}
		return nil, err
	}
	return fresh, nil
}

// list sends tools/list (every page) and checks each tool against its
// pin.
func (p *Pool) list(ctx context.Context, srv *server) (map[string]*toolEntry, error) {
	srv.mu.Lock()
	srv.stale = false // a change notified from now on lists again
	srv.mu.Unlock()
	var defs []*mcp.Tool
	err := p.do(ctx, srv, "", true, &CallResult{}, func(ctx context.Context, cs *mcp.ClientSession) error {
		lctx, cancel := context.WithTimeout(ctx, srv.callTimeout)
		defer cancel()
		defs = defs[:0]
		for t, err := range cs.Tools(lctx, nil) {
			if err != nil {
				if lctx.Err() != nil && ctx.Err() == nil {
					return &callTimeout{after: srv.callTimeout, err: err}
				}
				return err
			}
			defs = append(defs, t)
		}
		return nil
	})
	if err != nil {
		srv.mu.Lock()
		srv.stale = true
		srv.mu.Unlock()
		return nil, err
	}
	srv.stats.listRefreshes.Add(1)
	tools := make(map[string]*toolEntry, len(defs))
	for _, t := range defs {
		e, err := p.entry(ctx, srv, t)
		if err != nil {
			srv.mu.Lock()
			srv.stale = true
			srv.mu.Unlock()
			return nil, err
		}
		tools[t.Name] = e
	}
	srv.mu.Lock()
	srv.tools = tools
	srv.mu.Unlock()
	return tools, nil
}

// entry describes a listed tool and decides its status from its pin.
func (p *Pool) entry(ctx context.Context, srv *server, t *mcp.Tool) (*toolEntry, error) {
	hash, err := DefinitionHash(t)
	if err != nil {
		return nil, errorf(CodeUnavailable, srv.name, t.Name, err, "%v", err)
	}
	in, err := json.Marshal(t.InputSchema)
	if err != nil || string(in) == "null" {
		in = json.RawMessage(`{"type":"object"}`)
	}
	e := &toolEntry{info: ToolInfo{
		Server: srv.name, Name: t.Name, Title: t.Title, Description: t.Description,
		InputSchema: in, Hash: hash,
	}}
	if t.OutputSchema != nil {
		if out, err := json.Marshal(t.OutputSchema); err == nil {
			e.info.OutputSchema = out
		}
	}
	if a := t.Annotations; a != nil {
		e.info.ReadOnly, e.info.Idempotent = a.ReadOnlyHint, a.IdempotentHint
		if e.info.Title == "" {
			e.info.Title = a.Title
		}
	}
	if k, ok := t.Meta[IdempotencyMetaKey].(string); ok {
		e.keyIn = k
		e.info.IdempotencyKey = k
	}
	pinned, ok, err := p.pins.Pin(ctx, srv.name, t.Name)
	if err != nil {
		return nil, errorf(CodeUnavailable, srv.name, t.Name, err, "reading the tool's pin: %v", err)
	}
	switch {
	case ok && pinned == hash:
		e.info.PinnedHash, e.info.Status = pinned, ToolPinned
	case ok:
		e.info.PinnedHash, e.info.Status = pinned, ToolChanged
		p.log.Warn("an MCP tool's definition changed; the tool is disabled until approved again", "server", srv.name, "tool", t.Name, "approved", pinned, "now", hash)
		p.emit(Event{Type: EventToolChanged, Server: srv.name, Tool: t.Name, Message: "approved " + pinned + ", now " + hash})
	case p.opts.RequireApproval:
		e.info.Status = ToolUnapproved
	default:
		if err := p.pins.SetPin(ctx, srv.name, t.Name, hash); err != nil {
			return nil, errorf(CodeUnavailable, srv.name, t.Name, err, "pinning the tool: %v", err)
		}
		e.info.PinnedHash, e.info.Status = hash, ToolPinned
		p.emit(Event{Type: EventToolPinned, Server: srv.name, Tool: t.Name, Message: hash})
	}
	return e, nil
}

// Tools lists a server's tools (from the cache, listed again when the
// server said its list changed), sorted by name, with their status. Its
// errors are *Error: MCP.UnknownTool for a server not configured, and the
// errors of reaching the server.
func (p *Pool) Tools(ctx context.Context, serverName string) ([]ToolInfo, error) {
	srv, ok := p.servers[serverName]
	if !ok {
		return nil, errorf(CodeUnknownTool, serverName, "", nil, "no MCP server %q is configured (servers: %s)", serverName, strings.Join(p.Servers(), ", "))
	}
	tools, err := p.listed(ctx, srv)
	if err != nil {
		return nil, err
	}
	out := make([]ToolInfo, 0, len(tools))
	for _, e := range tools {
		out = append(out, e.info)
	}
	slices.SortFunc(out, func(a, b ToolInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Approve pins the tool's current definition (listed afresh), which
// enables a tool disabled as changed or unapproved. It returns the
// approved hash, or an *Error: MCP.UnknownTool when the server or tool
// does not exist, and the errors of reaching the server or the pin store.
func (p *Pool) Approve(ctx context.Context, serverName, tool string) (string, error) {
	srv, ok := p.servers[serverName]
	if !ok {
		return "", errorf(CodeUnknownTool, serverName, tool, nil, "no MCP server %q is configured", serverName)
	}
	srv.listMu.Lock()
	defer srv.listMu.Unlock()
	tools, err := p.list(ctx, srv)
	if err != nil {
		return "", err
	}
	e, ok := tools[tool]
	if !ok {
		return "", errorf(CodeUnknownTool, serverName, tool, nil, "the server has no tool %q", tool)
	}
	if err := p.pins.SetPin(ctx, serverName, tool, e.info.Hash); err != nil {
		return "", errorf(CodeUnavailable, serverName, tool, err, "pinning the tool: %v", err)
	}
	approved := &toolEntry{info: e.info, keyIn: e.keyIn}
	approved.info.PinnedHash, approved.info.Status = e.info.Hash, ToolPinned
	srv.mu.Lock()
	if srv.tools != nil {
		// Copied, not changed in place: callers read the map unlocked.
		m := maps.Clone(srv.tools)
		m[tool] = approved
		srv.tools = m
	}
	srv.mu.Unlock()
	p.emit(Event{Type: EventToolPinned, Server: serverName, Tool: tool, Message: e.info.Hash})
	return e.info.Hash, nil
}
