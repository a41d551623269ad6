package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/mcpclient/mcpconfig"
)

// noLocalWorkers are the local workers' settings of an empty environment.
var noLocalWorkers = LocalWorkers{MCP: mcpconfig.Config{Servers: map[string]mcpconfig.ServerConfig{}}, Service: ServiceCalls{
	MaxAttempts: DefaultServiceMaxAttempts, Refresh: DefaultServiceRefresh, BreakerFailures: DefaultServiceBreakerFailures,
	BreakerCoolDown: DefaultServiceBreakerCoolDown, Egress: Egress{MaxResponseBytes: DefaultEgressMaxResponseBytes, Timeout: DefaultEgressTimeout},
}, BlobThreshold: blob.DefaultThreshold}

// mcpFile writes an MCP configuration file with the servers support
// (a command) and search (a URL).
func mcpFile(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "mcp.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`{"servers": {"support": {"command": "aiflow"}, "search": {"urls": ["http://a/mcp"]}}}`), 0o600))
	return file
}

// logged returns v as a text handler logs it, nested LogValuers resolved.
func logged(v any) string {
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", v)
	return b.String()
}

func TestLoadRun(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadRun(env(nil))
		require.NoError(t, err)
		require.Equal(t, Run{Workers: noLocalWorkers}, cfg)
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadRun(env(map[string]string{
			"AIFLOW_AI_SCRIPT":         "examples/scripts/scripted.yaml",
			"ANTHROPIC_API_KEY":        "sk-ant-hunter2",
			"ANTHROPIC_BASE_URL":       "http://127.0.0.1:9000",
			"OPENAI_API_KEY":           "sk-hunter2",
			"AWS_PROFILE":              "dev",
			mcpconfig.EnvConfigFile:    mcpFile(t),
			mcpconfig.EnvServers:       `{"search": {"urls": ["http://b/mcp"]}}`,
			"AIFLOW_AI_PROVIDERS":      "not read by aiflow run",
			"AIFLOW_OPENAI_KEY_SECRET": "not read either",
		}))
		require.NoError(t, err)
		require.Equal(t, "examples/scripts/scripted.yaml", cfg.AIScript)
		require.Equal(t, ModelAPI{APIKey: "sk-ant-hunter2", BaseURL: "http://127.0.0.1:9000"}, cfg.Workers.Anthropic)
		require.Equal(t, ModelAPI{APIKey: "sk-hunter2"}, cfg.Workers.OpenAI)
		require.True(t, cfg.Workers.AWS)
		require.Equal(t, "aiflow", cfg.Workers.MCP.Servers["support"].Command)
		require.Equal(t, []string{"http://b/mcp"}, cfg.Workers.MCP.Servers["search"].URLs, "the environment's server replaces the file's")

		v := logged(cfg)
		require.NotContains(t, v, "hunter2")
		require.Contains(t, v, "config.workers.anthropic_key_set=true")
		require.Contains(t, v, "config.workers.servers=search,support")
	})
	t.Run("AWS", func(t *testing.T) {
		t.Parallel()

		for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
			cfg, err := LoadRun(env(map[string]string{k: "eu-west-1"}))
			require.NoError(t, err)
			require.True(t, cfg.Workers.AWS, k)
		}
		cfg, err := LoadRun(env(map[string]string{"AWS_REGION": " "}))
		require.NoError(t, err)
		require.False(t, cfg.Workers.AWS, "a blank variable is unset")
	})
	t.Run("Problems", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadRun(env(map[string]string{
			"ANTHROPIC_API_KEY":     "sk-ant-hunter2",
			mcpconfig.EnvConfigFile: filepath.Join(t.TempDir(), "missing.yaml"),
			mcpconfig.EnvServers:    `{"x": {"urls": "nope"}}`,
			"AIFLOW_AI_SCRIPT":      "script.yaml",
		}))
		require.Equal(t, []string{mcpconfig.EnvConfigFile, mcpconfig.EnvServers}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "aiflow run: 2 configuration problems:\n"), "error: %v", err)
		require.Contains(t, err.Error(), "AIFLOW_MCP_SERVERS: reading the MCP servers")
		require.NotContains(t, err.Error(), "hunter2")
		require.Equal(t, "script.yaml", cfg.AIScript, "good values are kept")
		require.Empty(t, cfg.Workers.MCP.Servers)
	})
}

