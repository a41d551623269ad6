package migrate

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ServiceRole is a role a service connects as, and the schema it owns
// (empty for none).
type ServiceRole struct {
	Name   string
	Schema string
}

// ServiceRoles are the roles aiflow's functions connect as. Their grants
// are those of public.aiflow_grant_service_roles() (migration 00007).
var ServiceRoles = []ServiceRole{
	{Name: "aiflow_api", Schema: "api"},
	{Name: "aiflow_engine", Schema: "engine"},
	{Name: "aiflow_registry", Schema: "registry"},
	{Name: "aiflow_support", Schema: "support"},
	// The step workers: the event store only.
	{Name: "aiflow_worker"},
}

// Login is a service role's name and the password it logs in with.
type Login struct {
	Role     string
	Password string
}

// scramIterations is PostgreSQL's default scram_iterations.
const scramIterations = 4096

// EnsureRoles makes each role of logins that does not exist yet (LOGIN,
// NOSUPERUSER, NOCREATEDB, NOCREATEROLE, NOINHERIT), sets its password,
// lets it connect to the database and starts its search_path at its own
// schema. Only ServiceRoles may be named, so a wrong secret cannot change
// the password of another role. The password is sent as a SCRAM-SHA-256
// verifier computed here, so it never reaches the server, its logs or
// pg_stat_statements in the clear. The migrating role needs CREATEROLE
// (the RDS master user has it). Run it before Up, so that the migrations'
// own grants see the roles; run Grant after Up for roles made earlier.
func (m *Migrator) EnsureRoles(ctx context.Context, logins []Login) error {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to make the service roles: %w", err)
	}
	defer conn.Close()
	for _, l := range logins {
		if err := ensureRole(ctx, conn, l); err != nil {
			return fmt.Errorf("making the service role %s: %w", l.Role, err)
		}
	}
	return nil
}

func ensureRole(ctx context.Context, conn *sql.Conn, l Login) error {
	i := slices.IndexFunc(ServiceRoles, func(r ServiceRole) bool { return r.Name == l.Role })
	if i < 0 {
		return fmt.Errorf("%q is not a service role of aiflow (those are aiflow_api, aiflow_engine, aiflow_registry, aiflow_support and aiflow_worker)", l.Role)
	}
	verifier, err := scramVerifier(l.Password)
	if err != nil {
		return err
	}
	role := pgx.Identifier{l.Role}.Sanitize()
	_, err = conn.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42710") { // duplicate_object: it exists
		return fmt.Errorf("creating it: %w", err)
	}
	// The verifier holds only base64 characters, digits and $ : =, so it
	// is safe between quotes.
	if _, err := conn.ExecContext(ctx, "ALTER ROLE "+role+" WITH LOGIN PASSWORD '"+verifier+"'"); err != nil {
		return fmt.Errorf("setting its password: %w", err)
	}
	var dbName string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		return fmt.Errorf("reading the database's name: %w", err)
	}
	database := pgx.Identifier{dbName}.Sanitize()
	if _, err := conn.ExecContext(ctx, "GRANT CONNECT ON DATABASE "+database+" TO "+role); err != nil {
		return fmt.Errorf("letting it connect: %w", err)
	}
	if schema := ServiceRoles[i].Schema; schema != "" {
		if _, err := conn.ExecContext(ctx, "ALTER ROLE "+role+" IN DATABASE "+database+" SET search_path = "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("setting its search_path: %w", err)
		}
	}
	return nil
}

// Grant gives every service role that exists its privileges, through
// public.aiflow_grant_service_roles() (migration 00007, redefined by any
// later migration that changes them). Run it after Up: the migrations
// grant only to the roles that existed when they ran.
func (m *Migrator) Grant(ctx context.Context) error {
	if _, err := m.db.ExecContext(ctx, "SELECT public.aiflow_grant_service_roles()"); err != nil {
		return fmt.Errorf("granting the service roles their privileges: %w", err)
	}
	return nil
}

// scramVerifier is what PostgreSQL stores for password with SCRAM-SHA-256
// (RFC 5802, RFC 7677): SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
// PostgreSQL prepares a password with SASLprep before hashing it, which
// changes only some non-ASCII text; such passwords are refused rather
// than stored in a form that would not match.
func scramVerifier(password string) (string, error) {
	if password == "" {
		return "", errors.New("its password is empty")
	}
	for _, c := range []byte(password) {
		if c < 0x20 || c > 0x7e {
			return "", errors.New("its password has characters other than printable ASCII (generate it with GenerateSecretString)")
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("making a salt: %w", err)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
