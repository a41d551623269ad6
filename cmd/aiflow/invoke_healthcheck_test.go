package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/health"
	"github.com/aiflow/aiflow/internal/registrystore"
)

// TestInvokeHealthCheckWithItsSampleEvent runs functions/healthcheck's
// handler on its sample Scheduled Event against a database with one
// registered internal instance: the run's checks make it healthy.
func TestInvokeHealthCheckWithItsSampleEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgclustertest.Database(t)
	pool, err := pgxpool.New(ctx, db)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	reg, err := registry.New(registry.Config{Store: registrystore.New(events)})
	require.NoError(t, err)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	_, err = reg.RegisterService(ctx, registry.Caller{Subject: "test", Admin: true}, registry.Service{
		Name: "probe", Version: "1.0.0",
		Operations:  []registry.Operation{{Name: "ping", Method: "GET", Path: "/ping"}},
		HealthCheck: &registry.HealthCheck{Path: "/healthz", ExpectedStatus: http.StatusNoContent, IntervalSeconds: 1, TimeoutSeconds: 1, HealthyThreshold: 1},
		Instances:   []registry.Instance{{ID: "a", Endpoint: srv.URL, Internal: true}},
	})
	require.NoError(t, err)

	te := newTestEnv(map[string]string{"DATABASE_URL": db, "AIFLOW_HEALTHCHECK_RUN_FOR": "100ms", "AIFLOW_LOG_FORMAT": "text"})
	code := run(ctx, []string{"invoke", "healthcheck", "--event", "../../events/healthcheck-scheduled.json"}, te.env())
	require.Equal(t, 0, code, te.stderr.String())
	var res health.FunctionResult
	require.NoError(t, json.Unmarshal(te.stdout.Bytes(), &res), te.stdout.String())
	require.InDelta(t, 0.1, res.RanForSeconds, 0.001)

	svcs, err := reg.Get(ctx, "probe")
	require.NoError(t, err)
	require.Equal(t, registry.StatusHealthy, svcs[0].Instances[0].Status, "the invocation checked the instance")
}
