package config

import (
	"log/slog"
	"strings"
)

// MigrateFunction is the configuration of functions/migrate (and `aiflow
// invoke migrate`), the custom resource that migrates the stack's
// database on deploys.
type MigrateFunction struct {
	// Log is AIFLOW_LOG_LEVEL and AIFLOW_LOG_FORMAT.
	Log Log
	// Database is the master user's: DATABASE_URL, or AIFLOW_DATABASE_SECRET
	// (the database's master secret) and its companions; required.
	Database Database
	// RoleSecrets is AIFLOW_DATABASE_ROLE_SECRETS: the ids (names or ARNs)
	// of the service roles' secrets, comma separated, each a JSON object
	// with the role's "username" and "password"; empty sets no role.
	RoleSecrets []string
}

// LoadMigrateFunction reads MigrateFunction from the environment through
// lookup. Every problem is listed in one *Error naming functions/migrate.
func LoadMigrateFunction(lookup LookupFunc) (MigrateFunction, error) {
	r := newReader(lookup)
	c := MigrateFunction{
		Log: readLog(r),
		Database: r.database(databaseParams{
			required: true,
			why:      "the migrations run as the database's master user",
			example:  "postgres://aiflow_admin:secret@localhost:5432/aiflow",
		}),
	}
	for id := range strings.SplitSeq(r.string("AIFLOW_DATABASE_ROLE_SECRETS", ""), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.RoleSecrets = append(c.RoleSecrets, id)
		}
	}
	return c, r.err("functions/migrate")
}

// LogValue shows the configuration in logs without the database password.
func (c MigrateFunction) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("log", c.Log),
		slog.Attr{Key: "database", Value: c.Database.LogValue()},
		slog.String("role_secrets", strings.Join(c.RoleSecrets, ",")),
	)
}
