package config

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/telemetry"
)

func TestLoadEngine(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadEngine(env(nil))
		require.NoError(t, err)
		require.Equal(t, Engine{
			Addr:            "127.0.0.1:8083",
			DataDir:         ".aiflow",
			Region:          "us-east-1",
			AccountID:       "123456789012",
			ShutdownTimeout: 10 * time.Second,
			Log:             Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto},
		}, cfg)
	})
	t.Run("Values", func(t *testing.T) {
		t.Parallel()

		binDir := t.TempDir()
		cfg, err := LoadEngine(env(map[string]string{
			"AIFLOW_ENGINE_ADDR":       "0.0.0.0:9000",
			"AIFLOW_ENGINE_IN_MEMORY":  "yes",
			"DATABASE_URL":             "postgres://aiflow:secret@db:5432/aiflow",
			"AIFLOW_DATA_DIR":          "/data",
			"AIFLOW_PG_BINDIR":         binDir,
			"AIFLOW_LAMBDA_ENDPOINT":   "http://127.0.0.1:3001",
			"AWS_DEFAULT_REGION":       "eu-west-1",
			"AIFLOW_ENGINE_ACCOUNT_ID": "000000000000",
			"AIFLOW_ENGINE_QUEUES":     "ai-steps, mcp-steps=https://sqs.eu-west-1.amazonaws.com/000000000000/mcp-steps,",
			"AIFLOW_SHUTDOWN_TIMEOUT":  "3s",
			"AIFLOW_LOG_FORMAT":        "json",
		}))
		require.NoError(t, err)
		require.Equal(t, Engine{
			Addr:           "0.0.0.0:9000",
			InMemory:       true,
			DatabaseURL:    "postgres://aiflow:secret@db:5432/aiflow",
			DataDir:        "/data",
			PGBinDir:       binDir,
			LambdaEndpoint: "http://127.0.0.1:3001",
			Region:         "eu-west-1",
			AccountID:      "000000000000",
			Queues: []Queue{
				{Name: "ai-steps"},
				{Name: "mcp-steps", URL: "https://sqs.eu-west-1.amazonaws.com/000000000000/mcp-steps"},
			},
			ShutdownTimeout: 3 * time.Second,
			Log:             Log{Level: slog.LevelInfo, Format: telemetry.FormatJSON},
		}, cfg)
	})
	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		t.Parallel()

		_, err := LoadEngine(env(map[string]string{
			"AIFLOW_ENGINE_ADDR":       "8083",
			"AIFLOW_ENGINE_IN_MEMORY":  "maybe",
			"AIFLOW_LAMBDA_ENDPOINT":   "127.0.0.1:3001",
			"AWS_REGION":               "Europe",
			"AIFLOW_ENGINE_ACCOUNT_ID": "12345",
			"AIFLOW_ENGINE_QUEUES":     "ai steps,a=ftp://x/y,a,a",
		}))
		got := problems(t, err)
		require.Equal(t, []Problem{
			{Var: "AIFLOW_ENGINE_ADDR", Problem: `"8083" is not host:port`, Example: "127.0.0.1:8083"},
			{Var: "AIFLOW_ENGINE_IN_MEMORY", Problem: `"maybe" is not one of true, false, 1, 0, yes, no`, Example: "true"},
			{Var: "AIFLOW_LAMBDA_ENDPOINT", Problem: `"127.0.0.1:3001" is not an http:// or https:// URL`, Example: "http://127.0.0.1:3001"},
			{Var: "AWS_REGION", Problem: `"Europe" is not an AWS region`, Example: "us-east-1"},
			{Var: "AIFLOW_ENGINE_ACCOUNT_ID", Problem: `"12345" is not an AWS account id (twelve digits)`, Example: "123456789012"},
			{Var: "AIFLOW_ENGINE_QUEUES", Problem: `"ai steps" does not start with a queue name (1 to 80 letters, digits, hyphens and underscores)`, Example: exampleQueue},
			{Var: "AIFLOW_ENGINE_QUEUES", Problem: `"a=ftp://x/y": "ftp://x/y" is not a queue URL (http:// or https://, a host and a path)`, Example: exampleQueue},
			{Var: "AIFLOW_ENGINE_QUEUES", Problem: `names the queue "a" twice`, Example: exampleQueue},
		}, got)
		require.Contains(t, err.Error(), "aiflow engine: 8 configuration problems")
	})
	t.Run("LogValueHidesThePassword", func(t *testing.T) {
		t.Parallel()

		cfg := Engine{DatabaseURL: "postgres://aiflow:topsecret@db/aiflow", Queues: []Queue{{Name: "q", URL: "http://h/q"}}}
		require.NotContains(t, cfg.LogValue().String(), "topsecret")
		require.Contains(t, cfg.LogValue().String(), "q=http://h/q")
	})
}

func TestParseQueue(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		in   string
		want Queue
		err  string
	}{
		{in: "ai-steps", want: Queue{Name: "ai-steps"}},
		{in: " approvals_1 ", want: Queue{Name: "approvals_1"}},
		{in: "q=http://localhost:4566/000000000000/q", want: Queue{Name: "q", URL: "http://localhost:4566/000000000000/q"}},
		{in: "", err: "does not start with a queue name"},
		{in: "=http://h/q", err: "does not start with a queue name"},
		{in: "q.fifo", err: "does not start with a queue name"},
		{in: "q=http://h", err: "is not a queue URL"},
		{in: "q=sqs/q", err: "is not a queue URL"},
	} {
		got, err := ParseQueue(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		again, err := ParseQueue(got.String())
		require.NoError(t, err)
		require.Equal(t, got, again, "String round-trips %q", tc.in)
	}
}
