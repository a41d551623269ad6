package config

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadServiceStepDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadServiceStep(env(map[string]string{"DATABASE_URL": "postgres://u:p@localhost/aiflow"}))
	require.NoError(t, err)
	require.Equal(t, ServiceStep{
		Step: Step{
			Log:            Log{Level: slog.LevelInfo, Format: "auto"},
			Heartbeat:      20 * time.Second,
			DeadlineMargin: 3 * time.Second,
			Database:       Database{URL: "postgres://u:p@localhost/aiflow"},
			Blobs:          noBlobs,
		},
		Secrets: SecretsEnv,
		ServiceCalls: ServiceCalls{
			MaxAttempts:     3,
			Refresh:         time.Second,
			BreakerFailures: 5,
			BreakerCoolDown: 30 * time.Second,
			Egress:          Egress{MaxResponseBytes: 1 << 20, Timeout: 30 * time.Second},
		},
	}, c)
}

func TestLoadServiceStepReadsEverything(t *testing.T) {
	t.Parallel()
	c, err := LoadServiceStep(env(map[string]string{
		"AIFLOW_DATABASE_SECRET":           "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aiflow-worker",
		"AIFLOW_DATABASE_HOST":             "db.internal",
		"AIFLOW_DATABASE_NAME":             "aiflow",
		"AIFLOW_SERVICE_SECRETS":           "secretsmanager",
		"AIFLOW_SERVICE_MAX_ATTEMPTS":      "5",
		"AIFLOW_SERVICE_REFRESH":           "250ms",
		"AIFLOW_SERVICE_BREAKER_FAILURES":  "3",
		"AIFLOW_SERVICE_BREAKER_COOLDOWN":  "1m",
		"AIFLOW_EGRESS_MAX_RESPONSE_BYTES": "65536",
		"AIFLOW_EGRESS_TIMEOUT":            "10s",
		"AWS_DEFAULT_REGION":               "eu-west-1",
		"AIFLOW_SFN_ENDPOINT":              "http://127.0.0.1:8083",
	}))
	require.NoError(t, err)
	require.Equal(t, SecretsManager, c.Secrets)
	require.Equal(t, 5, c.MaxAttempts)
	require.Equal(t, 250*time.Millisecond, c.Refresh)
	require.Equal(t, 3, c.BreakerFailures)
	require.Equal(t, time.Minute, c.BreakerCoolDown)
	require.Equal(t, Egress{MaxResponseBytes: 65536, Timeout: 10 * time.Second}, c.Egress)
	require.Equal(t, "eu-west-1", c.AWSRegion)
	require.Equal(t, "db.internal", c.Database.Host)
	require.Equal(t, "http://127.0.0.1:8083", c.SFNEndpoint)
}

func TestLoadServiceStepProblems(t *testing.T) {
	t.Parallel()
	_, err := LoadServiceStep(env(map[string]string{
		"AIFLOW_SERVICE_MAX_ATTEMPTS":      "0",
		"AIFLOW_SERVICE_REFRESH":           "1h",
		"AIFLOW_EGRESS_MAX_RESPONSE_BYTES": "12",
		"AIFLOW_SERVICE_SECRETS":           "vault",
	}))
	require.Error(t, err)
	for _, want := range []string{
		"functions/servicestep",
		"DATABASE_URL: is required: the service registry is read from the database",
		"AIFLOW_SERVICE_MAX_ATTEMPTS",
		"AIFLOW_SERVICE_REFRESH",
		"AIFLOW_EGRESS_MAX_RESPONSE_BYTES",
		`"vault" is neither env nor secretsmanager`,
	} {
		require.ErrorContains(t, err, want)
	}
}

func TestServiceStepLogValueHidesThePassword(t *testing.T) {
	t.Parallel()
	c, err := LoadServiceStep(env(map[string]string{"DATABASE_URL": "postgres://u:hunter2@localhost/aiflow"}))
	require.NoError(t, err)
	require.NotContains(t, c.LogValue().String(), "hunter2")
	require.Contains(t, c.LogValue().String(), "max_attempts=3")
}
