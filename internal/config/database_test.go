package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDatabaseFromSecret(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aiflow-api-db-AbCdEf"
	t.Run("Everything", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadRecorder(env(map[string]string{
			"AIFLOW_DATABASE_SECRET":  arn,
			"AIFLOW_DATABASE_HOST":    "aiflow.cluster-abc.us-east-1.rds.amazonaws.com",
			"AIFLOW_DATABASE_PORT":    "6432",
			"AIFLOW_DATABASE_NAME":    "aiflow",
			"AIFLOW_DATABASE_SSLMODE": "verify-full",
		}))
		require.NoError(t, err)
		require.Equal(t, Database{Secret: arn, Host: "aiflow.cluster-abc.us-east-1.rds.amazonaws.com", Port: 6432, Name: "aiflow", SSLMode: "verify-full"}, cfg.Database)
		require.True(t, cfg.Database.IsSet())
		require.Contains(t, cfg.LogValue().String(), arn)
	})
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadAPI(env(map[string]string{"AIFLOW_DATABASE_SECRET": "aiflow/api"}))
		require.NoError(t, err)
		require.Equal(t, Database{Secret: "aiflow/api", SSLMode: "require"}, cfg.Database, "host, port and name may come from the secret")
	})
	t.Run("StepWorkersNeedNone", func(t *testing.T) {
		t.Parallel()
		cfg, err := LoadMCPStep(env(nil))
		require.NoError(t, err)
		require.False(t, cfg.Database.IsSet())
		cfg, err = LoadMCPStep(env(map[string]string{"AIFLOW_DATABASE_SECRET": "aiflow/worker", "AIFLOW_DATABASE_HOST": "db"}))
		require.NoError(t, err)
		require.Equal(t, Database{Secret: "aiflow/worker", Host: "db", SSLMode: "require"}, cfg.Database)
	})
	t.Run("Problems", func(t *testing.T) {
		t.Parallel()
		_, err := LoadMCPServer(env(map[string]string{
			"AIFLOW_SUPPORT_TOKEN_SECRET": "0123456789abcdef0123456789abcdef",
			"AIFLOW_DATABASE_SECRET":      "aiflow/support",
			"AIFLOW_DATABASE_PORT":        "99999",
			"AIFLOW_DATABASE_SSLMODE":     "sometimes",
		}))
		require.Equal(t, []string{"AIFLOW_DATABASE_PORT", "AIFLOW_DATABASE_SSLMODE"}, vars(problems(t, err)))

		_, err = LoadAPI(env(map[string]string{"AIFLOW_DATABASE_SECRET": "aiflow/api", "DATABASE_URL": "postgres://u:hunter2@db/aiflow"}))
		require.Equal(t, []string{"AIFLOW_DATABASE_SECRET"}, vars(problems(t, err)))
		require.ErrorContains(t, err, "not both")
		require.NotContains(t, err.Error(), "hunter2")

		_, err = LoadAIStep(env(map[string]string{"AIFLOW_DATABASE_HOST": "db", "AIFLOW_AI_PROVIDERS": "bedrock"}))
		require.Equal(t, []string{"AIFLOW_DATABASE_HOST"}, vars(problems(t, err)))
		require.ErrorContains(t, err, "AIFLOW_DATABASE_SECRET is not")

		_, err = LoadRecorder(env(nil))
		require.ErrorContains(t, err, "DATABASE_URL: is required: the recorder writes histories to the event store (or AIFLOW_DATABASE_SECRET")
	})
}

func TestLoadMigrateFunction(t *testing.T) {
	t.Parallel()
	cfg, err := LoadMigrateFunction(env(map[string]string{
		"AIFLOW_DATABASE_SECRET":       "aiflow/master",
		"AIFLOW_DATABASE_HOST":         "db",
		"AIFLOW_DATABASE_NAME":         "aiflow",
		"AIFLOW_DATABASE_ROLE_SECRETS": "aiflow/api, aiflow/engine,,aiflow/worker",
	}))
	require.NoError(t, err)
	require.Equal(t, Database{Secret: "aiflow/master", Host: "db", Name: "aiflow", SSLMode: "require"}, cfg.Database)
	require.Equal(t, []string{"aiflow/api", "aiflow/engine", "aiflow/worker"}, cfg.RoleSecrets)
	require.Contains(t, cfg.LogValue().String(), "aiflow/engine")

	_, err = LoadMigrateFunction(env(nil))
	require.ErrorContains(t, err, "functions/migrate: ")
	require.ErrorContains(t, err, "DATABASE_URL: is required: the migrations run as the database's master user")
}
