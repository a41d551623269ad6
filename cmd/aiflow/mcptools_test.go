package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/mcpclient/mcpclienttest"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/workflow"
)

func mcpCmd(t *testing.T, cmd func(context.Context, []string, env) int, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	te := newTestEnv(vars)
	code := cmd(t.Context(), args, te.env())
	return code, te.stdout.String(), te.stderr.String()
}

func TestMCPToolsAndApprove(t *testing.T) {
	t.Parallel()
	srv := mcpclienttest.New(mcpclienttest.Options{})
	hs := httptest.NewServer(srv.HTTPHandler())
	t.Cleanup(hs.Close)
	pins := filepath.Join(t.TempDir(), "pins.json")
	vars := map[string]string{mcpclient.EnvServers: `{"test": {"urls": ["` + hs.URL + `"]}}`, "AIFLOW_MCP_PINS": pins}

	code, out, errOut := mcpCmd(t, cmdMCPTools, vars)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "SERVER  TOOL           ACCESS       STATUS  DESCRIPTION\n")
	require.Contains(t, out, "test    lookup         read-only    new     Look up a customer by id.\n")
	require.Contains(t, out, "test    create_ticket  writes       new     Open a support ticket.\n")
	require.Contains(t, out, "test    refund         keyed:_meta  new     Refund an order, once per idempotency key.\n")
	require.Contains(t, errOut, "9 tools are new (never approved)")
	require.NoFileExists(t, pins, "listing approves nothing")

	code, out, errOut = mcpCmd(t, cmdMCPApprove, vars, "test", "lookup")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^approved test/lookup sha256:[0-9a-f]{64}\n$`, out)
	code, out, _ = mcpCmd(t, cmdMCPTools, vars, "test")
	require.Equal(t, 0, code)
	require.Contains(t, out, "test    lookup         read-only    pinned  Look up a customer by id.\n")

	srv.ChangeLookup("Look up a customer by id, and more.")
	code, out, errOut = mcpCmd(t, cmdMCPTools, vars, "test")
	require.Equal(t, 1, code, "a changed definition fails the listing")
	require.Contains(t, out, "test    lookup         read-only    changed  Look up a customer by id, and more.\n")
	require.Contains(t, errOut, "1 tool definitions changed since they were approved")

	code, out, errOut = mcpCmd(t, cmdMCPApprove, vars, "test")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "approved test/lookup sha256:")
	require.Contains(t, out, "approved test/refund sha256:")
	code, _, errOut = mcpCmd(t, cmdMCPTools, vars, "test")
	require.Equal(t, 0, code)
	require.Empty(t, errOut)

	// Through `aiflow mcp`.
	te := newTestEnv(vars)
	require.Equal(t, 0, run(t.Context(), []string{"mcp", "tools", "test"}, te.env()), te.stderr.String())
	require.Contains(t, te.stdout.String(), "test    lookup         read-only    pinned  Look up a customer by id, and more.\n")
	te = newTestEnv(vars)
	require.Equal(t, 0, run(t.Context(), []string{"mcp", "--help"}, te.env()))
	require.Contains(t, te.stdout.String(), "aiflow mcp catalog [-o FILE] [SERVER...]")

	code, _, errOut = mcpCmd(t, cmdMCPTools, vars, "billing")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `no MCP server "billing" is configured (servers: test)`)
}

// TestMCPToolsWithTheDevelopmentDefaults: with no server configured, as
// in a fresh checkout, tools, approve and catalog serve aiflow dev's
// support desk server in process on the development database (here a
// fresh one, not yet migrated) and say so.
func TestMCPToolsWithTheDevelopmentDefaults(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgclustertest.Database(t), "AIFLOW_MCP_PINS": filepath.Join(t.TempDir(), "pins.json")}
	const notice = `: no MCP server is configured (--config, AIFLOW_MCP_CONFIG, AIFLOW_MCP_SERVERS); using the support desk server that aiflow dev serves, in this process, as "support"` + "\n"

	code, out, errOut := mcpCmd(t, cmdMCPTools, vars)
	require.Equal(t, 0, code, errOut)
	require.True(t, strings.HasPrefix(errOut, "aiflow mcp tools"+notice), errOut)
	require.Contains(t, errOut, "using DATABASE_URL ")
	require.NotContains(t, errOut, "level=INFO", "no session notices")
	require.Regexp(t, `\nsupport +find_customer +read-only,idempotent +new +Find a customer by id or by email address`, out)

	code, out, errOut = mcpCmd(t, cmdMCPApprove, vars, "support", "find_customer")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^approved support/find_customer sha256:[0-9a-f]{64}\n$`, out)

	file := filepath.Join(t.TempDir(), "catalog.json")
	code, out, errOut = mcpCmd(t, cmdMCPCatalog, vars, "-o", file)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, out)
	require.True(t, strings.HasPrefix(errOut, "aiflow mcp catalog"+notice), errOut)
	require.Contains(t, errOut, "wrote "+file+" (1 servers)\n")
	tools := func(path string) map[string]string {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var c struct {
			Servers map[string]struct {
				Tools []map[string]any `json:"tools"`
			} `json:"servers"`
		}
		require.NoError(t, json.Unmarshal(raw, &c))
		byName := map[string]string{}
		for _, tool := range c.Servers["support"].Tools {
			js, err := json.Marshal(tool)
			require.NoError(t, err)
			byName[tool["name"].(string)] = string(js)
		}
		return byName
	}
	got := tools(file)
	require.Len(t, got, 7)
	require.Equal(t, tools(filepath.Join(repoRoot, "examples", "mcp-catalog.json")), got,
		"the examples' catalog holds the live support server's tools")
}

