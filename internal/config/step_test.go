package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient/mcpconfig"
)

func TestLoadAIStepDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadAIStep(env(nil))
	require.NoError(t, err)
	require.Equal(t, AIStep{
		Step: Step{
			Log:            Log{Level: slog.LevelInfo, Format: "auto"},
			Heartbeat:      20 * time.Second,
			DeadlineMargin: 3 * time.Second,
			Blobs:          noBlobs,
		},
		Providers:   []string{"anthropic", "openai", "bedrock"},
		MaxAttempts: 3,
		Secrets:     SecretsEnv,
		OpenAI:      ModelAPI{KeySecret: "openai-api-key", KeySecretVar: "AIFLOW_OPENAI_KEY_SECRET"},
		Anthropic:   ModelAPI{KeySecret: "anthropic-api-key", KeySecretVar: "AIFLOW_ANTHROPIC_KEY_SECRET"},
		Tools:       MCPClients{MCP: mcpconfig.Config{Servers: map[string]mcpconfig.ServerConfig{}}, Secrets: SecretsEnv},
	}, c)
}

func TestLoadAIStepReadsEverything(t *testing.T) {
	t.Parallel()
	c, err := LoadAIStep(env(map[string]string{
		"AIFLOW_AI_PROVIDERS":              "scripted, openai,scripted,anthropic",
		"AIFLOW_AI_DEFAULT_PROVIDER":       "scripted",
		"AIFLOW_AI_SCRIPT":                 "script.yaml",
		"AIFLOW_AI_PRICES":                 `{"openai/gpt-4.1-mini": {"input": 0.4, "output": 1.6}}`,
		"AIFLOW_AI_STEP_TOKEN_BUDGET":      "20000",
		"AIFLOW_AI_EXECUTION_TOKEN_BUDGET": "100000",
		"AIFLOW_AI_MAX_ATTEMPTS":           "5",
		"AIFLOW_AI_SECRETS":                "secretsmanager",
		"AIFLOW_ANTHROPIC_KEY_SECRET":      "arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic",
		"OPENAI_API_KEY":                   "sk-openai",
		"OPENAI_BASE_URL":                  "http://127.0.0.1:4010/v1",
		"ANTHROPIC_BASE_URL":               "http://127.0.0.1:4011",
		"AIFLOW_STEP_HEARTBEAT":            "10s",
		"AIFLOW_STEP_DEADLINE_MARGIN":      "5s",
		"AIFLOW_SFN_ENDPOINT":              "http://127.0.0.1:8083",
		"DATABASE_URL":                     "postgres://u:p@localhost/aiflow",
		"AIFLOW_LOG_LEVEL":                 "debug",
		"AWS_LAMBDA_FUNCTION_NAME":         "aiflow-aistep",
	}))
	require.NoError(t, err)
	require.Equal(t, AIStep{
		Step: Step{
			Log:            Log{Level: slog.LevelDebug, Format: "auto", InLambda: true},
			Heartbeat:      10 * time.Second,
			DeadlineMargin: 5 * time.Second,
			SFNEndpoint:    "http://127.0.0.1:8083",
			Database:       Database{URL: "postgres://u:p@localhost/aiflow"},
			Blobs:          noBlobs,
		},
		Providers:            []string{"scripted", "openai", "anthropic"},
		DefaultProvider:      "scripted",
		ScriptFile:           "script.yaml",
		Prices:               map[string]Price{"openai/gpt-4.1-mini": {InputPerMillion: 0.4, OutputPerMillion: 1.6}},
		StepTokenBudget:      20000,
		ExecutionTokenBudget: 100000,
		MaxAttempts:          5,
		Secrets:              SecretsManager,
		OpenAI:               ModelAPI{APIKey: "sk-openai", BaseURL: "http://127.0.0.1:4010/v1", KeySecret: "openai-api-key", KeySecretVar: "AIFLOW_OPENAI_KEY_SECRET"},
		Anthropic: ModelAPI{BaseURL: "http://127.0.0.1:4011", KeySecretVar: "AIFLOW_ANTHROPIC_KEY_SECRET",
			KeySecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic"},
		Tools: MCPClients{MCP: mcpconfig.Config{Servers: map[string]mcpconfig.ServerConfig{}}, Secrets: SecretsEnv},
	}, c)
}

func TestLoadAIStepReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := LoadAIStep(env(map[string]string{
		"AIFLOW_AI_PROVIDERS":              "openai,mistral,scripted",
		"AIFLOW_AI_DEFAULT_PROVIDER":       "anthropic",
		"AIFLOW_AI_PRICES":                 `{"m": {"inputs": 1}}`,
		"AIFLOW_AI_EXECUTION_TOKEN_BUDGET": "10",
		"AIFLOW_AI_MAX_ATTEMPTS":           "0",
		"AIFLOW_AI_SECRETS":                "vault",
		"AIFLOW_STEP_HEARTBEAT":            "soon",
		"AIFLOW_SFN_ENDPOINT":              "localhost:8083",
		"AIFLOW_LOG_FORMAT":                "xml",
		"OPENAI_API_KEY":                   "sk-hunter2",
	}))
	require.ElementsMatch(t, []string{
		"AIFLOW_AI_PROVIDERS", "AIFLOW_AI_DEFAULT_PROVIDER", "AIFLOW_AI_PRICES", "AIFLOW_AI_MAX_ATTEMPTS", "AIFLOW_AI_SECRETS",
		"AIFLOW_STEP_HEARTBEAT", "AIFLOW_SFN_ENDPOINT", "AIFLOW_AI_SCRIPT", "DATABASE_URL", "AIFLOW_LOG_FORMAT",
	}, vars(problems(t, err)))
	require.True(t, strings.HasPrefix(err.Error(), "functions/aistep: 10 configuration problems:\n"), err.Error())
	require.Contains(t, err.Error(), `"mistral" is not a provider`)
	require.Contains(t, err.Error(), `AIFLOW_AI_SECRETS: "vault" is neither env nor secretsmanager`)
	require.Contains(t, err.Error(), `AIFLOW_AI_MAX_ATTEMPTS: "0" is not a whole number from 1 to 10 (example: AIFLOW_AI_MAX_ATTEMPTS=3)`)
	require.Contains(t, err.Error(), `AIFLOW_STEP_HEARTBEAT: "soon" is not a duration from 1s to 15m0s (example: AIFLOW_STEP_HEARTBEAT=20s)`)
	require.NotContains(t, err.Error(), "hunter2")
}

