package mcpclient_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := mcpclient.ParseConfig([]byte(`
servers:
  support:
    command: aiflow
    args: [mcp, serve, --stdio]
    env: {SUPPORT_LOG: debug}
    env_secrets: {DATABASE_URL: support-database-url}
    call_timeout_seconds: 5
  search:
    urls: [https://search-a.internal/mcp, https://search-b.internal/mcp]
    token_secret: search-mcp-token
    protocol_version: "2025-06-18"
    max_result_bytes: 65536
`))
	require.NoError(t, err)
	require.Equal(t, []string{"mcp", "serve", "--stdio"}, c.Servers["support"].Args)
	require.True(t, c.Servers["support"].Stdio())
	require.Equal(t, []string{"https://search-a.internal/mcp", "https://search-b.internal/mcp"}, c.Servers["search"].URLs)
	require.InDelta(t, 5.0, c.Servers["support"].CallTimeoutSeconds, 0)

	for src, want := range map[string]string{
		`servers: {a: {}}`: `MCP server "a": give a command (stdio) or urls (Streamable HTTP)`,
		`servers: {a: {command: x, urls: [http://h/]}}`:           "not both",
		`servers: {a: {urls: [ftp://h/]}}`:                        `url "ftp://h/" is not an absolute http(s) URL`,
		`servers: {a: {command: x, token_secret: t}}`:             "token_secret is for urls",
		`servers: {a: {command: x, protocol_version: "2023-01"}}`: `protocol_version "2023-01" is not one of 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05`,
		`servers: {a: {command: x, timeout: 3}}`:                  "field timeout not found",
		`servers: {"a/b": {command: x}}`:                          "has no '/'",
	} {
		_, err := mcpclient.ParseConfig([]byte(src))
		require.ErrorContains(t, err, want, src)
	}
}

func TestReadConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "mcp.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`{"servers": {"support": {"command": "aiflow"}, "search": {"urls": ["http://a/mcp"]}}}`), 0o600))
	c, err := mcpclient.ReadConfig(mcpclient.Sources{File: file, Servers: `{"search": {"urls": ["http://b/mcp"]}}`}, nil)
	require.NoError(t, err)
	require.Equal(t, "aiflow", c.Servers["support"].Command)
	require.Equal(t, []string{"http://b/mcp"}, c.Servers["search"].URLs, "the inline server replaces the file's")

	_, err = mcpclient.ReadConfig(mcpclient.Sources{File: filepath.Join(t.TempDir(), "missing.yaml")}, nil)
	require.ErrorContains(t, err, "AIFLOW_MCP_CONFIG: reading the MCP configuration")

	_, err = mcpclient.ReadConfig(mcpclient.Sources{Servers: `{"a": {}}`}, nil)
	require.ErrorContains(t, err, `MCP server "a": give a command (stdio) or urls (Streamable HTTP)`)

	c, err = mcpclient.ReadConfig(mcpclient.Sources{}, nil)
	require.NoError(t, err)
	require.Empty(t, c.Servers)
}

func TestDefinitionHash(t *testing.T) {
	t.Parallel()
	a := &mcp.Tool{Name: "t", Description: "d", InputSchema: json.RawMessage(`{"type":"object","properties":{"b":{"type":"integer","minimum":1.50},"a":{"type":"string"}}}`)}
	b := &mcp.Tool{Name: "t", Description: "d", InputSchema: map[string]any{"properties": map[string]any{"a": map[string]any{"type": "string"}, "b": map[string]any{"minimum": json.Number("1.50"), "type": "integer"}}, "type": "object"}}
	ha, err := mcpclient.DefinitionHash(a)
	require.NoError(t, err)
	hb, err := mcpclient.DefinitionHash(b)
	require.NoError(t, err)
	require.Equal(t, ha, hb, "key order does not matter")
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, ha)

	for _, changed := range []*mcp.Tool{
		{Name: "t", Description: "d2", InputSchema: a.InputSchema},
		{Name: "t", Description: "d", InputSchema: json.RawMessage(`{"type":"object"}`)},
		{Name: "t", Description: "d", InputSchema: a.InputSchema, OutputSchema: json.RawMessage(`{"type":"object"}`)},
		{Name: "t", Description: "d", InputSchema: a.InputSchema, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
	} {
		h, err := mcpclient.DefinitionHash(changed)
		require.NoError(t, err)
		require.NotEqual(t, ha, h)
	}
}

func TestFilePins(t *testing.T) {
	t.Parallel()
	pins := &mcpclient.FilePins{Path: filepath.Join(t.TempDir(), "sub", "pins.json")}
	_, ok, err := pins.Pin(t.Context(), "s", "t")
	require.NoError(t, err)
	require.False(t, ok, "a missing file has no pins")
	require.NoError(t, pins.SetPin(t.Context(), "s", "t", "sha256:1"))
	require.NoError(t, pins.SetPin(t.Context(), "s", "u", "sha256:2"))
	again := &mcpclient.FilePins{Path: pins.Path}
	h, ok, err := again.Pin(t.Context(), "s", "u")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "sha256:2", h)
	src, err := os.ReadFile(pins.Path)
	require.NoError(t, err)
	require.JSONEq(t, `{"servers": {"s": {"t": "sha256:1", "u": "sha256:2"}}}`, string(src))

	require.NoError(t, os.WriteFile(pins.Path, []byte("{"), 0o600))
	_, _, err = again.Pin(t.Context(), "s", "t")
	require.ErrorContains(t, err, "reading the pin file")
}
