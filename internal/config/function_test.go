package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadRecorder(t *testing.T) {
	t.Parallel()
	t.Run("Values", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadRecorder(env(map[string]string{
			"DATABASE_URL": "postgres://aiflow_engine:secret@db:5432/aiflow", "AIFLOW_SFN_ENDPOINT": "http://127.0.0.1:8083",
			"AIFLOW_RECORDER_PAGE_SIZE": "50", "AIFLOW_DB_MAX_CONNS": "4",
		}))
		require.NoError(t, err)
		require.Equal(t, 50, cfg.PageSize)
		require.Equal(t, 4, cfg.DBMaxConns)
		require.Equal(t, "http://127.0.0.1:8083", cfg.SFNEndpoint)
		require.NotContains(t, fmt.Sprint(cfg.LogValue()), "secret")
	})
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadRecorder(env(map[string]string{"DATABASE_URL": "postgresql://db/aiflow"}))
		require.NoError(t, err)
		require.Equal(t, Recorder{
			Log:        Log{Level: slog.LevelInfo, Format: "auto"},
			Database:   Database{URL: "postgresql://db/aiflow"},
			DBMaxConns: 2,
			PageSize:   1000,
		}, cfg)
	})
	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		t.Parallel()
		_, err := LoadRecorder(env(map[string]string{"DATABASE_URL": "mysql://root:hunter2@db/x", "AIFLOW_SFN_ENDPOINT": "ftp://x", "AIFLOW_RECORDER_PAGE_SIZE": "0"}))
		require.Equal(t, []string{"AIFLOW_RECORDER_PAGE_SIZE", "DATABASE_URL", "AIFLOW_SFN_ENDPOINT"}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "functions/recorder: 3 configuration problems:\n"), err.Error())
		require.NotContains(t, err.Error(), "hunter2")

		_, err = LoadRecorder(env(map[string]string{}))
		require.ErrorContains(t, err, "DATABASE_URL: is required")
	})
}

func TestLoadAPIFunction(t *testing.T) {
	t.Parallel()
	t.Run("Values", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadAPIFunction(env(map[string]string{
			"DATABASE_URL":                            "postgres://aiflow_api:secret@db/aiflow",
			"AIFLOW_AUTH_MODE":                        "authorizer",
			"AIFLOW_SFN_ENDPOINT":                     "http://127.0.0.1:8083",
			"AIFLOW_AI_STEP_QUEUE_URL":                "https://sqs.us-east-1.amazonaws.com/123456789012/ai",
			"AIFLOW_MCP_STEP_QUEUE_URL":               "https://sqs.us-east-1.amazonaws.com/123456789012/mcp",
			"AIFLOW_SERVICE_STEP_QUEUE_URL":           "https://sqs.us-east-1.amazonaws.com/123456789012/service",
			"AIFLOW_APPROVAL_QUEUE_URL":               "https://sqs.us-east-1.amazonaws.com/123456789012/approval",
			"AIFLOW_STATE_MACHINE_PREFIX":             "aiflow-prod-",
			"AIFLOW_STATE_MACHINE_ROLE_ARN":           "arn:aws:iam::123456789012:role/aiflow-sfn",
			"AIFLOW_STATE_MACHINE_LOG_GROUP_ARN":      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/aiflow-prod:*",
			"AIFLOW_STATE_MACHINE_LOG_LEVEL":          "all",
			"AIFLOW_STATE_MACHINE_LOG_EXECUTION_DATA": "true",
			"AIFLOW_STATE_MACHINE_TRACING":            "true",
			"AWS_LAMBDA_FUNCTION_VERSION":             "7",
			"AWS_LAMBDA_FUNCTION_NAME":                "aiflow-api",
		}))
		require.NoError(t, err)
		require.Equal(t, "postgres://aiflow_api:secret@db/aiflow", cfg.Database.URL)
		require.Equal(t, 2, cfg.DBMaxConns)
		require.True(t, cfg.Log.InLambda)
		require.Equal(t, AuthModeAuthorizer, cfg.Auth.Mode)
		require.Equal(t, "http://127.0.0.1:8083", cfg.SFNEndpoint)
		require.Equal(t, StepQueues{
			AI:       "https://sqs.us-east-1.amazonaws.com/123456789012/ai",
			MCP:      "https://sqs.us-east-1.amazonaws.com/123456789012/mcp",
			Service:  "https://sqs.us-east-1.amazonaws.com/123456789012/service",
			Approval: "https://sqs.us-east-1.amazonaws.com/123456789012/approval",
		}, cfg.Queues)
		require.Equal(t, "aiflow-prod-", cfg.StateMachinePrefix)
		require.Equal(t, "arn:aws:iam::123456789012:role/aiflow-sfn", cfg.StateMachineRoleARN)
		require.Equal(t, StateMachineLogs{
			LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/aiflow-prod:*", Level: "ALL", IncludeExecutionData: true,
		}, cfg.StateMachineLogs)
		require.True(t, cfg.StateMachineTracing)
		require.Equal(t, "7", cfg.Version)
		require.NotContains(t, cfg.LogValue().String(), "secret@")
	})
	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		t.Parallel()
		// The API's problems and the authentication's come in one error.
		_, err := LoadAPIFunction(env(map[string]string{
			"AIFLOW_DB_MAX_CONNS":  "0",
			"AIFLOW_AUTH_MODE":     "jwks",
			"AIFLOW_AUTH_HMAC_KEY": "hunter2",
		}))
		require.Equal(t, []string{
			"DATABASE_URL", "AIFLOW_DB_MAX_CONNS", "AIFLOW_AUTH_HMAC_KEY",
			"AIFLOW_AUTH_JWKS_URL", "AIFLOW_AUTH_ISSUER", "AIFLOW_AUTH_AUDIENCE",
		}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "functions/api: 6 configuration problems:\n"), err.Error())
		require.NotContains(t, err.Error(), "hunter2")
	})
}

