package database

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/secretsapi"
)

// secretBundle is the Secrets Manager API on loopback, a client of it, a
// role of its own on the test server and the server's address.
type secretBundle struct {
	endpoint string
	client   *secretsmanager.Client
	role     string
	host     string
	port     int
	dbname   string
	admin    string
}

func setupSecrets(t *testing.T) *secretBundle {
	t.Helper()
	return setupSecretsOn(t, pgclustertest.AdminURL(t))
}

// passwordCluster starts a cluster of the test's own that checks
// passwords (the shared throwaway one trusts local logins) and returns its
// superuser's URL.
func passwordCluster(t *testing.T) string {
	t.Helper()
	bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR"))
	require.NoError(t, err)
	c, err := pgcluster.Start(t.Context(), pgcluster.Options{Binaries: bins, Dir: filepath.Join(pgclustertest.ReachableTempDir(t), "pg")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
	return c.URL("postgres")
}

func setupSecretsOn(t *testing.T, admin string) *secretBundle {
	t.Helper()
	srv := httptest.NewServer(secretsapi.New(secretsapi.NewMemoryStore(), secretsapi.Options{}))
	t.Cleanup(srv.Close)
	b := &secretBundle{endpoint: srv.URL, client: secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "example-secret-key", ""),
		BaseEndpoint: aws.String(srv.URL),
	})}
	cc, err := pgconn.ParseConfig(admin)
	require.NoError(t, err)
	b.admin, b.host, b.port, b.dbname = admin, cc.Host, int(cc.Port), cc.Database
	// Roles are the cluster's, so each test makes its own.
	b.role = "aiflow_pool_" + randomHex(4)
	adminSQL(t, admin, "CREATE ROLE "+b.role+" LOGIN PASSWORD 'first-password'")
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+b.role)
			_ = conn.Close(context.Background())
		}
	})
	return b
}

func adminSQL(t *testing.T, admin, stmt string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), admin)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), stmt)
	require.NoError(t, err)
}

// put makes (or changes) the secret name with the JSON of value.
func (b *secretBundle) put(t *testing.T, name string, value map[string]any) {
	t.Helper()
	raw, err := json.Marshal(value)
	require.NoError(t, err)
	_, err = b.client.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(raw))})
	if err != nil {
		_, err = b.client.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(string(raw))})
	}
	require.NoError(t, err)
}

func currentUser(t *testing.T, ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) string {
	t.Helper()
	var user string
	require.NoError(t, q.QueryRow(ctx, `SELECT current_user`).Scan(&user))
	return user
}

func TestOpenPoolFromSecret(t *testing.T) {
	t.Parallel()
	b := setupSecretsOn(t, passwordCluster(t))
	ctx := t.Context()
	// As RDS writes it: the port a number, the host and the database in it.
	b.put(t, "aiflow/api-db", map[string]any{"username": b.role, "password": "first-password", "host": b.host, "port": b.port, "dbname": b.dbname, "engine": "postgres"})
	clock := clocktest.NewManual(time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC))
	src := secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{NowFunc: clock.Now})

	pool, err := OpenPool(ctx, PoolParams{Database: config.Database{Secret: "aiflow/api-db", SSLMode: "disable"}, MaxConns: 3, Secrets: src})
	require.NoError(t, err)
	defer pool.Close()
	require.Equal(t, b.role, currentUser(t, ctx, pool))
	require.EqualValues(t, 3, pool.Config().MaxConns)
	require.NotContains(t, pool.Config().ConnString(), "first-password", "the password is in no URL")

	// The password is rotated: the database first, then the secret. New
	// connections use the new one once the cache's copy is older than its
	// TTL, without a new cold start.
	adminSQL(t, b.admin, "ALTER ROLE "+b.role+" PASSWORD 'second-password'")
	b.put(t, "aiflow/api-db", map[string]any{"username": b.role, "password": "second-password", "host": b.host, "port": b.port, "dbname": b.dbname})
	pool.Reset() // the open connections go; the next ones log in anew
	_, err = pool.Exec(ctx, "SELECT 1")
	require.ErrorContains(t, err, "password authentication failed", "the cached password is the old one")
	clock.Advance(secrets.DefaultTTL)
	require.Equal(t, b.role, currentUser(t, ctx, pool))
}

