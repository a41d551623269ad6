package steps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/mcpclient/mcpclienttest"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/task"
)

// mcpPool serves the test MCP server in process as "test".
func mcpPool(t *testing.T, opts mcpclient.Options) (*mcpclient.Pool, *mcpclienttest.Server) {
	t.Helper()
	srv := mcpclienttest.New(mcpclienttest.Options{})
	opts.InProcess = map[string]mcpclient.InProcessServer{"test": {Replicas: []mcpclient.ConnectFunc{srv.Connect}}}
	pool, err := mcpclient.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	return pool, srv
}

func mcpMessage(t *testing.T, attempt int, spec, data any) steps.Message {
	t.Helper()
	raw := body(t, "token-1", "mcp", spec, data)
	var m steps.Message
	require.NoError(t, json.Unmarshal([]byte(raw), &m))
	m.Step.Attempt = attempt
	return m
}

func TestMCPStep(t *testing.T) {
	t.Parallel()
	pool, srv := mcpPool(t, mcpclient.Options{})
	details := &steps.MemoryDetails{}
	h := steps.NewMCP(steps.MCPConfig{Pool: pool, Details: details})

	res, err := h.Run(t.Context(), mcpMessage(t, 0, map[string]any{"server": "test", "tool": "lookup", "timeout_seconds": 30}, map[string]any{"arguments": map[string]any{"id": 42}}))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": 42.0, "name": "customer 42"}, res.Output, "the structured content")

	res, err = h.Run(t.Context(), mcpMessage(t, 0, map[string]any{"server": "test", "tool": "create_ticket"}, map[string]any{"arguments": map[string]any{"subject": "where is my order"}}))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"ticket_id": json.Number("1")}, res.Output, "the text, parsed")

	res, err = h.Run(t.Context(), mcpMessage(t, 0, map[string]any{"server": "test", "tool": "env"}, map[string]any{"arguments": map[string]any{"name": "AIFLOW_NOT_SET"}}))
	require.NoError(t, err)
	require.Equal(t, "", res.Output, "text that is not JSON stays text")
	require.Equal(t, 1, srv.Calls("env"))

	got := details.Details(execID)
	require.Len(t, got, 3)
	require.Equal(t, steps.DetailMCPToolCalled, got[0].Type)
	call := got[0].Data.(steps.MCPCall)
	require.Equal(t, "in-process:test#0", call.Endpoint)
	require.Equal(t, "2025-11-25", call.ProtocolVersion)
	require.Equal(t, 1, call.Attempts)
	require.Equal(t, "lookup", call.Tool)
	require.Empty(t, call.Error)
}

func TestMCPStepFailures(t *testing.T) {
	t.Parallel()
	pool, srv := mcpPool(t, mcpclient.Options{})
	details := &steps.MemoryDetails{}
	h := steps.NewMCP(steps.MCPConfig{Pool: pool, Details: details})
	for _, c := range []struct {
		name       string
		spec, data any
		want       *steps.Failure
	}{
		{"tool error", map[string]any{"server": "test", "tool": "fail"}, map[string]any{"arguments": map[string]any{}},
			&steps.Failure{Name: "MCP.ToolError", Cause: "order 1042 does not exist"}},
		{"invalid arguments", map[string]any{"server": "test", "tool": "lookup"}, map[string]any{"arguments": map[string]any{"id": "seven"}}, nil},
		{"unknown tool", map[string]any{"server": "test", "tool": "drop_tables"}, map[string]any{"arguments": map[string]any{}},
			&steps.Failure{Name: "MCP.UnknownTool", Cause: `test/drop_tables: the server has no tool "drop_tables" (its tools: add_note, big, create_ticket, env, fail, hang, lookup, refund, reject)`}},
		{"unknown server", map[string]any{"server": "billing", "tool": "x"}, nil,
			&steps.Failure{Name: "MCP.UnknownTool", Cause: `billing/x: no MCP server "billing" is configured (servers: test)`}},
		{"no tool in the spec", map[string]any{"server": "test"}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := h.Run(t.Context(), mcpMessage(t, 0, c.spec, c.data))
			var f *steps.Failure
			require.ErrorAs(t, err, &f)
			switch c.name {
			case "invalid arguments":
				require.Equal(t, "MCP.InvalidArguments", f.Name)
				require.Contains(t, f.Cause, "test/lookup: the arguments do not fit the tool's input schema")
			case "no tool in the spec":
				require.Equal(t, steps.CodeMalformedMessage, f.Name)
			default:
				require.Equal(t, c.want, f)
			}
		})
	}
	t.Run("no pool", func(t *testing.T) {
		t.Parallel()
		_, err := steps.NewMCP(steps.MCPConfig{}).Run(t.Context(), mcpMessage(t, 0, map[string]any{"server": "test", "tool": "lookup"}, nil))
		var f *steps.Failure
		require.ErrorAs(t, err, &f)
		require.Equal(t, "MCP.Unavailable", f.Name)
	})
	require.Zero(t, srv.Calls("lookup"), "invalid arguments never reach the server")
}

