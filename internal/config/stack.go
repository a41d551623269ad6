package config

import (
	"log/slog"
	"time"
)

// Stack is the configuration of `aiflow stack`, which runs template.yaml on
// this machine. Its flags override these values.
type Stack struct {
	// DatabaseURL is DATABASE_URL, a superuser's postgres:// URL with a TCP
	// host: the server that stands in for Aurora. Empty means a cluster of
	// the stack's own under DataDir/stack/pg.
	DatabaseURL string
	// DataDir is AIFLOW_DATA_DIR (default .aiflow); the stack keeps its
	// files in DataDir/stack.
	DataDir string
	// PGBinDir is AIFLOW_PG_BINDIR, an existing directory or empty.
	PGBinDir string
	// APIAddr is AIFLOW_STACK_API_ADDR (default 127.0.0.1:3000), the
	// host:port of the template's HTTP API.
	APIAddr string
	// MaxInstances is AIFLOW_STACK_MAX_INSTANCES (default 4, 1 to 64): the
	// most instances of one function at once.
	MaxInstances int
	// ShutdownTimeout is AIFLOW_SHUTDOWN_TIMEOUT (default 30s), how long a
	// stop waits for batches and requests in flight.
	ShutdownTimeout time.Duration
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
}

// DefaultStackAPIAddr is Stack.APIAddr when AIFLOW_STACK_API_ADDR is unset:
// the port `sam local start-api` uses.
const DefaultStackAPIAddr = "127.0.0.1:3000"

// LoadStack reads Stack from the environment through lookup. When
// variables are invalid it returns an *Error naming aiflow stack and
// listing all of them, together with a Stack that holds defaults in their
// place.
func LoadStack(lookup LookupFunc) (Stack, error) {
	r := newReader(lookup)
	cfg := Stack{
		DatabaseURL:     r.postgresURL("DATABASE_URL", false),
		DataDir:         r.string("AIFLOW_DATA_DIR", defaultDataDir),
		PGBinDir:        r.dir("AIFLOW_PG_BINDIR", examplePGBinDir),
		APIAddr:         r.hostPort("AIFLOW_STACK_API_ADDR", DefaultStackAPIAddr),
		MaxInstances:    r.wholeNumber("AIFLOW_STACK_MAX_INSTANCES", 4, 1, 64),
		ShutdownTimeout: r.duration("AIFLOW_SHUTDOWN_TIMEOUT", 30*time.Second),
		Log:             readLog(r),
	}
	return cfg, r.err("aiflow stack")
}

// LogValue shows the configuration in logs with the database password
// masked.
func (c Stack) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "database_url", Value: redactedURL(c.DatabaseURL)},
		slog.String("data_dir", c.DataDir),
		slog.String("pg_bindir", c.PGBinDir),
		slog.String("api_addr", c.APIAddr),
		slog.Int("max_instances", c.MaxInstances),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Any("log", c.Log),
	)
}
