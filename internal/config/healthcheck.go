package config

import (
	"log/slog"
	"time"
)

// HealthCheck is the configuration of functions/healthcheck (and `aiflow
// invoke healthcheck`), which runs the registered services' active health
// checks for most of a minute each time the schedule invokes it.
type HealthCheck struct {
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
	// Database is DATABASE_URL, or AIFLOW_DATABASE_SECRET and its
	// companions: the registry and the event store; required.
	Database Database
	// DBMaxConns is AIFLOW_DB_MAX_CONNS (1 to 100, default 2), the size of
	// the pool of one function instance.
	DBMaxConns int
	// RunFor is AIFLOW_HEALTHCHECK_RUN_FOR (default 55s, at most 14m): how
	// long one invocation checks, at each service's interval, before it
	// returns; the function's timeout must be longer, and the schedule's
	// rate about as long.
	RunFor time.Duration
}

// DefaultHealthCheckRunFor is HealthCheck.RunFor when
// AIFLOW_HEALTHCHECK_RUN_FOR is unset: most of the minute between two
// scheduled invocations.
const DefaultHealthCheckRunFor = 55 * time.Second

// LoadHealthCheck reads HealthCheck from the environment through lookup.
// When variables are missing or invalid it returns an *Error naming
// functions/healthcheck and listing all of them, with defaults in their
// place.
func LoadHealthCheck(lookup LookupFunc) (HealthCheck, error) {
	r := newReader(lookup)
	c := HealthCheck{
		Log:        readLog(r),
		DBMaxConns: r.wholeNumber("AIFLOW_DB_MAX_CONNS", 2, 1, 100),
		RunFor:     r.duration("AIFLOW_HEALTHCHECK_RUN_FOR", DefaultHealthCheckRunFor),
	}
	if c.RunFor > 14*time.Minute {
		r.problem("AIFLOW_HEALTHCHECK_RUN_FOR", DefaultHealthCheckRunFor.String(), "AIFLOW_HEALTHCHECK_RUN_FOR=%s is longer than 14m (a Lambda function runs at most 15 minutes)", c.RunFor)
		c.RunFor = DefaultHealthCheckRunFor
	}
	c.Database = r.database(databaseParams{
		required: true,
		why:      "the health checker reads the registry and writes its instances' health",
		example:  "postgres://aiflow_registry:secret@localhost:5432/aiflow",
	})
	return c, r.err("functions/healthcheck")
}

// LogValue shows the configuration in logs without the database password.
func (c HealthCheck) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("log", c.Log),
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.Duration("run_for", c.RunFor),
	)
}
