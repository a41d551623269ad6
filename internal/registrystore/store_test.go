package registrystore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
	"github.com/aiflow/aiflow/internal/registrystore"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

func open(t *testing.T, pool *pgxpool.Pool) *registrystore.Store {
	t.Helper()
	events, err := eventstore.Open(context.Background(), pool, eventstore.Options{})
	require.NoError(t, err)
	return registrystore.New(events)
}

// TestConformance runs the registry's suite on PostgreSQL, each case on a
// database of its own (the sweep and the list read every service).
func TestConformance(t *testing.T) {
	t.Parallel()
	registrytest.Run(t, func(t *testing.T) registry.Store { return open(t, pgclustertest.Pool(t)) })
}

// TestRowsAndEventsCommitTogether makes the rows' statements fail after
// the events were written in the same transaction: neither is kept.
func TestRowsAndEventsCommitTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgclustertest.Pool(t)
	s := open(t, pool)
	svc := registrytest.Service("atomic", "1.0.0")
	svc.RegisteredAt, svc.UpdatedAt = registrytest.T0, registrytest.T0
	ev := registry.Event{Type: registry.EventServiceRegistered, At: registrytest.T0, Service: "atomic", Version: "1.0.0"}
	// An instance with an out-of-range weight breaks a CHECK of the table
	// after the events are appended.
	bad := registrytest.Endpoint("atomic", "1.0.0", "a")
	bad.Weight, bad.TTLSeconds, bad.Status, bad.RegisteredAt, bad.HeartbeatAt = 5000, 30, registry.StatusHealthy, registrytest.T0, registrytest.T0
	err := s.Save(ctx, registry.Change{Name: "atomic", PutServices: []registry.Service{svc}, PutInstances: []registry.Instance{bad}, Events: []registry.Event{ev}})
	require.Error(t, err)
	evs, err := s.Events(ctx, "atomic", 0, 10)
	require.NoError(t, err)
	require.Empty(t, evs)
	st, err := s.Load(ctx, "atomic")
	require.NoError(t, err)
	require.Equal(t, registry.State{Name: "atomic"}, st)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM eventstore.events WHERE stream_id = 'service-atomic'`).Scan(&n))
	require.Zero(t, n)
}

// TestRoles checks the grants of migration 00010: the API's role runs the
// use cases, and the workers' role reads and ejects but registers
// nothing.
func TestRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgclustertest.Database(t)
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	for _, role := range []string{"aiflow_api", "aiflow_worker"} {
		// The roles are the cluster's: made here as setup-db.sh makes
		// them, unless they exist already.
		_, err := admin.Exec(ctx, `DO $$ BEGIN
			EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', '`+role+`');
			EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`)
		require.NoError(t, err)
	}
	_, err = admin.Exec(ctx, `SELECT public.aiflow_grant_service_roles()`)
	require.NoError(t, err)

	as := func(role string, now func() time.Time) *registry.Registry {
		cfg, err := pgxpool.ParseConfig(dsn)
		require.NoError(t, err)
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SET ROLE "+role)
			return err
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		r, err := registry.New(registry.Config{Store: open(t, pool), NowFunc: now})
		require.NoError(t, err)
		return r
	}
	api, worker := as("aiflow_api", time.Now), as("aiflow_worker", time.Now)
	// A checker an hour ahead finds a heartbeat missed.
	late := as("aiflow_worker", func() time.Time { return time.Now().Add(time.Hour) })

	svc := registrytest.Unchecked("roles", "1.0.0")
	svc.Instances = []registry.Instance{registrytest.Endpoint("roles", "1.0.0", "a")}
	_, err = api.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err, "the API's role registers")
	_, err = api.Heartbeat(ctx, registrytest.Admin, "roles", "a")
	require.NoError(t, err)

	svcs, err := worker.List(ctx, registry.ListFilter{Capability: "ip.reputation"})
	require.NoError(t, err, "the workers' role reads")
	require.Len(t, svcs, 1)
	in, err := worker.Eject(ctx, "roles", "a", "connection refused", time.Minute)
	require.NoError(t, err, "the workers' role ejects")
	require.Equal(t, registry.StatusUnhealthy, in.Status)
	evs, err := worker.History(ctx, "roles", 0, 0)
	require.NoError(t, err)
	require.Equal(t, registry.EventInstanceEjected, evs[len(evs)-1].Type)

	// The health checker may run as the workers' role too: it records
	// checks and sweeps, which update what exists.
	checked := registrytest.Service("checked", "1.0.0")
	checked.Instances = []registry.Instance{registrytest.Endpoint("checked", "1.0.0", "a")}
	_, err = api.RegisterService(ctx, registrytest.Admin, checked)
	require.NoError(t, err)
	_, err = worker.RecordCheck(ctx, registry.CheckResult{Service: "checked", Instance: "a", Passed: true, At: time.Now()})
	require.NoError(t, err, "the workers' role records checks")
	require.NoError(t, late.Sweep(ctx), "the workers' role sweeps")
	evs, err = worker.History(ctx, "roles", 0, 0)
	require.NoError(t, err)
	require.Equal(t, registry.EventInstanceHeartbeatExpired, evs[len(evs)-1].Type)

	_, err = worker.RegisterService(ctx, registrytest.Admin, registrytest.Unchecked("nope", "1.0.0"))
	require.Equal(t, "42501", sqlState(err), "the workers' role registers nothing: %v", err)
	err = worker.DeregisterInstance(ctx, registrytest.Admin, "roles", "a")
	require.Equal(t, "42501", sqlState(err), "nor deregisters: %v", err)

	require.NoError(t, api.DeregisterService(ctx, registrytest.Admin, "roles", ""), "the API's role deregisters")
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