func TestLoadMCPTools(t *testing.T) {
	t.Parallel()

	params := MCPToolsParams{Binary: "aiflow mcp tools"}

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadMCPTools(env(nil), params)
		require.NoError(t, err)
		require.Equal(t, MCPTools{MCP: noLocalWorkers.MCP, Pins: filepath.Join(".aiflow", "mcp-pins.json")}, cfg)
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()

		file := mcpFile(t)
		cfg, err := LoadMCPTools(env(map[string]string{
			mcpconfig.EnvConfigFile: file,
			"AIFLOW_MCP_PINS":       "pins.json",
		}), params)
		require.NoError(t, err)
		require.Equal(t, "pins.json", cfg.Pins)
		require.Equal(t, file, cfg.Sources.File)
		require.Len(t, cfg.MCP.Servers, 2)
	})
	t.Run("FlagsWin", func(t *testing.T) {
		t.Parallel()

		file := mcpFile(t)
		cfg, err := LoadMCPTools(env(map[string]string{
			mcpconfig.EnvConfigFile: filepath.Join(t.TempDir(), "missing.yaml"),
			"AIFLOW_MCP_PINS":       "pins.json",
		}), MCPToolsParams{Binary: "aiflow mcp approve", ConfigFile: file, PinsFile: "flag-pins.json"})
		require.NoError(t, err, "the variable's missing file is not read")
		require.Equal(t, "flag-pins.json", cfg.Pins)
		require.Equal(t, file, cfg.Sources.File)
		require.Len(t, cfg.MCP.Servers, 2)
	})
	t.Run("Problems", func(t *testing.T) {
		t.Parallel()

		bad := filepath.Join(t.TempDir(), "mcp.yaml")
		require.NoError(t, os.WriteFile(bad, []byte(`servers: {a: {command: x, token_secret: t}}`), 0o600))
		_, err := LoadMCPTools(env(map[string]string{
			mcpconfig.EnvServers: `{"desk": {"urls": ["ftp://desk/"]}}`,
		}), MCPToolsParams{Binary: "aiflow mcp catalog", ConfigFile: bad})
		require.Equal(t, []string{mcpconfig.EnvConfigFile}, vars(problems(t, err)),
			"inline servers are checked only when the file is good")
		require.True(t, strings.HasPrefix(err.Error(), "aiflow mcp catalog: 1 configuration problem:\n"), "error: %v", err)
		require.Contains(t, err.Error(), "token_secret is for urls")

		_, err = LoadMCPTools(env(map[string]string{
			mcpconfig.EnvServers: `{"desk": {"urls": ["ftp://desk/"]}}`,
		}), params)
		require.Equal(t, []string{mcpconfig.EnvServers}, vars(problems(t, err)))
		require.Contains(t, err.Error(), `url "ftp://desk/" is not an absolute http(s) URL`)
	})
}

func TestLoadDevKeyAndWorkers(t *testing.T) {
	t.Parallel()

	t.Run("Values", func(t *testing.T) {
		t.Parallel()

		key := strings.Repeat("k", 32)
		cfg, err := LoadDev(env(map[string]string{
			"AIFLOW_AUTH_HMAC_KEY": key,
			"OPENAI_API_KEY":       "sk-hunter2",
			mcpconfig.EnvServers:   `{"desk": {"urls": ["https://desk.example.com/mcp"]}}`,
			"AIFLOW_RATE_LIMIT":    "2000",
			"AIFLOW_RATE_BURST":    "4000",
		}))
		require.NoError(t, err)
		require.Equal(t, 2000, cfg.RateLimit)
		require.Equal(t, 4000, cfg.RateBurst)
		require.Equal(t, key, cfg.HMACKey.Reveal())
		require.Equal(t, "sk-hunter2", cfg.Workers.OpenAI.APIKey.Reveal())
		require.Contains(t, cfg.Workers.MCP.Servers, "desk")

		v := logged(cfg)
		require.NotContains(t, v, key)
		require.NotContains(t, v, "hunter2")
		require.Contains(t, v, "config.hmac_key_set=true")
	})
	t.Run("Problems", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDev(env(map[string]string{
			"AIFLOW_AUTH_HMAC_KEY": "short-hunter2",
			mcpconfig.EnvServers:   `{"x": {"urls": "nope"}}`,
			"AIFLOW_LOG_LEVEL":     "loud",
			"AIFLOW_RATE_LIMIT":    "0",
		}))
		require.Equal(t, []string{"AIFLOW_AUTH_HMAC_KEY", "AIFLOW_RATE_LIMIT", mcpconfig.EnvServers, "AIFLOW_LOG_LEVEL"}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "aiflow dev: 4 configuration problems:\n"), "error: %v", err)
		require.Equal(t, DefaultRateLimit, cfg.RateLimit, "a bad limit gives the default")
		require.Contains(t, err.Error(), "AIFLOW_AUTH_HMAC_KEY: has 13 bytes; at least 32 are required")
		require.NotContains(t, err.Error(), "hunter2")
		require.Empty(t, cfg.HMACKey, "a short key is not kept")
	})
}
