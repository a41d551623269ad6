package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// fakeMCP is a pool of one server with one tool and one whose tools
// could not be listed.
type fakeMCP struct{}

func (fakeMCP) MCPServers(context.Context) []httpapi.MCPServer {
	return []httpapi.MCPServer{
		{Name: "support", Endpoints: []httpapi.MCPEndpoint{{Endpoint: "in-process", Connected: true, Healthy: true, Breaker: "closed"}},
			Tools: []httpapi.MCPTool{{Name: "get_customer", ReadOnly: true, Idempotent: true, Status: "pinned", InputSchema: json.RawMessage(`{"type":"object"}`)}}},
		{Name: "weather", Error: "MCP.Unavailable: the server could not be reached"},
	}
}

// TestMCPServers: GET /v1/mcp/servers lists the pool's servers to a
// reader, with empty lists rather than nulls, asks for a token, and
// answers 501 on a server given no pool.
func TestMCPServers(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	viewer, err := auth.MintDevToken(testKey, "vera", []auth.Role{auth.RoleViewer}, time.Hour)
	require.NoError(t, err)
	call := func(t *testing.T, api *httpapi.Server, token string) (int, map[string]any) {
		t.Helper()
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/mcp/servers", nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.Unmarshal(raw, &body), string(raw))
		return resp.StatusCode, body
	}

	t.Run("listed", func(t *testing.T) {
		t.Parallel()
		status, body := call(t, httpapi.New(httpapi.Options{Authenticator: verifier, MCP: fakeMCP{}}), viewer)
		require.Equal(t, http.StatusOK, status, body)
		items := body["items"].([]any)
		require.Len(t, items, 2)
		first := items[0].(map[string]any)
		require.Equal(t, "support", first["name"])
		tool := first["tools"].([]any)[0].(map[string]any)
		require.Equal(t, "get_customer", tool["name"])
		require.Equal(t, "pinned", tool["status"])
		require.Equal(t, true, tool["read_only"])
		second := items[1].(map[string]any)
		require.Equal(t, []any{}, second["tools"])
		require.Equal(t, []any{}, second["endpoints"])
		require.Contains(t, second["error"], "MCP.Unavailable")
	})
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		status, _ := call(t, httpapi.New(httpapi.Options{Authenticator: verifier, MCP: fakeMCP{}}), "")
		require.Equal(t, http.StatusUnauthorized, status)
	})
	t.Run("no pool", func(t *testing.T) {
		t.Parallel()
		status, body := call(t, httpapi.New(httpapi.Options{Authenticator: verifier}), viewer)
		require.Equal(t, http.StatusNotImplemented, status, body)
		require.Contains(t, body["detail"], "no MCP client pool")
	})
}
