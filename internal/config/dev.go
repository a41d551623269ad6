package config

import (
	"log/slog"
	"time"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// Dev is the configuration of `aiflow dev`, which runs the whole system on
// one machine.
type Dev struct {
	// DatabaseURL is DATABASE_URL, a postgres:// URL; empty means start a
	// local PostgreSQL cluster under DataDir.
	DatabaseURL string
	// DataDir is AIFLOW_DATA_DIR (default .aiflow), where local state and
	// the local cluster live.
	DataDir string
	// HTTPAddr is AIFLOW_HTTP_ADDR (default 127.0.0.1:8080), the host:port
	// the HTTP API listens on.
	HTTPAddr string
	// PGBinDir is AIFLOW_PG_BINDIR, an existing directory holding initdb
	// and postgres; empty means search the usual places.
	PGBinDir string
	// ShutdownTimeout is AIFLOW_SHUTDOWN_TIMEOUT (default 10s), how long a
	// graceful shutdown may take.
	ShutdownTimeout time.Duration
	// EngineAddr is AIFLOW_ENGINE_ADDR (default 127.0.0.1:8083), the
	// host:port of the local engine's Step Functions API.
	EngineAddr string
	// AIScript is AIFLOW_AI_SCRIPT (default examples/scripts/scripted.yaml
	// when that file exists): the script the scripted provider answers
	// every model of ai steps from. "none" makes ai steps call the
	// providers their models name.
	AIScript string
	// HMACKey is AIFLOW_AUTH_HMAC_KEY, at least 32 bytes: the key that
	// signs development tokens; empty means one made once and kept in
	// DataDir.
	HMACKey telemetry.Secret
	// RateLimit is AIFLOW_RATE_LIMIT (default 50, 1 to 100000), requests
	// a second each principal may send the API; RateBurst is
	// AIFLOW_RATE_BURST (default 100, 1 to 100000), its burst. As for the
	// API function.
	RateLimit, RateBurst int
	// Workers are the in-process step workers' settings.
	Workers LocalWorkers
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// DefaultAIScript is the script aiflow dev answers models from when
// AIFLOW_AI_SCRIPT is unset and the file exists.
const DefaultAIScript = "examples/scripts/scripted.yaml"

// LoadDev reads Dev from the environment through lookup, the file
// AIFLOW_MCP_CONFIG names included. When variables
// are invalid it returns an *Error listing all of them, together with a
// Dev that holds defaults in their place.
func LoadDev(lookup LookupFunc) (Dev, error) {
	r := newReader(lookup)
	cfg := Dev{
		DatabaseURL:     r.postgresURL("DATABASE_URL", false),
		DataDir:         r.string("AIFLOW_DATA_DIR", defaultDataDir),
		HTTPAddr:        r.hostPort("AIFLOW_HTTP_ADDR", "127.0.0.1:8080"),
		PGBinDir:        r.dir("AIFLOW_PG_BINDIR", examplePGBinDir),
		ShutdownTimeout: r.duration("AIFLOW_SHUTDOWN_TIMEOUT", 10*time.Second),
		EngineAddr:      r.hostPort("AIFLOW_ENGINE_ADDR", DefaultEngineAddr),
		AIScript:        r.string("AIFLOW_AI_SCRIPT", ""),
		HMACKey:         r.devHMACKey(),
	}
	cfg.RateLimit, cfg.RateBurst = readRateLimit(r)
	cfg.Workers = readLocalWorkers(r)
	cfg.Log = readLog(r)
	return cfg, r.err("aiflow dev")
}

// LogValue shows the configuration in logs with the database password
// masked.
func (c Dev) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "database_url", Value: redactedURL(c.DatabaseURL)},
		slog.String("data_dir", c.DataDir),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("pg_bindir", c.PGBinDir),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.String("engine_addr", c.EngineAddr),
		slog.String("ai_script", c.AIScript),
		slog.Bool("hmac_key_set", c.HMACKey != ""),
		slog.Int("rate_limit", c.RateLimit),
		slog.Int("rate_burst", c.RateBurst),
		slog.Any("workers", c.Workers),
		slog.Any("log", c.Log),
	)
}

// Migrate is the configuration of `aiflow migrate`, which applies database
// migrations. It reads the same variables as Dev.
type Migrate struct {
	// DatabaseURL is DATABASE_URL; empty means the local cluster under
	// DataDir.
	DatabaseURL string
	// DataDir is AIFLOW_DATA_DIR (default .aiflow).
	DataDir string
	// PGBinDir is AIFLOW_PG_BINDIR, an existing directory or empty.
	PGBinDir string
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// LoadMigrate reads Migrate from the environment through lookup. When
// variables are invalid it returns an *Error listing all of them, together
// with a Migrate that holds defaults in their place.
func LoadMigrate(lookup LookupFunc) (Migrate, error) { return loadMigrate(lookup, "aiflow migrate") }

// LoadReplay reads the configuration of `aiflow replay`, which needs the
// same variables as `aiflow migrate`; its errors name aiflow replay.
func LoadReplay(lookup LookupFunc) (Migrate, error) { return loadMigrate(lookup, "aiflow replay") }

func loadMigrate(lookup LookupFunc, binary string) (Migrate, error) {
	r := newReader(lookup)
	cfg := readMigrate(r)
	return cfg, r.err(binary)
}

// readMigrate reads the variables of Migrate.
func readMigrate(r *reader) Migrate {
	return Migrate{
		DatabaseURL: r.postgresURL("DATABASE_URL", false),
		DataDir:     r.string("AIFLOW_DATA_DIR", defaultDataDir),
		PGBinDir:    r.dir("AIFLOW_PG_BINDIR", examplePGBinDir),
		Log:         readLog(r),
	}
}

// LogValue shows the configuration in logs with the database password
// masked.
func (c Migrate) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "database_url", Value: redactedURL(c.DatabaseURL)},
		slog.String("data_dir", c.DataDir),
		slog.String("pg_bindir", c.PGBinDir),
		slog.Any("log", c.Log),
	)
}