func TestMCPStepIdempotencyKey(t *testing.T) {
	t.Parallel()
	pool, srv := mcpPool(t, mcpclient.Options{})
	h := steps.NewMCP(steps.MCPConfig{Pool: pool})
	run := func(attempt int, order int) string {
		res, err := h.Run(t.Context(), mcpMessage(t, attempt, map[string]any{"server": "test", "tool": "refund"}, map[string]any{"arguments": map[string]any{"order_id": order}}))
		require.NoError(t, err)
		return res.Output.(string)
	}
	first := run(0, 9)
	key := mcpMessage(t, 0, map[string]any{"server": "test", "tool": "refund"}, map[string]any{"arguments": map[string]any{"order_id": 9}}).IdempotencyKey()
	require.Equal(t, fmt.Sprintf("refunded order 9 (key %q)", key), first, "the message's key reaches the server in _meta")
	require.Equal(t, first, run(1, 9), "a retry of the step sends the same key")
	require.NotEqual(t, first, run(0, 10), "other arguments, another key")
	require.Equal(t, 3, srv.Calls("refund"))
	require.Equal(t, 2, srv.Keys(key))

	// A tool that takes its key in an argument gets it there too.
	note := mcpMessage(t, 0, map[string]any{"server": "test", "tool": "add_note"}, map[string]any{"arguments": map[string]any{"note": "hi"}})
	res, err := h.Run(t.Context(), note)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("noted (op_id %q, key %q)", note.IdempotencyKey(), note.IdempotencyKey()), res.Output)
}

// TestMCPStepRedeliveredCarriesOneKey: every delivery of one task message
// carries the same key to the server.
func TestMCPStepRedeliveredCarriesOneKey(t *testing.T) {
	t.Parallel()
	pool, srv := mcpPool(t, mcpclient.Options{})
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, map[string]steps.Handler{"mcp": steps.NewMCP(steps.MCPConfig{Pool: pool})}, func(c *steps.RuntimeConfig) { c.HeartbeatInterval = -1 })
	msg := body(t, "tok", "mcp", map[string]any{"server": "test", "tool": "create_ticket"}, map[string]any{"arguments": map[string]any{"subject": "broken"}})
	m, err := task.Decode(msg)
	require.NoError(t, err)
	for range 2 {
		resp, err := rt.Handle(t.Context(), event(msg))
		require.NoError(t, err)
		require.Empty(t, resp.BatchItemFailures)
	}
	require.Equal(t, 2, srv.Keys(m.IdempotencyKey()), "both deliveries carried the message's key")
}

func TestMCPStepThroughTheRuntime(t *testing.T) {
	t.Parallel()
	pool, _ := mcpPool(t, mcpclient.Options{})
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, map[string]steps.Handler{"mcp": steps.NewMCP(steps.MCPConfig{Pool: pool})}, func(c *steps.RuntimeConfig) { c.HeartbeatInterval = -1 })
	resp, err := rt.Handle(t.Context(), event(
		body(t, "ok", "mcp", map[string]any{"server": "test", "tool": "lookup"}, map[string]any{"arguments": map[string]any{"id": 1}}),
		body(t, "bad", "mcp", map[string]any{"server": "test", "tool": "fail"}, map[string]any{"arguments": map[string]any{}}),
	))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, cb.Successes(), 1)
	require.JSONEq(t, `{"output": {"id": 1, "name": "customer 1"}}`, cb.Successes()[0].Output)
	require.Len(t, cb.Failures(), 1)
	require.Equal(t, "MCP.ToolError", cb.Failures()[0].Error)
	require.Equal(t, "order 1042 does not exist", cb.Failures()[0].Cause)
}

