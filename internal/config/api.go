package config

import "log/slog"

// API is the configuration of the functions/api Lambda, which serves the
// HTTP API from a shared database.
type API struct {
	// Database is DATABASE_URL, or AIFLOW_DATABASE_SECRET and its
	// companions; required.
	Database Database
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
	// DBMaxConns is AIFLOW_DB_MAX_CONNS (1 to 100, default 2), the size of
	// the connection pool. A Lambda serves one request at a time, and
	// every warm instance holds its pool, so it stays small.
	DBMaxConns int
}

// LoadAPI reads API from the environment through lookup. When variables
// are missing or invalid it returns an *Error listing all of them,
// together with an API that holds defaults in their place.
func LoadAPI(lookup LookupFunc) (API, error) {
	r := newReader(lookup)
	cfg := readAPI(r)
	return cfg, r.err("functions/api")
}

// readAPI reads the variables of API.
func readAPI(r *reader) API {
	return API{
		Database:   r.database(databaseParams{required: true, example: examplePostgresURL}),
		Log:        readLog(r),
		DBMaxConns: r.int("AIFLOW_DB_MAX_CONNS", 2, 1, 100),
	}
}

// LogValue shows the configuration in logs with the database password
// masked.
func (c API) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
		slog.Any("log", c.Log),
		slog.Int("db_max_conns", c.DBMaxConns),
	)
}
