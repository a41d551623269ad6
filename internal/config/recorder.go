package config

import "log/slog"

// Recorder is the configuration of functions/recorder (and `aiflow invoke
// recorder`), which copies Step Functions histories into the event store.
type Recorder struct {
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
	// Database is DATABASE_URL, or AIFLOW_DATABASE_SECRET and its
	// companions: the event store; required.
	Database Database
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

// DefaultRecorderPageSize is Recorder.PageSize when
// AIFLOW_RECORDER_PAGE_SIZE is unset: the most GetExecutionHistory returns.
const DefaultRecorderPageSize = 1000

// LoadRecorder reads Recorder from the environment through lookup. When
// variables are missing or invalid it returns an *Error naming
// functions/recorder and listing all of them, with defaults in their
// place.
func LoadRecorder(lookup LookupFunc) (Recorder, error) {
	r := newReader(lookup)
	c := Recorder{
		Log:        readLog(r),
		DBMaxConns: r.wholeNumber("AIFLOW_DB_MAX_CONNS", 2, 1, 100),
		PageSize:   r.wholeNumber("AIFLOW_RECORDER_PAGE_SIZE", DefaultRecorderPageSize, 1, DefaultRecorderPageSize),
	}
	c.Database = r.database(databaseParams{
		required: true,
		why:      "the recorder writes histories to the event store",
		example:  "postgres://aiflow_engine:secret@localhost:5432/aiflow",
	})
	c.SFNEndpoint = r.httpURL("AIFLOW_SFN_ENDPOINT", "http://127.0.0.1:8083")
	return c, r.err("functions/recorder")
}

// LogValue shows the configuration in logs without the database password.
func (c Recorder) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("log", c.Log),
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.String("sfn_endpoint", c.SFNEndpoint),
		slog.Int("page_size", c.PageSize),
	)
}
