package database

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/secrets"
)

// DefaultPort is the PostgreSQL port when neither AIFLOW_DATABASE_PORT
// nor the secret names one.
const DefaultPort = 5432

// PoolParams say how a Lambda function opens its connection pool.
type PoolParams struct {
	// Database is the function's configuration: DATABASE_URL, or the
	// secret of its credentials and where the server is.
	Database config.Database
	// MaxConns is the most connections the pool opens; 0 means pgxpool's
	// default.
	MaxConns int
	// Secrets reads Database.Secret; nil means Secrets Manager, reached
	// through the AWS SDK's default configuration (AWS_REGION,
	// AWS_ENDPOINT_URL_SECRETS_MANAGER and the credentials Lambda gives).
	Secrets secrets.Source
}

// Credentials are what a database secret holds: the JSON object of the
// secrets RDS manages and of those GenerateSecretString makes with a
// "username" in its template. Host, Port and DBName are optional.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Host     string `json:"host"`
	Port     int    `json:"-"`
	DBName   string `json:"dbname"`
}

// ParseCredentials reads a database secret's value. Its errors name the
// secret (id) and what is missing, never the value.
func ParseCredentials(id, value string) (Credentials, error) {
	var raw struct {
		Credentials
		Port json.RawMessage `json:"port"`
	}
	if err := json.Unmarshal([]byte(value), &raw); err != nil {
		return Credentials{}, fmt.Errorf("reading the database secret %q: its value is not a JSON object with username and password", id)
	}
	c := raw.Credentials
	if c.Username == "" || c.Password == "" {
		return Credentials{}, fmt.Errorf("reading the database secret %q: it has no username or no password", id)
	}
	if len(raw.Port) > 0 && string(raw.Port) != "null" {
		// RDS writes the port as a number; a hand-made secret may quote it.
		var s string
		if json.Unmarshal(raw.Port, &s) != nil {
			s = string(raw.Port)
		}
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return Credentials{}, fmt.Errorf("reading the database secret %q: its port is not a number from 1 to 65535", id)
		}
		c.Port = p
	}
	return c, nil
}

// OpenPool opens the pool a Lambda function (or `aiflow invoke`) works
// with, connecting lazily. With DATABASE_URL it connects with the URL's
// credentials. With AIFLOW_DATABASE_SECRET it reads the secret once now,
// so that a missing secret or server fails the cold start, and connects
// as the secret's user to AIFLOW_DATABASE_HOST (or the secret's host);
// every new connection reads the password again through p.Secrets, whose
// Secrets Manager source caches it for minutes, so a rotated password
// reaches the pool without a new cold start. The password never enters a
// URL, the environment or an error.
func OpenPool(ctx context.Context, p PoolParams) (*pgxpool.Pool, error) {
	db := p.Database
	if db.Secret == "" {
		if db.URL == "" {
			return nil, errors.New("opening the database pool: neither DATABASE_URL nor AIFLOW_DATABASE_SECRET is set")
		}
		cfg, err := pgxpool.ParseConfig(db.URL)
		if err != nil {
			return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
		}
		return newPool(ctx, cfg, p.MaxConns)
	}
	src := p.Secrets
	if src == nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration to read the database secret: %w", err)
		}
		src = secrets.NewSecretsManagerFromConfig(awsCfg, secrets.SecretsManagerOptions{})
	}
	creds, err := readCredentials(ctx, src, db.Secret)
	if err != nil {
		return nil, err
	}
	cfg, err := poolConfig(db, creds)
	if err != nil {
		return nil, err
	}
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		c, err := readCredentials(ctx, src, db.Secret)
		if err != nil {
			return err
		}
		cc.User, cc.Password = c.Username, c.Password
		return nil
	}
	return newPool(ctx, cfg, p.MaxConns)
}

// readCredentials reads and parses the secret id.
func readCredentials(ctx context.Context, src secrets.Source, id string) (Credentials, error) {
	v, err := src.Get(ctx, id)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the database secret (AIFLOW_DATABASE_SECRET): %w", err)
	}
	return ParseCredentials(id, v)
}

// poolConfig is the pool configuration of db's server with creds: the
// environment's host, port and database win over the secret's.
func poolConfig(db config.Database, creds Credentials) (*pgxpool.Config, error) {
	host := firstOf(db.Host, creds.Host)
	if host == "" {
		return nil, fmt.Errorf("opening the database pool: no host: set AIFLOW_DATABASE_HOST, or put a host in the secret %q", db.Secret)
	}
	name := firstOf(db.Name, creds.DBName)
	if name == "" {
		return nil, fmt.Errorf("opening the database pool: no database name: set AIFLOW_DATABASE_NAME, or put a dbname in the secret %q", db.Secret)
	}
	port := db.Port
	if port == 0 {
		port = creds.Port
	}
	if port == 0 {
		port = DefaultPort
	}
	sslMode := db.SSLMode
	if sslMode == "" {
		sslMode = config.DefaultDatabaseSSLMode
	}
	// The connection string carries no password: it is set on the parsed
	// configuration. Keyword/value form, so a host may be a socket folder.
	dsn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=%s",
		dsnValue(host), port, dsnValue(name), dsnValue(creds.Username), dsnValue(sslMode))
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("making the database configuration from AIFLOW_DATABASE_*: %w", err)
	}
	cfg.ConnConfig.Password = creds.Password
	return cfg, nil
}

func newPool(ctx context.Context, cfg *pgxpool.Config, maxConns int) (*pgxpool.Pool, error) {
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening the database pool: %w", err)
	}
	return pool, nil
}

// dsnValue quotes v for a keyword/value connection string.
func dsnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
