package config

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/telemetry"
)

func TestLoadMCPServe(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadMCPServe(env(nil), false)
		require.NoError(t, err, "stdio needs no secret")
		require.Equal(t, MCPServe{Database: Migrate{DataDir: ".aiflow", Log: Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto}}}, cfg)
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()

		secret := strings.Repeat("s", 32)
		cfg, err := LoadMCPServe(env(map[string]string{
			"AIFLOW_SUPPORT_TOKEN_SECRET": secret,
			"DATABASE_URL":                "postgres://aiflow:hunter2@db/aiflow",
		}), true)
		require.NoError(t, err)
		require.Equal(t, secret, cfg.Support.TokenSecret.Reveal())
		require.Equal(t, "postgres://aiflow:hunter2@db/aiflow", cfg.Database.DatabaseURL)

		v := logged(cfg)
		require.NotContains(t, v, secret)
		require.NotContains(t, v, "hunter2")
		require.Contains(t, v, "config.support.token_secret_set=true")
	})
	t.Run("Problems", func(t *testing.T) {
		t.Parallel()

		_, err := LoadMCPServe(env(map[string]string{
			"AIFLOW_SUPPORT_TOKEN_SECRET": "tiny-hunter2",
			"AIFLOW_SUPPORT_KB_URL":       "ftp://kb",
			"DATABASE_URL":                "mysql://root:hunter2@db/aiflow",
			"AIFLOW_LOG_LEVEL":            "loud",
		}), true)
		require.Equal(t, []string{"AIFLOW_SUPPORT_TOKEN_SECRET", "AIFLOW_SUPPORT_KB_URL", "DATABASE_URL", "AIFLOW_LOG_LEVEL"}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "aiflow mcp serve: 4 configuration problems:\n"), "error: %v", err)
		require.NotContains(t, err.Error(), "hunter2")

		_, err = LoadMCPServe(env(nil), true)
		require.ErrorContains(t, err, "AIFLOW_SUPPORT_TOKEN_SECRET: is required to serve over HTTP")
	})
}

func TestLoadMCPSeed(t *testing.T) {
	t.Parallel()

	cfg, err := LoadMCPSeed(env(nil))
	require.NoError(t, err)
	require.Equal(t, ".aiflow", cfg.DataDir)

	_, err = LoadMCPSeed(env(map[string]string{"DATABASE_URL": "postgres//db"}))
	require.Equal(t, []string{"DATABASE_URL"}, vars(problems(t, err)))
	require.True(t, strings.HasPrefix(err.Error(), "aiflow mcp seed: 1 configuration problem:\n"), "error: %v", err)
}
