package config

import (
	"log/slog"
	"strings"
)

// Database is where a Lambda function's database is and how it logs in,
// read the same way by every function that opens one (internal/database's
// OpenPool connects with it). Either URL is set (local runs), or Secret
// names the Secrets Manager secret holding the credentials, which are read
// at cold start and never travel through the environment.
type Database struct {
	// URL is DATABASE_URL, a postgres:// URL with the credentials in it.
	URL string
	// Secret is AIFLOW_DATABASE_SECRET, the id (name or ARN) of a Secrets
	// Manager secret whose JSON object holds "username" and "password",
	// and optionally "host", "port" and "dbname" as the secrets RDS
	// manages do.
	Secret string
	// Host is AIFLOW_DATABASE_HOST; empty means the secret's "host". It
	// wins over the secret's, so an RDS Proxy endpoint can stand in front.
	Host string
	// Port is AIFLOW_DATABASE_PORT; 0 means the secret's "port", or 5432.
	Port int
	// Name is AIFLOW_DATABASE_NAME, the database; empty means the
	// secret's "dbname".
	Name string
	// SSLMode is AIFLOW_DATABASE_SSLMODE (default require).
	SSLMode string
}

// DefaultDatabaseSSLMode is Database.SSLMode when AIFLOW_DATABASE_SSLMODE
// is unset: Aurora and RDS accept TLS, and nothing on the way may read it.
const DefaultDatabaseSSLMode = "require"

// DatabaseSSLModes are the values AIFLOW_DATABASE_SSLMODE accepts: those
// of libpq's sslmode.
var DatabaseSSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// IsSet reports whether the function has a database: DATABASE_URL or
// AIFLOW_DATABASE_SECRET.
func (d Database) IsSet() bool { return d.URL != "" || d.Secret != "" }

// LogValue shows the database without the password: the URL redacted, the
// secret by its id (an id is not secret).
func (d Database) LogValue() slog.Value {
	if d.Secret == "" {
		return slog.GroupValue(slog.Attr{Key: "url", Value: redactedURL(d.URL)})
	}
	return slog.GroupValue(
		slog.String("secret", d.Secret),
		slog.String("host", d.Host),
		slog.Int("port", d.Port),
		slog.String("name", d.Name),
		slog.String("sslmode", d.SSLMode),
	)
}

// databaseVars are the variables of the secret form of Database.
var databaseVars = []string{"AIFLOW_DATABASE_SECRET", "AIFLOW_DATABASE_HOST", "AIFLOW_DATABASE_PORT", "AIFLOW_DATABASE_NAME", "AIFLOW_DATABASE_SSLMODE"}

// databaseParams say how a function's reader reads its Database.
type databaseParams struct {
	// required reports a problem when neither DATABASE_URL nor
	// AIFLOW_DATABASE_SECRET is set, saying why.
	required bool
	why      string
	// example is a DATABASE_URL for the function's own role.
	example string
}

// database reads a function's Database: DATABASE_URL (a postgres:// URL
// naming a host), or AIFLOW_DATABASE_SECRET with AIFLOW_DATABASE_HOST,
// AIFLOW_DATABASE_PORT, AIFLOW_DATABASE_NAME and AIFLOW_DATABASE_SSLMODE.
// Setting both forms is a problem: which one connects would be a guess.
func (r *reader) database(p databaseParams) Database {
	_, hasURL := r.get("DATABASE_URL")
	secret, hasSecret := r.get("AIFLOW_DATABASE_SECRET")
	switch {
	case hasURL && hasSecret:
		r.problem("AIFLOW_DATABASE_SECRET", "", "is set together with DATABASE_URL: set DATABASE_URL for a local database, or AIFLOW_DATABASE_SECRET (with AIFLOW_DATABASE_HOST and AIFLOW_DATABASE_NAME) for one whose credentials are in Secrets Manager, not both")
		return Database{}
	case hasSecret:
		return Database{
			Secret:  secret,
			Host:    r.string("AIFLOW_DATABASE_HOST", ""),
			Port:    r.databasePort(),
			Name:    r.string("AIFLOW_DATABASE_NAME", ""),
			SSLMode: r.enum("AIFLOW_DATABASE_SSLMODE", DefaultDatabaseSSLMode, DatabaseSSLModes...),
		}
	case hasURL:
		return Database{URL: r.postgresURL("DATABASE_URL", false)}
	}
	if p.required {
		msg := "required but not set (nor AIFLOW_DATABASE_SECRET)"
		if p.why != "" {
			msg = "is required: " + p.why + " (or AIFLOW_DATABASE_SECRET, the Secrets Manager secret of its credentials)"
		}
		r.problem("DATABASE_URL", p.example, "%s", msg)
	}
	for _, key := range databaseVars[1:] {
		if _, ok := r.get(key); ok {
			r.problem(key, "", "is set but AIFLOW_DATABASE_SECRET is not: %s only say where the database of that secret's credentials is", strings.Join(databaseVars[1:], ", "))
			break
		}
	}
	return Database{}
}

// databasePort returns AIFLOW_DATABASE_PORT, or 0 when unset or invalid.
func (r *reader) databasePort() int {
	if _, ok := r.get("AIFLOW_DATABASE_PORT"); !ok {
		return 0
	}
	return r.int("AIFLOW_DATABASE_PORT", 5432, 1, 65535)
}
