package recorder

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/telemetry"
)

// EnvConfig is the configuration of functions/recorder, read from the
// environment by LoadConfig.
type EnvConfig struct {
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log config.Log
	// DatabaseURL is DATABASE_URL, the postgres:// URL of the event store;
	// required.
	DatabaseURL string
	// DBMaxConns is AIFLOW_DB_MAX_CONNS (1 to 100, default 2), the size of
	// the pool of one function instance.
	DBMaxConns int
	// SFNEndpoint is AIFLOW_SFN_ENDPOINT: the Step Functions API to read
	// histories from, such as the local engine's; empty means AWS.
	SFNEndpoint string
	// PageSize is AIFLOW_RECORDER_PAGE_SIZE (1 to 1000, default 1000), the
	// history events asked for per GetExecutionHistory call.
	PageSize int
}

// LogValue shows the configuration in logs without the database password.
func (c EnvConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("log", c.Log),
		slog.String("database_url", telemetry.RedactURL(c.DatabaseURL)),
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.String("sfn_endpoint", c.SFNEndpoint),
		slog.Int("page_size", c.PageSize),
	)
}

// LoadConfig reads EnvConfig through lookup. When variables are missing or
// invalid it returns a *config.Error listing all of them, with defaults in
// their place.
func LoadConfig(lookup config.LookupFunc) (EnvConfig, error) {
	var problems []config.Problem
	get := func(key string) string {
		v, _ := lookup(key)
		return strings.TrimSpace(v)
	}
	problem := func(key, example, format string, args ...any) {
		problems = append(problems, config.Problem{Var: key, Problem: fmt.Sprintf(format, args...), Example: example})
	}
	oneOf := func(key, def string, allowed ...string) string {
		v := get(key)
		if v == "" {
			return def
		}
		if !slices.Contains(allowed, v) {
			problem(key, def, "%q is not one of %s", v, strings.Join(allowed, ", "))
			return def
		}
		return v
	}
	number := func(key string, def, lo, hi int) int {
		v := get(key)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			problem(key, strconv.Itoa(def), "%q is not a whole number from %d to %d", v, lo, hi)
			return def
		}
		return n
	}
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	c := EnvConfig{
		Log: config.Log{
			Level:  levels[oneOf("AIFLOW_LOG_LEVEL", "info", "debug", "info", "warn", "error")],
			Format: telemetry.LogFormat(oneOf("AIFLOW_LOG_FORMAT", "auto", "auto", "json", "text")),
		},
		DBMaxConns: number("AIFLOW_DB_MAX_CONNS", 2, 1, 100),
		PageSize:   number("AIFLOW_RECORDER_PAGE_SIZE", DefaultPageSize, 1, DefaultPageSize),
	}
	const exampleDB = "postgres://aiflow_engine:secret@localhost:5432/aiflow"
	switch u, err := url.Parse(get("DATABASE_URL")); {
	case get("DATABASE_URL") == "":
		problem("DATABASE_URL", exampleDB, "is required: the recorder writes histories to the event store")
	case err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql"):
		problem("DATABASE_URL", exampleDB, "is not a postgres:// URL") // the value may hold a password
	default:
		c.DatabaseURL = get("DATABASE_URL")
	}
	if v := get("AIFLOW_SFN_ENDPOINT"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problem("AIFLOW_SFN_ENDPOINT", "http://127.0.0.1:8083", "%q is not an http or https URL", v)
		} else {
			c.SFNEndpoint = v
		}
	}
	if len(problems) > 0 {
		return c, &config.Error{Binary: "functions/recorder", Problems: problems}
	}
	return c, nil
}

// NewFromEnv builds the Recorder functions/recorder runs, from the
// environment read through lookup (see EnvConfig), logging to logs (nil
// means os.Stderr): a pgx pool (connecting lazily), the event store on it,
// and a Step Functions client. The close function releases the pool.
// `aiflow invoke recorder` builds the same. It returns LoadConfig's errors
// and those of opening the clients.
func NewFromEnv(ctx context.Context, lookup config.LookupFunc, logs io.Writer) (*Recorder, func(), error) {
	cfg, err := LoadConfig(lookup)
	if err != nil {
		return nil, nil, err
	}
	logger := telemetry.NewLogger(telemetry.LoggerOptions{
		Level:    cfg.Log.Level,
		Format:   cfg.Log.Format,
		Writer:   logs,
		InLambda: telemetry.DetectLambda(lookup),
	})
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	poolCfg.MaxConns = int32(cfg.DBMaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the database pool: %w", err)
	}
	store, err := eventstore.Open(ctx, pool, eventstore.Options{Logger: logger})
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("opening the event store: %w", err)
	}
	client, err := awssfn.NewClient(ctx, cfg.SFNEndpoint, "")
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	r, err := New(Config{History: awssfn.New(client), Store: store, PageSize: cfg.PageSize, Logger: logger})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	logger.Info("recorder ready", "config", cfg)
	return r, pool.Close, nil
}
