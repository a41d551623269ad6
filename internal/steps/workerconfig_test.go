package steps_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/steps"
)

func env(vars map[string]string) config.LookupFunc {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestLoadWorkerConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := steps.LoadWorkerConfig(env(nil))
	require.NoError(t, err)
	require.Equal(t, []string{"anthropic", "openai", "bedrock"}, c.Providers)
	require.Equal(t, slog.LevelInfo, c.Log.Level)
	require.Equal(t, 3, c.MaxAttempts)
	require.Equal(t, 20*time.Second, c.Heartbeat)
	require.Equal(t, 3*time.Second, c.DeadlineMargin)
	require.Zero(t, c.StepTokenBudget)
	require.Nil(t, c.Prices)
}

func TestLoadWorkerConfigReadsEverything(t *testing.T) {
	t.Parallel()
	c, err := steps.LoadWorkerConfig(env(map[string]string{
		"AIFLOW_AI_PROVIDERS":              "scripted, openai,scripted",
		"AIFLOW_AI_DEFAULT_PROVIDER":       "scripted",
		"AIFLOW_AI_SCRIPT":                 "script.yaml",
		"AIFLOW_AI_PRICES":                 `{"openai/gpt-4.1-mini": {"input": 0.4, "output": 1.6}}`,
		"AIFLOW_AI_STEP_TOKEN_BUDGET":      "20000",
		"AIFLOW_AI_EXECUTION_TOKEN_BUDGET": "100000",
		"AIFLOW_AI_MAX_ATTEMPTS":           "5",
		"AIFLOW_STEP_HEARTBEAT":            "10s",
		"AIFLOW_STEP_DEADLINE_MARGIN":      "5s",
		"AIFLOW_SFN_ENDPOINT":              "http://127.0.0.1:8083",
		"DATABASE_URL":                     "postgres://u:p@localhost/aiflow",
		"AIFLOW_LOG_LEVEL":                 "debug",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"scripted", "openai"}, c.Providers)
	require.Equal(t, "scripted", c.DefaultProvider)
	require.Equal(t, steps.PriceTable{"openai/gpt-4.1-mini": {InputPerMillion: 0.4, OutputPerMillion: 1.6}}, c.Prices)
	require.Equal(t, 20000, c.StepTokenBudget)
	require.Equal(t, 100000, c.ExecutionTokenBudget)
	require.Equal(t, 5, c.MaxAttempts)
	require.Equal(t, 10*time.Second, c.Heartbeat)
	require.Equal(t, 5*time.Second, c.DeadlineMargin)
	require.Equal(t, "http://127.0.0.1:8083", c.SFNEndpoint)
	require.Equal(t, slog.LevelDebug, c.Log.Level)
}

func TestLoadWorkerConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := steps.LoadWorkerConfig(env(map[string]string{
		"AIFLOW_AI_PROVIDERS":              "openai,mistral,scripted",
		"AIFLOW_AI_DEFAULT_PROVIDER":       "anthropic",
		"AIFLOW_AI_PRICES":                 `{"m": {"inputs": 1}}`,
		"AIFLOW_AI_EXECUTION_TOKEN_BUDGET": "10",
		"AIFLOW_AI_MAX_ATTEMPTS":           "0",
		"AIFLOW_STEP_HEARTBEAT":            "soon",
		"AIFLOW_SFN_ENDPOINT":              "localhost:8083",
	}))
	var ce *config.Error
	require.True(t, errors.As(err, &ce))
	var vars []string
	for _, p := range ce.Problems {
		vars = append(vars, p.Var)
	}
	require.ElementsMatch(t, []string{
		"AIFLOW_AI_PROVIDERS", "AIFLOW_AI_DEFAULT_PROVIDER", "AIFLOW_AI_PRICES", "AIFLOW_AI_MAX_ATTEMPTS",
		"AIFLOW_STEP_HEARTBEAT", "AIFLOW_SFN_ENDPOINT", "AIFLOW_AI_SCRIPT", "DATABASE_URL",
	}, vars)
	require.Contains(t, err.Error(), `"mistral" is not a provider`)
}
