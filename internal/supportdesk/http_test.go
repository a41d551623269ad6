package supportdesk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/supportdesk"
)

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

// post sends one raw request to the server, as a client other than the SDK
// would.
func post(t *testing.T, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func signed(t *testing.T, secret []byte, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(t, err)
	return s
}

func TestHTTPSecurity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httpServer(t, b, supportdesk.HTTPOptions{AllowedOrigins: []string{"https://console.example.com"}})
	good := token(t, "agent", 0)
	exp := time.Now().Add(time.Hour).Unix()

	for _, c := range []struct {
		name   string
		header map[string]string
		body   string
		status int
		want   string
	}{
		{"valid token", map[string]string{"Authorization": "Bearer " + good}, initializeBody, http.StatusOK, `"serverInfo"`},
		{"the token secret itself", map[string]string{"Authorization": "Bearer " + string(testSecret)}, initializeBody, http.StatusOK, `"serverInfo"`},
		{"a prefix of the token secret", map[string]string{"Authorization": "Bearer " + string(testSecret[:len(testSecret)-1])}, initializeBody, http.StatusUnauthorized, "invalid token"},
		{"allowed origin", map[string]string{"Authorization": "Bearer " + good, "Origin": "https://console.example.com"}, initializeBody, http.StatusOK, `"serverInfo"`},
		{"origin not allowed", map[string]string{"Authorization": "Bearer " + good, "Origin": "https://evil.example.net"}, initializeBody, http.StatusForbidden, "origin not allowed"},
		{"origin checked before the token", map[string]string{"Origin": "https://evil.example.net"}, initializeBody, http.StatusForbidden, "origin not allowed"},
		{"no token", nil, initializeBody, http.StatusUnauthorized, "no bearer token"},
		{"not bearer", map[string]string{"Authorization": "Basic YWdlbnQ6c2VjcmV0"}, initializeBody, http.StatusUnauthorized, "no bearer token"},
		{"garbage token", map[string]string{"Authorization": "Bearer not-a-token"}, initializeBody, http.StatusUnauthorized, "invalid token"},
		{"other secret", map[string]string{"Authorization": "Bearer " + signed(t, []byte("another-secret-that-is-32-bytes-or-more"), jwt.MapClaims{"iss": "aiflow", "aud": "aiflow-support", "sub": "x", "exp": exp})}, initializeBody, http.StatusUnauthorized, "signature is invalid"},
		{"other audience", map[string]string{"Authorization": "Bearer " + signed(t, testSecret, jwt.MapClaims{"iss": "aiflow", "aud": "aiflow-api", "sub": "x", "exp": exp})}, initializeBody, http.StatusUnauthorized, "audience"},
		{"other issuer", map[string]string{"Authorization": "Bearer " + signed(t, testSecret, jwt.MapClaims{"iss": "someone", "aud": "aiflow-support", "sub": "x", "exp": exp})}, initializeBody, http.StatusUnauthorized, "issuer"},
		{"expired", map[string]string{"Authorization": "Bearer " + signed(t, testSecret, jwt.MapClaims{"iss": "aiflow", "aud": "aiflow-support", "sub": "x", "exp": time.Now().Add(-time.Hour).Unix()})}, initializeBody, http.StatusUnauthorized, "expired"},
		{"no expiry", map[string]string{"Authorization": "Bearer " + signed(t, testSecret, jwt.MapClaims{"iss": "aiflow", "aud": "aiflow-support", "sub": "x"})}, initializeBody, http.StatusUnauthorized, "exp"},
		{"none algorithm", map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJhaWZsb3ciLCJhdWQiOiJhaWZsb3ctc3VwcG9ydCIsInN1YiI6IngiLCJleHAiOjQxMDI0NDQ4MDB9."}, initializeBody, http.StatusUnauthorized, "invalid token"},
		{"batch", map[string]string{"Authorization": "Bearer " + good}, "[" + initializeBody + "]", http.StatusBadRequest, "batches are not supported"},
		{"batch with space", map[string]string{"Authorization": "Bearer " + good}, " \n [" + initializeBody + "]", http.StatusBadRequest, `"code":-32600`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			status, body := post(t, srv.URL, c.body, c.header)
			require.Equal(t, c.status, status, body)
			require.Contains(t, body, c.want)
		})
	}
}

