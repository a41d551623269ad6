package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

const mcpTestSecret = "cmd-test-secret-that-is-at-least-32-bytes"

func TestMCPUsage(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"mcp"}, te.env()))
	for _, sub := range []string{"aiflow mcp serve [--stdio | --http ADDR]", "aiflow mcp seed", "aiflow mcp token --subject NAME"} {
		require.Contains(t, te.stderr.String(), sub)
	}
	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"mcp", "frob"}, te.env()))
	require.Contains(t, te.stderr.String(), `unknown subcommand "frob"`)
	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"mcp", "serve", "--stdio", "--http", ":1"}, te.env()))
	require.Contains(t, te.stderr.String(), "exclude each other")
	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"mcp", "serve", "--http", ":1"}, te.env()))
	require.Contains(t, te.stderr.String(), "AIFLOW_SUPPORT_TOKEN_SECRET: is required to serve over HTTP")
}

func TestMCPToken(t *testing.T) {
	t.Parallel()
	te := newTestEnv(map[string]string{"AIFLOW_SUPPORT_TOKEN_SECRET": mcpTestSecret})
	require.Equal(t, 0, run(context.Background(), []string{"mcp", "token", "--subject", "workflow:support-triage", "--customer", "7", "--ttl", "1h"}, te.env()), te.stderr.String())
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(strings.TrimSpace(te.stdout.String()), claims, func(*jwt.Token) (any, error) { return []byte(mcpTestSecret), nil },
		jwt.WithAudience("aiflow-support"), jwt.WithIssuer("aiflow"))
	require.NoError(t, err)
	require.Equal(t, "workflow:support-triage", claims["sub"])
	require.Equal(t, float64(7), claims["customer_id"])

	te = newTestEnv(nil)
	require.Equal(t, 2, run(context.Background(), []string{"mcp", "token", "--subject", "x"}, te.env()))
	require.Contains(t, te.stderr.String(), "AIFLOW_SUPPORT_TOKEN_SECRET")
	te = newTestEnv(map[string]string{"AIFLOW_SUPPORT_TOKEN_SECRET": mcpTestSecret})
	require.Equal(t, 2, run(context.Background(), []string{"mcp", "token"}, te.env()))
	require.Contains(t, te.stderr.String(), "give --subject NAME")
}

func TestMCPSeedNeedsMigrations(t *testing.T) {
	t.Parallel()
	te := newTestEnv(map[string]string{"DATABASE_URL": pgclustertest.EmptyDatabase(t), "AIFLOW_DATA_DIR": t.TempDir()})
	require.Equal(t, 1, run(context.Background(), []string{"mcp", "seed"}, te.env()))
	require.Contains(t, te.stderr.String(), "run `aiflow migrate up` first")
}

// seededDatabase returns a migrated database seeded by `aiflow mcp seed`.
func seededDatabase(t *testing.T) string {
	t.Helper()
	dsn := pgclustertest.Database(t)
	vars := map[string]string{"DATABASE_URL": dsn, "AIFLOW_DATA_DIR": t.TempDir()}
	te := newTestEnv(vars)
	require.Equal(t, 0, run(context.Background(), []string{"mcp", "seed"}, te.env()), te.stderr.String())
	require.Equal(t, "seeded 36 customers, 81 orders, 8 tickets and 12 knowledge-base articles\n", te.stdout.String())
	te = newTestEnv(vars)
	require.Equal(t, 0, run(context.Background(), []string{"mcp", "seed"}, te.env()), te.stderr.String())
	require.Equal(t, "the support desk is already seeded: nothing changed\n", te.stdout.String())
	return dsn
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (map[string]any, *mcp.CallToolResult) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out, res
}

// TestMCPServeStdio runs the built binary as an MCP server on its stdin and
// stdout, as an MCP host would.
func TestMCPServeStdio(t *testing.T) {
	t.Parallel()
	dsn := seededDatabase(t)
	cmd := exec.Command(buildAiflow(t), "mcp", "serve", "--stdio")
	cmd.Env = append(withoutVar(os.Environ(), "DATABASE_URL"), "DATABASE_URL="+dsn, "AIFLOW_LOG_FORMAT=text")
	cmd.Stderr = os.Stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "cmd-test", Version: "1"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err)
	require.Equal(t, "aiflow-support", cs.InitializeResult().ServerInfo.Name)

	out, res := callTool(t, cs, "find_customer", map[string]any{"email": "ada@example.com"})
	require.False(t, res.IsError)
	require.Equal(t, "Ada Lovelace", out["name"])
	_, res = callTool(t, cs, "issue_refund", map[string]any{"order_id": 1044, "amount": 10, "reason": "Too late."})
	require.True(t, res.IsError)
	require.Contains(t, res.Content[0].(*mcp.TextContent).Text, "outside its refund window")
	require.NoError(t, cs.Close(), "the server exits cleanly when its stdin closes")
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestMCPServeHTTP runs `aiflow mcp serve --http` and talks to it with the
// SDK's client and with plain requests.
func TestMCPServeHTTP(t *testing.T) {
	t.Parallel()
	dsn := seededDatabase(t)
	cmd := exec.Command(buildAiflow(t), "mcp", "serve", "--http", ":0")
	cmd.Env = append(withoutVar(os.Environ(), "DATABASE_URL"), "DATABASE_URL="+dsn, "AIFLOW_LOG_FORMAT=text",
		"AIFLOW_SUPPORT_TOKEN_SECRET="+mcpTestSecret, "AIFLOW_SUPPORT_ALLOWED_ORIGINS=https://console.example.com")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	url := ""
	for url == "" && lines.Scan() {
		if m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	require.NotEmpty(t, url, "the server says where it listens, on 127.0.0.1 when the host is empty")
	go func() {
		for lines.Scan() {
		}
	}()

	te := newTestEnv(map[string]string{"AIFLOW_SUPPORT_TOKEN_SECRET": mcpTestSecret})
	require.Equal(t, 0, run(context.Background(), []string{"mcp", "token", "--subject", "cmd-test"}, te.env()))
	tok := strings.TrimSpace(te.stdout.String())

	tr := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearerTransport{tok}}, MaxRetries: -1}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "cmd-test", Version: "1"}, nil).Connect(context.Background(), tr, nil)
	require.NoError(t, err)
	defer cs.Close()
	out, res := callTool(t, cs, "search_kb", map[string]any{"query": "where is my order shipping delay", "limit": 3})
	require.False(t, res.IsError)
	require.NotEmpty(t, out["articles"])

	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	status := func(body string, header map[string]string) int {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, status(ping, nil))
	require.Equal(t, http.StatusForbidden, status(ping, map[string]string{"Authorization": "Bearer " + tok, "Origin": "https://evil.example.net"}))
	require.Equal(t, http.StatusBadRequest, status("["+ping+"]", map[string]string{"Authorization": "Bearer " + tok, "Mcp-Session-Id": cs.ID(), "Mcp-Protocol-Version": "2025-03-26"}))

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait(), "the server shuts down cleanly on SIGINT")
}