func TestMCPStepSampleEvent(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../events/mcpstep-sqs.json")
	require.NoError(t, err)
	var ev struct {
		Records []struct {
			Body string `json:"body"`
		} `json:"Records"`
	}
	require.NoError(t, json.Unmarshal(src, &ev))
	require.Len(t, ev.Records, 1)
	var m steps.Message
	require.NoError(t, json.Unmarshal([]byte(ev.Records[0].Body), &m))
	var spec steps.MCPSpec
	require.NoError(t, json.Unmarshal(m.Spec, &spec))
	require.Equal(t, steps.MCPSpec{Server: "support", Tool: "get_order", TimeoutSeconds: 30}, spec)
	require.Equal(t, "mcp", m.Step.Kind)
	require.JSONEq(t, `{"arguments": {"order_id": 1042}}`, string(m.Data))
}

func TestMCPToolsForAgents(t *testing.T) {
	t.Parallel()
	pool, srv := mcpPool(t, mcpclient.Options{})
	runner := &steps.MCPTools{Pool: pool}
	tools, err := runner.ListTools(t.Context())
	require.NoError(t, err)
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
	}
	require.Equal(t, []string{"test/add_note", "test/big", "test/create_ticket", "test/env", "test/fail", "test/hang", "test/lookup", "test/refund", "test/reject"}, names)
	require.Equal(t, "Look up a customer by id.", tools[6].Description)
	require.Contains(t, string(tools[6].InputSchema), `"minimum":1`)

	p := &stepstest.Provider{StreamFunc: stepstest.Replies(
		toolUse(ai.ToolCall{ID: "c1", Name: "test__lookup", Arguments: json.RawMessage(`{"id": 5}`)},
			ai.ToolCall{ID: "c2", Name: "test__fail", Arguments: json.RawMessage(`{}`)},
			ai.ToolCall{ID: "c3", Name: "test__lookup", Arguments: json.RawMessage(`{"id": "five"}`)}),
		text("Customer 5 it is.", 20, 5))}
	h := steps.NewAI(steps.AIConfig{Providers: map[string]ai.Provider{"scripted": p}, Retrier: noWait, Tools: runner})
	res, err := h.Run(t.Context(), aiMessage(t,
		map[string]any{"model": "scripted/m", "tools": []string{"test/lookup", "test/fail"}, "max_turns": 3},
		map[string]any{"prompt": "Who is customer 5?"}))
	require.NoError(t, err)
	require.Equal(t, "Customer 5 it is.", res.Output)
	results := p.Requests()[1].Messages[2].Content
	require.Equal(t, &ai.ToolResult{CallID: "c1", Content: `{"id":5,"name":"customer 5"}`}, results[0].ToolResult)
	require.Equal(t, &ai.ToolResult{CallID: "c2", Content: "order 1042 does not exist", IsError: true}, results[1].ToolResult)
	require.True(t, results[2].ToolResult.IsError)
	require.True(t, strings.HasPrefix(results[2].ToolResult.Content, "test/lookup: the arguments do not fit the tool's input schema"), results[2].ToolResult.Content)
	require.Equal(t, 1, srv.Calls("lookup"))

	out, isError, err := runner.CallTool(t.Context(), "nameless", json.RawMessage(`{}`))
	require.NoError(t, err)
	require.True(t, isError)
	require.Contains(t, out, "server/tool")
}

func TestMCPToolsFailWhenNoServerAnswers(t *testing.T) {
	t.Parallel()
	pool, err := mcpclient.New(mcpclient.Options{
		BackoffBase: 1, BackoffMax: 1,
		InProcess: map[string]mcpclient.InProcessServer{"down": {Replicas: []mcpclient.ConnectFunc{
			func(context.Context) (mcp.Transport, error) { return nil, os.ErrNotExist },
		}}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	runner := &steps.MCPTools{Pool: pool}
	_, err = runner.ListTools(t.Context())
	require.ErrorContains(t, err, "listing the MCP tools: MCP.Unavailable: down:")
	// Three attempts to list, and two more now, open the circuit: the
	// runner's own failure, not a result for the model.
	_, isError, err := runner.CallTool(t.Context(), "down/x", json.RawMessage(`{}`))
	require.False(t, isError)
	require.Equal(t, mcpclient.CodeCircuitOpen, mcpclient.CodeOf(err), err)
}