// supportServer serves the support desk over Streamable HTTP on a fresh,
// seeded database, and returns the variables that configure it as the MCP
// server "support".
func supportServer(t *testing.T) map[string]string {
	t.Helper()
	db, err := pgxpool.New(t.Context(), pgclustertest.Database(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	now := time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)
	_, err = supportdesk.Seed(t.Context(), db, now)
	require.NoError(t, err)
	s, err := supportdesk.NewServer(supportdesk.New(db, supportdesk.Options{NowFunc: func() time.Time { return now }}), supportdesk.ServerOptions{})
	require.NoError(t, err)
	secret := []byte("a-test-secret-that-is-long-enough-for-hs256")
	h, err := supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{Server: s, TokenSecret: secret})
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	tok, err := supportdesk.IssueToken(secret, supportdesk.TokenParams{Subject: "aiflow-mcpstep", TTL: time.Hour, Now: time.Now()})
	require.NoError(t, err)
	return map[string]string{
		mcpclient.EnvServers: `{"support": {"urls": ["` + hs.URL + `"], "token_secret": "support-mcp-token"}}`,
		"SUPPORT_MCP_TOKEN":  tok,
		"AIFLOW_MCP_PINS":    filepath.Join(t.TempDir(), "pins.json"),
	}
}

func TestMCPCatalogFromTheSupportServer(t *testing.T) {
	t.Parallel()
	vars := supportServer(t)
	file := filepath.Join(t.TempDir(), "catalog.json")
	code, _, errOut := mcpCmd(t, cmdMCPCatalog, vars, "-o", file)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "wrote "+file+" (1 servers)\n", errOut)
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	catalog, err := workflow.ParseCatalog(src)
	require.NoError(t, err)

	// The catalog holds the server's own definitions.
	var want struct {
		Tools []workflow.CatalogTool `json:"tools"`
	}
	require.NoError(t, json.Unmarshal(supportdesk.ToolsJSON, &want))
	got := catalog.Servers["support"].Tools
	require.Len(t, got, len(want.Tools))
	byName := map[string]workflow.CatalogTool{}
	for _, tool := range got {
		byName[tool.Name] = tool
	}
	for _, w := range want.Tools {
		g, ok := byName[w.Name]
		require.True(t, ok, w.Name)
		require.Equal(t, w.Description, g.Description)
		require.JSONEq(t, string(w.InputSchema), string(g.InputSchema), w.Name)
		if len(w.OutputSchema) > 0 {
			require.JSONEq(t, string(w.OutputSchema), string(g.OutputSchema), w.Name)
		}
	}

	// A workflow's mcp arguments are checked against the live schemas.
	wf := `name: lookup-order
input:
  type: object
  required: [order]
  properties:
    order: {type: string}
steps:
  - id: order
    mcp:
      server: support
      tool: get_order
      arguments:
        order_id: "{{ input.order }}"
`
	_, err = workflow.Load("lookup-order.yaml", []byte(wf), catalog)
	require.ErrorContains(t, err, "order_id")

	// Standard output, one server named.
	code, out, errOut := mcpCmd(t, cmdMCPCatalog, vars, "support")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, string(src), out)
}