func TestOpenPoolEnvironmentWinsOverSecret(t *testing.T) {
	t.Parallel()
	b := setupSecrets(t)
	ctx := t.Context()
	// As GenerateSecretString makes it: only the username and password;
	// the host and the database come from the function's environment.
	b.put(t, "aiflow/worker-db", map[string]any{"username": b.role, "password": "first-password", "host": "not-this-host.invalid", "port": "1"})
	src := secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{})
	pool, err := OpenPool(ctx, PoolParams{Database: config.Database{Secret: "aiflow/worker-db", Host: b.host, Port: b.port, Name: b.dbname, SSLMode: "disable"}, Secrets: src})
	require.NoError(t, err)
	defer pool.Close()
	require.Equal(t, b.role, currentUser(t, ctx, pool))
}

func TestOpenPoolErrors(t *testing.T) {
	t.Parallel()
	b := setupSecrets(t)
	ctx := t.Context()
	src := secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{})

	_, err := OpenPool(ctx, PoolParams{Database: config.Database{Secret: "aiflow/missing", Host: b.host}, Secrets: src})
	require.ErrorIs(t, err, secrets.ErrNotFound)
	require.ErrorContains(t, err, "AIFLOW_DATABASE_SECRET")

	b.put(t, "aiflow/no-host", map[string]any{"username": b.role, "password": "hunter2-pw"})
	_, err = OpenPool(ctx, PoolParams{Database: config.Database{Secret: "aiflow/no-host", Name: "aiflow"}, Secrets: src})
	require.ErrorContains(t, err, "no host: set AIFLOW_DATABASE_HOST")
	_, err = OpenPool(ctx, PoolParams{Database: config.Database{Secret: "aiflow/no-host", Host: "db"}, Secrets: src})
	require.ErrorContains(t, err, "no database name: set AIFLOW_DATABASE_NAME")
	require.NotContains(t, err.Error(), "hunter2")

	_, err = OpenPool(ctx, PoolParams{})
	require.ErrorContains(t, err, "neither DATABASE_URL nor AIFLOW_DATABASE_SECRET")
}

func TestParseCredentials(t *testing.T) {
	t.Parallel()
	c, err := ParseCredentials("s", `{"username":"u","password":"p","host":"h","port":6432,"dbname":"d"}`)
	require.NoError(t, err)
	require.Equal(t, Credentials{Username: "u", Password: "p", Host: "h", Port: 6432, DBName: "d"}, c)
	c, err = ParseCredentials("s", `{"username":"u","password":"p","port":"5433"}`)
	require.NoError(t, err)
	require.Equal(t, 5433, c.Port)
	for _, bad := range []string{`hunter2`, `{"username":"u"}`, `{"password":"hunter2"}`, `{"username":"u","password":"hunter2","port":"x"}`, `{"username":"u","password":"hunter2","port":70000}`} {
		_, err := ParseCredentials("aiflow/db", bad)
		require.Error(t, err, bad)
		require.ErrorContains(t, err, `"aiflow/db"`)
		require.NotContains(t, err.Error(), "hunter2")
	}
}

// TestOpenPoolThroughTheSDKDefaults reads the secret as a function does
// on Lambda or under `aiflow stack`: no source given, so OpenPool loads
// the SDK's default configuration, which points the Secrets Manager client
// at AWS_ENDPOINT_URL_SECRETS_MANAGER. Not parallel: it sets the process's
// environment.
func TestOpenPoolThroughTheSDKDefaults(t *testing.T) {
	b := setupSecrets(t)
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": b.endpoint,
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "example-secret-key",
		"AWS_SESSION_TOKEN":                "",
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  empty,
		"AWS_SHARED_CREDENTIALS_FILE":      empty,
		"AWS_ENDPOINT_URL":                 "",
	} {
		t.Setenv(k, v)
	}
	b.put(t, "aiflow/recorder-db", map[string]any{"username": b.role, "password": "first-password"})
	pool, err := OpenPool(t.Context(), PoolParams{Database: config.Database{Secret: "aiflow/recorder-db", Host: b.host, Port: b.port, Name: b.dbname, SSLMode: "disable"}})
	require.NoError(t, err)
	defer pool.Close()
	require.Equal(t, b.role, currentUser(t, t.Context(), pool))
}

func TestOpenPoolFromURL(t *testing.T) {
	t.Parallel()
	pool, err := OpenPool(t.Context(), PoolParams{Database: config.Database{URL: pgclustertest.AdminURL(t)}, MaxConns: 2})
	require.NoError(t, err)
	defer pool.Close()
	require.NotEmpty(t, currentUser(t, t.Context(), pool))
	require.EqualValues(t, 2, pool.Config().MaxConns)
}
