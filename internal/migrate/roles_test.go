package migrate_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/migrate"
	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

// roleURL returns admin with its user, password and database replaced.
func roleURL(t *testing.T, admin, role, password, database string) string {
	t.Helper()
	u, err := url.Parse(admin)
	require.NoError(t, err)
	u.User = url.UserPassword(role, password)
	u.Path = "/" + database
	return u.String()
}

func runSetupDB(t *testing.T, admin, database string, passwords map[string]string) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join("..", "..", "infra", "scripts", "setup-db.sh"), admin, database)
	cmd.Env = os.Environ()
	for k, v := range passwords {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// psql comes with the server binaries the tests already need.
	if bins, err := pgcluster.FindBinaries(os.Getenv("AIFLOW_PG_BINDIR")); err == nil {
		if _, err := os.Stat(bins.Path("psql")); err == nil {
			cmd.Env = append(cmd.Env, "PSQL="+bins.Path("psql"))
		}
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "setup-db.sh: %s", out)
	for _, pw := range passwords {
		require.NotContains(t, string(out), pw, "setup-db.sh never prints a password")
	}
	return string(out)
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// The roles are cluster-wide, so this test alone makes them; it runs the
// script twice to prove it can be run again.
func TestSetupDBGivesEachServiceOnlyItsOwnSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgclustertest.AdminURL(t)
	database := "aiflow_roles_test"
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+database+" WITH (FORCE)")
	require.NoError(t, err)
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+database+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})

	services := []string{"api", "engine", "registry", "support"}
	passwords := map[string]string{"AIFLOW_OWNER_PASSWORD": "owner-it's-secret"}
	for _, svc := range services {
		passwords["AIFLOW_"+strings.ToUpper(svc)+"_PASSWORD"] = svc + "-pw-" + svc
	}
	out := runSetupDB(t, admin, database, passwords)
	require.Contains(t, out, "database "+database+" is ready")
	runSetupDB(t, admin, database, passwords)

	ownerURL := roleURL(t, admin, "aiflow_owner", passwords["AIFLOW_OWNER_PASSWORD"], database)
	m, err := migrate.New(ownerURL)
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err, "the owner role runs the migrations")
	require.NoError(t, m.Close())

	// What later migrations will do: the owner makes a table in each schema.
	owner, err := pgx.Connect(ctx, ownerURL)
	require.NoError(t, err)
	defer owner.Close(ctx)
	for _, svc := range services {
		_, err := owner.Exec(ctx, "CREATE TABLE "+svc+".probe (v text); INSERT INTO "+svc+".probe VALUES ('"+svc+"')")
		require.NoError(t, err)
	}

	for _, svc := range services {
		svcConn, err := pgx.Connect(ctx, roleURL(t, admin, "aiflow_"+svc, passwords["AIFLOW_"+strings.ToUpper(svc)+"_PASSWORD"], database))
		require.NoError(t, err, "aiflow_%s logs in", svc)

		var v string
		require.NoError(t, svcConn.QueryRow(ctx, "SELECT v FROM probe").Scan(&v), "aiflow_%s reads its own schema through its search_path", svc)
		require.Equal(t, svc, v)
		_, err = svcConn.Exec(ctx, "INSERT INTO "+svc+".probe VALUES ('written')")
		require.NoError(t, err, "aiflow_%s writes its own schema", svc)

		for _, other := range services {
			if other == svc {
				continue
			}
			err := svcConn.QueryRow(ctx, "SELECT v FROM "+other+".probe LIMIT 1").Scan(&v)
			require.Equal(t, "42501", sqlState(err), "aiflow_%s must not read schema %s: %v", svc, other, err)
			_, err = svcConn.Exec(ctx, "INSERT INTO "+other+".probe VALUES ('x')")
			require.Equal(t, "42501", sqlState(err), "aiflow_%s must not write schema %s: %v", svc, other, err)
		}
		_, err = svcConn.Exec(ctx, "CREATE TABLE "+svc+".mine (id int)")
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not change the schema (migrations do): %v", svc, err)
		_, err = svcConn.Exec(ctx, "CREATE TABLE public.mine (id int)")
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not create in public: %v", svc, err)
		_, err = svcConn.Exec(ctx, "SELECT count(*) FROM public."+migrate.TableName)
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not read the migration table: %v", svc, err)
		require.NoError(t, svcConn.Close(ctx))
	}

	// The event store is shared: every service appends and reads, through
	// the store itself (which makes partitions via its definer function),
	// and none may change or delete history. The step workers' role has
	// no schema, only the event store, and may not move subscriptions.
	passwords["AIFLOW_WORKER_PASSWORD"] = "worker-pw-worker"
	runSetupDB(t, admin, database, passwords)
	for _, svc := range append(services, "worker") {
		url := roleURL(t, admin, "aiflow_"+svc, passwords["AIFLOW_"+strings.ToUpper(svc)+"_PASSWORD"], database)
		pool, err := pgxpool.New(ctx, url)
		require.NoError(t, err)
		store, err := eventstore.Open(ctx, pool, eventstore.Options{})
		require.NoError(t, err, "aiflow_%s opens the event store", svc)
		_, err = store.Append(ctx, "roles-"+svc, eventstore.NoStream, eventstore.NewEvent{Type: "Probe", Data: []byte(`{"by":"` + svc + `"}`)})
		require.NoError(t, err, "aiflow_%s appends", svc)
		evs, err := store.ReadStream(ctx, "roles-"+svc, eventstore.ReadStreamOptions{})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		_, err = pool.Exec(ctx, "UPDATE eventstore.events SET type = 'Forged'")
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not change history: %v", svc, err)
		_, err = pool.Exec(ctx, "DELETE FROM eventstore.events")
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not delete history: %v", svc, err)
		_, err = pool.Exec(ctx, "DELETE FROM eventstore.event_ids")
		require.Equal(t, "42501", sqlState(err), "aiflow_%s must not free event ids: %v", svc, err)
		if svc == "engine" {
			// The engine's store writes state machines and reads their
			// revisions, which the database records (migration 00021).
			engines, err := enginestore.New(ctx, pool, store)
			require.NoError(t, err, "aiflow_engine opens the engine store")
			rec := engine.StateMachineRecord{ARN: "arn:aws:states:us-east-1:123456789012:stateMachine:roles", Name: "roles",
				Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, RoleARN: "role", Type: sfn.TypeStandard,
				CreationDate: time.Now(), UpdateDate: time.Now(), RevisionID: "r1"}
			require.NoError(t, engines.PutStateMachine(ctx, rec))
			def, role, ok, err := engines.StateMachineRevision(ctx, rec.ARN, "r1")
			require.NoError(t, err)
			require.True(t, ok, "the revision is recorded under aiflow_engine's rights")
			require.Equal(t, []string{rec.Definition, "role"}, []string{def, role})
		}
		if svc == "worker" {
			_, err = pool.Exec(ctx, "UPDATE eventstore.subscriptions SET handled = 0")
			require.Equal(t, "42501", sqlState(err), "aiflow_worker must not move subscriptions: %v", err)
			_, err = pool.Exec(ctx, "SELECT count(*) FROM api.probe")
			require.Equal(t, "42501", sqlState(err), "aiflow_worker must not read a service's schema: %v", err)
		}
		pool.Close()
	}
}
