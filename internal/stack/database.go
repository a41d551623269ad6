package stack

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/aiflow/aiflow/internal/migrate"
)

// engineDatabase is the name of the database, on the stack's PostgreSQL
// server, that keeps the state machines and their executions: Step
// Functions' own storage on AWS, apart from the stack's database.
const engineDatabaseSuffix = "_stepfunctions"

// engineDatabaseURL is the superuser's URL of the state machines'
// database.
func (s *Stack) engineDatabaseURL() string {
	return s.databaseURL(s.p.StackName + engineDatabaseSuffix)
}

// databaseURL is the superuser's URL of the named database on the stack's
// server.
func (s *Stack) databaseURL(name string) string {
	u, _ := url.Parse(s.p.DatabaseURL) // checked by tcpAddress
	u.Path = "/" + name
	return u.String()
}

// makeDatabases does what RDS does when CloudFormation creates the
// template's database clusters: a login role of the master credentials
// (resolved from their secret) that may create roles and databases, and
// the cluster's database owned by it. It also makes and migrates the state
// machines' own database. Each step finds what a previous start made.
func (s *Stack) makeDatabases(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.databaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to the stack's PostgreSQL server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for id, r := range s.model.Resources {
		if r.Type != "AWS::RDS::DBCluster" {
			continue
		}
		prop := func(name string) (string, error) {
			v, _ := r.Properties[name].(string)
			if v == "" {
				return "", resourceErr(id, "Properties."+name, "the stack needs it to make the cluster's role")
			}
			return s.resolveDynamic(ctx, v)
		}
		user, err := prop("MasterUsername")
		if err != nil {
			return err
		}
		password, err := prop("MasterUserPassword")
		if err != nil {
			return err
		}
		dbName, err := prop("DatabaseName")
		if err != nil {
			return err
		}
		if err := ensureRole(ctx, conn, user, password); err != nil {
			return fmt.Errorf("making the master role of %s: %w", id, err)
		}
		if err := ensureDatabase(ctx, conn, dbName, user); err != nil {
			return fmt.Errorf("making the database of %s: %w", id, err)
		}
	}
	if err := ensureDatabase(ctx, conn, s.p.StackName+engineDatabaseSuffix, ""); err != nil {
		return fmt.Errorf("making the state machines' database: %w", err)
	}
	m, err := migrate.New(s.engineDatabaseURL())
	if err != nil {
		return fmt.Errorf("migrating the state machines' database: %w", err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrating the state machines' database: %w", err)
	}
	return nil
}

// ensureRole makes a login role that may create roles and databases (what
// RDS gives its master user), or sets the password of the one there.
func ensureRole(ctx context.Context, conn *pgx.Conn, name, password string) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	var stmt string
	if err := conn.QueryRow(ctx, `SELECT format('`+verb+` ROLE %I LOGIN CREATEROLE CREATEDB PASSWORD %L', $1::text, $2::text)`,
		name, password).Scan(&stmt); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, stmt)
	return err
}

// ensureDatabase makes a database owned by owner (the connected user when
// empty) unless it exists.
func ensureDatabase(ctx context.Context, conn *pgx.Conn, name, owner string) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if owner != "" {
		stmt += " OWNER " + pgx.Identifier{owner}.Sanitize()
	}
	_, err := conn.Exec(ctx, stmt)
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil // another start made it meanwhile
	}
	return err
}