func TestAIStepLogValueHidesSecrets(t *testing.T) {
	t.Parallel()
	c, err := LoadAIStep(env(map[string]string{
		"OPENAI_API_KEY": "sk-hunter2", "ANTHROPIC_API_KEY": "sk-ant-hunter2", "DATABASE_URL": "postgres://u:hunter2@db/aiflow",
	}))
	require.NoError(t, err)
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("ready", "config", c)
	require.NotContains(t, b.String(), "hunter2")
	require.Contains(t, b.String(), "config.openai_key_set=true")
	require.NotContains(t, fmt.Sprintf("%v %+v", c, c), "sk-", "the keys are telemetry.Secret")
}

func TestLoadAIStepReadsTheMCPServersOfItsTools(t *testing.T) {
	t.Parallel()
	c, err := LoadAIStep(env(map[string]string{
		"AIFLOW_MCP_SERVERS": `{"support": {"urls": ["https://support.example.com/mcp"], "token_secret": "aiflow/mcp/support-token"}}`,
		"AIFLOW_MCP_SECRETS": "secretsmanager",
		"AIFLOW_MCP_PINS":    "pins.json",
	}))
	require.NoError(t, err)
	require.Equal(t, map[string]mcpconfig.ServerConfig{
		"support": {URLs: []string{"https://support.example.com/mcp"}, TokenSecret: "aiflow/mcp/support-token"},
	}, c.Tools.MCP.Servers)
	require.Equal(t, SecretsManager, c.Tools.Secrets)
	require.Equal(t, SecretsEnv, c.Secrets, "the providers' keys have their own store")
	require.Equal(t, "pins.json", c.Tools.Pins)
	require.Contains(t, c.LogValue().String(), "mcp_servers=support")

	_, err = LoadAIStep(env(map[string]string{"AIFLOW_MCP_SERVERS": `{"x": {"bogus": 1}}`}))
	require.ErrorContains(t, err, "functions/aistep: 1 configuration problem")
	require.ErrorContains(t, err, "AIFLOW_MCP_SERVERS")
}

