package config

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/telemetry"
)

func TestLoadServiceClient(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadServiceClient(env(nil))
		require.NoError(t, err)
		require.Equal(t, ServiceClient{APIURL: "http://127.0.0.1:8080", TokenFile: filepath.Join(".aiflow", "dev-token"),
			Log: Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto}}, cfg)
	})
	t.Run("TheDevServersAddress", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadServiceClient(env(map[string]string{"AIFLOW_HTTP_ADDR": ":9090", "AIFLOW_DATA_DIR": "/srv/aiflow"}))
		require.NoError(t, err)
		require.Equal(t, "http://127.0.0.1:9090", cfg.APIURL)
		require.Equal(t, filepath.Join("/srv/aiflow", "dev-token"), cfg.TokenFile)
		require.Equal(t, "http://[::1]:8080", DevAPIURL("[::1]:8080"))
		require.Equal(t, "http://127.0.0.1:8080", DevAPIURL("0.0.0.0:8080"))
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadServiceClient(env(map[string]string{"AIFLOW_API_URL": "https://api.example.com/prod", "AIFLOW_TOKEN": "tok", "AIFLOW_HTTP_ADDR": ":9090"}))
		require.NoError(t, err)
		require.Equal(t, "https://api.example.com/prod", cfg.APIURL)
		require.Equal(t, "tok", cfg.Token.Reveal())
	})
	t.Run("Problems", func(t *testing.T) {
		t.Parallel()
		_, err := LoadServiceClient(env(map[string]string{"AIFLOW_API_URL": "ftp://x", "AIFLOW_HTTP_ADDR": "abc"}))
		var ce *Error
		require.True(t, errors.As(err, &ce))
		require.Len(t, ce.Problems, 2)
		require.Contains(t, err.Error(), `AIFLOW_API_URL: "ftp://x" is not an http or https URL (example: AIFLOW_API_URL=http://127.0.0.1:8080)`)
	})
}