func TestMCPStepAgainstTheSupportServer(t *testing.T) {
	t.Parallel()
	vars := supportServer(t)
	cfg, err := config.LoadMCPTools(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, config.MCPToolsParams{Binary: "test"})
	require.NoError(t, err)
	pool, err := mcpclient.New(mcpclient.Options{Config: cfg.MCP, Secrets: mapSecrets(vars)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	details := &steps.MemoryDetails{}
	h := steps.NewMCP(steps.MCPConfig{Pool: pool, Details: details})
	msg := func(tool string, args map[string]any) steps.Message {
		data, err := json.Marshal(map[string]any{"arguments": args})
		require.NoError(t, err)
		return steps.Message{
			TaskToken: "t", Execution: steps.Execution{ID: "arn:aws:states:eu-west-1:123456789012:execution:support-triage:e1"},
			Step: steps.StepInfo{ID: "order", Kind: "mcp"}, Spec: json.RawMessage(`{"server":"support","tool":"` + tool + `"}`), Data: data,
		}
	}
	res, err := h.Run(t.Context(), msg("get_order", map[string]any{"order_id": 1042}))
	require.NoError(t, err)
	order := res.Output.(map[string]any)
	require.InDelta(t, 1042, order["order_id"], 0)
	require.Contains(t, order, "refund_eligible")

	_, err = h.Run(t.Context(), msg("get_order", map[string]any{"order_id": 999999}))
	var f *steps.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, "MCP.ToolError", f.Name)
	require.Contains(t, f.Cause, "999999")

	_, err = h.Run(t.Context(), msg("get_order", map[string]any{"order_id": "1042"}))
	require.ErrorAs(t, err, &f)
	require.Equal(t, "MCP.InvalidArguments", f.Name, "checked against the server's input schema before calling")

	calls := details.Details("arn:aws:states:eu-west-1:123456789012:execution:support-triage:e1")
	require.Len(t, calls, 3)
	require.Equal(t, "2025-11-25", calls[0].Data.(steps.MCPCall).ProtocolVersion)

	// The sample event, through the step runtime.
	src, err := os.ReadFile("../../events/mcpstep-sqs.json")
	require.NoError(t, err)
	var ev events.SQSEvent
	require.NoError(t, json.Unmarshal(src, &ev))
	cb := &stepstest.Callbacks{}
	entered := time.Date(2026, 11, 26, 1, 55, 2, 311e6, time.UTC) // the sample's step.enteredTime
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: cb, Handlers: map[string]steps.Handler{"mcp": h}, HeartbeatInterval: -1,
		NowFunc: func() time.Time { return entered }})
	require.NoError(t, err)
	resp, err := rt.Handle(t.Context(), ev)
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Empty(t, cb.Failures())
	require.Len(t, cb.Successes(), 1)
	var result struct {
		Output struct {
			OrderID int `json:"order_id"`
		} `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(cb.Successes()[0].Output), &result))
	require.Equal(t, 1042, result.Output.OrderID)
}

type mapSecrets map[string]string

func (m mapSecrets) Get(_ context.Context, name string) (string, error) {
	if v, ok := m["SUPPORT_MCP_TOKEN"]; ok && name == "support-mcp-token" {
		return v, nil
	}
	return "", os.ErrNotExist
}

// The support server run as `aiflow mcp serve --stdio`, a child of the pool.
func TestMCPToolsOverStdioWithTheSupportServer(t *testing.T) {
	t.Parallel()
	bin := buildAiflow(t)
	dsn := seededDatabase(t)
	servers, err := json.Marshal(map[string]any{"support": map[string]any{
		"command": bin, "args": []string{"mcp", "serve", "--stdio"},
		"env": map[string]string{"DATABASE_URL": dsn, "AIFLOW_LOG_FORMAT": "text", "AIFLOW_DATA_DIR": t.TempDir()},
	}})
	require.NoError(t, err)
	vars := map[string]string{mcpclient.EnvServers: string(servers), "AIFLOW_MCP_PINS": filepath.Join(t.TempDir(), "pins.json")}

	code, out, errOut := mcpCmd(t, cmdMCPTools, vars, "support")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `support +find_customer +read-only,idempotent +new +Find a customer`, out)
	require.Regexp(t, `support +issue_refund +keyed:request_id +new `, out)
	require.Regexp(t, `support +create_ticket +keyed:_meta +new `, out)
	code, out, errOut = mcpCmd(t, cmdMCPApprove, vars, "support")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, 7, strings.Count(out, "approved support/"))

	cfg, err := config.LoadMCPTools(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, config.MCPToolsParams{Binary: "test"})
	require.NoError(t, err)
	pool, err := mcpclient.New(mcpclient.Options{Config: cfg.MCP, Pins: &mcpclient.FilePins{Path: cfg.Pins}, RequireApproval: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	res, err := pool.Call(t.Context(), mcpclient.CallParams{Server: "support", Tool: "find_customer", Arguments: json.RawMessage(`{"email": "Grace.Hopper@example.com"}`)})
	require.NoError(t, err)
	require.Equal(t, "Grace Hopper", res.Output().(map[string]any)["name"])
	require.Equal(t, "stdio:"+bin, res.Endpoint)
}

// TestMCPToolsInAFreshCheckout: with no server configured and no
// DATABASE_URL, as in a fresh checkout, aiflow mcp tools creates and starts
// the development cluster under AIFLOW_DATA_DIR, as aiflow dev would, lists
// the support desk server's tools, and stops the cluster again.
func TestMCPToolsInAFreshCheckout(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(t), ".aiflow")
	vars := map[string]string{"AIFLOW_DATA_DIR": dataDir, "AIFLOW_MCP_PINS": filepath.Join(t.TempDir(), "pins.json")}
	if dir, ok := os.LookupEnv("AIFLOW_PG_BINDIR"); ok {
		vars["AIFLOW_PG_BINDIR"] = dir
	}
	code, out, errOut := mcpCmd(t, cmdMCPTools, vars, "support")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, `using the support desk server that aiflow dev serves, in this process, as "support"`)
	require.Regexp(t, `PostgreSQL \S+ ready: aiflow \(127\.0\.0\.1:\d+, data kept in .*\.aiflow/pg\)\n`, errOut)
	require.Regexp(t, `\nsupport +issue_refund +keyed:request_id +new +Refund part or all of an order`, out)
	require.NoFileExists(t, filepath.Join(dataDir, "pg", "data", "postmaster.pid"), "the cluster it started is stopped")
}