func TestLoadMCPStep(t *testing.T) {
	t.Parallel()
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadMCPStep(env(nil))
		require.NoError(t, err)
		require.Equal(t, MCPStep{
			Step: Step{Log: Log{Level: slog.LevelInfo, Format: "auto"}, Heartbeat: 20 * time.Second, DeadlineMargin: 3 * time.Second, Blobs: noBlobs},
			MCPClients: MCPClients{
				MCP:     mcpconfig.Config{Servers: map[string]mcpconfig.ServerConfig{}},
				Secrets: SecretsEnv,
			},
		}, c)
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "mcp.yaml")
		require.NoError(t, os.WriteFile(file, []byte("servers:\n  desk: {command: aiflow, args: [mcp, serve]}\n  search: {urls: [http://a/mcp]}\n"), 0o600))
		c, err := LoadMCPStep(env(map[string]string{
			"AIFLOW_MCP_CONFIG":   file,
			"AIFLOW_MCP_SERVERS":  `{"search": {"urls": ["http://127.0.0.1:9000/mcp"]}}`,
			"AIFLOW_MCP_SECRETS":  "secretsmanager",
			"AIFLOW_MCP_PINS":     "pins.json",
			"AIFLOW_SFN_ENDPOINT": "https://states.us-east-1.amazonaws.com",
			// The ai step's settings are not the mcp step's business.
			"AIFLOW_AI_PROVIDERS": "mistral",
		}))
		require.NoError(t, err)
		require.Equal(t, mcpconfig.Sources{File: file, Servers: `{"search": {"urls": ["http://127.0.0.1:9000/mcp"]}}`}, c.Sources)
		require.Equal(t, map[string]mcpconfig.ServerConfig{
			"desk":   {Command: "aiflow", Args: []string{"mcp", "serve"}},
			"search": {URLs: []string{"http://127.0.0.1:9000/mcp"}},
		}, c.MCP.Servers, "the inline server wins over the file's")
		require.Equal(t, SecretsManager, c.Secrets)
		require.Equal(t, "pins.json", c.Pins)
		require.Equal(t, "https://states.us-east-1.amazonaws.com", c.SFNEndpoint)
		require.Contains(t, c.LogValue().String(), "desk,search")
	})
	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "mcp.yaml")
		require.NoError(t, os.WriteFile(file, []byte("servers: {a: {}}"), 0o600))
		_, err := LoadMCPStep(env(map[string]string{
			"AIFLOW_MCP_SECRETS":          "vault",
			"AIFLOW_STEP_DEADLINE_MARGIN": "2m",
			"AIFLOW_LOG_LEVEL":            "loud",
			"AIFLOW_SFN_ENDPOINT":         "ftp://x",
			"AIFLOW_MCP_CONFIG":           file,
			"AIFLOW_MCP_SERVERS":          `{"x": {"bogus": 1}}`,
		}))
		got := problems(t, err)
		require.Equal(t, []string{"AIFLOW_LOG_LEVEL", "AIFLOW_STEP_DEADLINE_MARGIN", "AIFLOW_SFN_ENDPOINT", "AIFLOW_MCP_SECRETS",
			"AIFLOW_MCP_CONFIG", "AIFLOW_MCP_SERVERS"}, vars(got))
		require.True(t, strings.HasPrefix(err.Error(), "functions/mcpstep: 6 configuration problems:\n"), err.Error())
		require.Equal(t, strconv.Quote(file)+`: MCP server "a": give a command (stdio) or urls (Streamable HTTP)`, got[4].Problem)
		require.Contains(t, got[5].Problem, "reading the MCP servers: ")
		require.Contains(t, got[5].Problem, "field bogus not found")

		_, err = LoadMCPStep(env(map[string]string{"AIFLOW_MCP_CONFIG": filepath.Join(t.TempDir(), "missing.yaml")}))
		require.ErrorContains(t, err, "AIFLOW_MCP_CONFIG: reading the MCP configuration: ")
		_, err = LoadMCPStep(env(map[string]string{"AIFLOW_MCP_SERVERS": `{"a/b": {"command": "x"}}`}))
		require.ErrorContains(t, err, `AIFLOW_MCP_SERVERS: MCP server "a/b": a server's name`)
	})
	t.Run("LogValueHidesInlineServers", func(t *testing.T) {
		t.Parallel()
		c := MCPStep{MCPClients: MCPClients{Sources: mcpconfig.Sources{Servers: `{"x": {"command": "x", "env": {"TOKEN": "hunter2"}}}`}}, Step: Step{Database: Database{URL: "postgres://u:hunter2@db/x"}}}
		require.NotContains(t, c.LogValue().String(), "hunter2")
	})
}

func TestLogDetectsLambda(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"api": true, "": false, " ": false} {
		c, err := LoadMigrate(env(map[string]string{"AWS_LAMBDA_FUNCTION_NAME": v}))
		require.NoError(t, err)
		require.Equal(t, want, c.Log.InLambda, "AWS_LAMBDA_FUNCTION_NAME=%q", v)
	}
	c, err := LoadMigrate(env(map[string]string{"AWS_REGION": "us-east-1"}))
	require.NoError(t, err)
	require.False(t, c.Log.InLambda)
	require.True(t, Log{InLambda: true}.LoggerOptions(nil).InLambda)
}