// TestHTTPBatchOnOldProtocol: the SDK accepts batches from clients that
// negotiated 2025-03-26; this server does not.
func TestHTTPBatchOnOldProtocol(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httpServer(t, b, supportdesk.HTTPOptions{})
	auth := map[string]string{"Authorization": "Bearer " + token(t, "agent", 0)}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL,
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"old","version":"1"}}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", auth["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	session := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, session)

	status, body := post(t, srv.URL, `[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]`,
		map[string]string{"Authorization": auth["Authorization"], "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-03-26"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "batches are not supported")
}

// TestHTTPSessionBoundToToken: a session opened with one token cannot be
// used with the token of another holder or scope.
func TestHTTPSessionBoundToToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httpServer(t, b, supportdesk.HTTPOptions{})
	cs := connectHTTPTo(t, srv.URL, token(t, "agent", adaID))
	status, body := post(t, srv.URL, `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`, map[string]string{
		"Authorization": "Bearer " + token(t, "agent", 0), "Mcp-Session-Id": cs.ID(), "Mcp-Protocol-Version": "2025-06-18",
	})
	require.NotEqual(t, http.StatusOK, status, body)
	require.Equal(t, "Ada Lovelace", ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"customer_id": adaID}).Name)
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	_, err := supportdesk.IssueToken([]byte("short"), supportdesk.TokenParams{Subject: "s", TTL: time.Hour})
	require.ErrorContains(t, err, "shorter than 32 bytes")
	_, err = supportdesk.IssueToken(testSecret, supportdesk.TokenParams{TTL: time.Hour})
	require.ErrorContains(t, err, "subject is empty")
	_, err = supportdesk.IssueToken(testSecret, supportdesk.TokenParams{Subject: "s"})
	require.ErrorContains(t, err, "lifetime")

	tok := token(t, "workflow:support-triage", adaID)
	claims := jwt.MapClaims{}
	_, _, err = jwt.NewParser().ParseUnverified(tok, claims)
	require.NoError(t, err)
	require.Equal(t, "workflow:support-triage", claims["sub"])
	require.Equal(t, "aiflow", claims["iss"])
	require.Equal(t, []any{"aiflow-support"}, claims["aud"])
	require.Equal(t, float64(adaID), claims["customer_id"])
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestToolsMatchCatalog keeps examples/mcp-catalog.json's support server
// equal to what the server lists, so workflows are checked against the
// real tools.
func TestToolsMatchCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cs := connectMemory(t, b, 0)
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	raw, err := os.ReadFile("../../examples/mcp-catalog.json")
	require.NoError(t, err)
	var catalog struct {
		Servers map[string]struct {
			Tools []map[string]any `json:"tools"`
		} `json:"servers"`
	}
	require.NoError(t, json.Unmarshal(raw, &catalog))
	listed := []map[string]any{}
	for _, tool := range res.Tools {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(jsonString(t, tool)), &m))
		delete(m, "annotations") // the catalog holds definitions; annotations and _meta are the server's
		delete(m, "_meta")
		listed = append(listed, m)
	}
	want := catalog.Servers["support"].Tools
	byName := func(ts []map[string]any) map[string]any {
		out := map[string]any{}
		for _, t := range ts {
			out[t["name"].(string)] = t
		}
		return out
	}
	require.Equal(t, byName(want), byName(listed))
}

func TestSDKNegotiatesEveryProtocolVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httpServer(t, b, supportdesk.HTTPOptions{})
	for _, v := range []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"} {
		status, body := post(t, srv.URL, strings.Replace(initializeBody, "2025-06-18", v, 1), map[string]string{"Authorization": "Bearer " + token(t, "agent", 0)})
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `"protocolVersion":"`+v+`"`)
	}
}