func TestLoadSupport(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", 32)
	cfg, err := LoadSupport(env(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET":       secret,
		"AIFLOW_SUPPORT_ALLOWED_ORIGINS":    "https://console.example.com, http://localhost:3000",
		"AIFLOW_SUPPORT_REFUND_WINDOW":      "336h",
		"AIFLOW_SUPPORT_APPROVAL_THRESHOLD": "250.50",
		"AIFLOW_SUPPORT_TICKET_URL":         "https://support.example.com/tickets/",
	}), "aiflow mcp serve", true)
	require.NoError(t, err)
	require.Equal(t, Support{
		TokenSecret:            "ssssssssssssssssssssssssssssssss",
		AllowedOrigins:         []string{"https://console.example.com", "http://localhost:3000"},
		RefundWindow:           14 * 24 * time.Hour,
		ApprovalThresholdCents: 250_50,
		TicketURL:              "https://support.example.com/tickets/",
	}, cfg)
	require.NotContains(t, cfg.LogValue().String(), secret)

	cfg, err = LoadSupport(env(nil), "aiflow mcp serve", false)
	require.NoError(t, err, "stdio needs no secret")
	require.Equal(t, Support{}, cfg, "unset rules are the desk's defaults")

	for _, amount := range []string{"1.234", "0", "-5", "NaN", "Inf", "ten"} {
		_, err := LoadSupport(env(map[string]string{"AIFLOW_SUPPORT_APPROVAL_THRESHOLD": amount}), "x", false)
		require.ErrorContains(t, err, "is not a positive amount with at most two decimals", amount)
	}
}

func TestLoadMCPServer(t *testing.T) {
	t.Parallel()
	cfg, err := LoadMCPServer(env(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET": strings.Repeat("k", 40),
		"DATABASE_URL":                "postgres://aiflow_support@db:5432/aiflow",
		"AIFLOW_LOG_FORMAT":           "json",
		"AWS_LAMBDA_FUNCTION_VERSION": "3",
	}))
	require.NoError(t, err)
	require.Equal(t, "postgres://aiflow_support@db:5432/aiflow", cfg.Database.URL)
	require.Equal(t, "json", string(cfg.Log.Format))
	require.Equal(t, "3", cfg.Version)
	require.NotContains(t, cfg.LogValue().String(), "kkkk")

	_, err = LoadMCPServer(env(map[string]string{"AIFLOW_LOG_LEVEL": "loud"}))
	require.Equal(t, []string{"AIFLOW_SUPPORT_TOKEN_SECRET", "DATABASE_URL", "AIFLOW_LOG_LEVEL"}, vars(problems(t, err)))
	require.ErrorContains(t, err, "functions/mcpserver: 3 configuration problems")

	cfg, err = LoadMCPServer(env(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aiflow/mcp/support-token-AbCdEf",
		"DATABASE_URL":                    "postgres://aiflow_support@db:5432/aiflow",
	}))
	require.NoError(t, err, "the secret's ARN takes the secret's place")
	require.Equal(t, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aiflow/mcp/support-token-AbCdEf", cfg.TokenSecretARN)
	require.Empty(t, cfg.Support.TokenSecret)
	_, err = LoadMCPServer(env(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET_ARN": "aiflow/mcp/support-token",
		"AIFLOW_SUPPORT_TOKEN_SECRET":     strings.Repeat("k", 40),
		"DATABASE_URL":                    "postgres://aiflow_support@db:5432/aiflow",
	}))
	require.Equal(t, []string{"AIFLOW_SUPPORT_TOKEN_SECRET_ARN"}, vars(problems(t, err)))

	_, err = LoadMCPServer(env(map[string]string{
		"AIFLOW_SUPPORT_TOKEN_SECRET": "tiny-secret",
		"DATABASE_URL":                "mysql://root:hunter2@db/x",
	}))
	require.Equal(t, []string{"AIFLOW_SUPPORT_TOKEN_SECRET", "DATABASE_URL"}, vars(problems(t, err)))
	require.NotContains(t, err.Error(), "tiny-secret")
	require.NotContains(t, err.Error(), "hunter2")
}

func TestLoadHealthCheck(t *testing.T) {
	t.Parallel()
	cfg, err := LoadHealthCheck(env(map[string]string{"DATABASE_URL": "postgres://aiflow_registry:secret@db/aiflow", "AIFLOW_HEALTHCHECK_RUN_FOR": "30s"}))
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, cfg.RunFor)
	require.NotContains(t, fmt.Sprint(cfg.LogValue()), "secret")

	cfg, err = LoadHealthCheck(env(map[string]string{"DATABASE_URL": "postgresql://db/aiflow"}))
	require.NoError(t, err)
	require.Equal(t, HealthCheck{Log: Log{Level: slog.LevelInfo, Format: "auto"}, Database: Database{URL: "postgresql://db/aiflow"},
		DBMaxConns: 2, RunFor: DefaultHealthCheckRunFor}, cfg)

	_, err = LoadHealthCheck(env(map[string]string{"AIFLOW_HEALTHCHECK_RUN_FOR": "20m"}))
	require.Equal(t, []string{"AIFLOW_HEALTHCHECK_RUN_FOR", "DATABASE_URL"}, vars(problems(t, err)))
	require.ErrorContains(t, err, "is longer than 14m")
	require.True(t, strings.HasPrefix(err.Error(), "functions/healthcheck: 2 configuration problems:\n"), err.Error())
}
