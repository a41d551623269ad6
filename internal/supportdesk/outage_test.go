package supportdesk_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/outage/outagetest"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

// TestUnavailableDatabaseIsMCPUnavailable: while the desk's database is
// unreachable a tool call fails with MCP.Unavailable (which workflows
// retry), not MCP.ToolError, the endpoint's circuit stays closed, and the
// same call succeeds once the database is back.
func TestUnavailableDatabaseIsMCPUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgclustertest.Database(t)
	seedPool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(seedPool.Close)
	_, err = supportdesk.Seed(ctx, seedPool, now)
	require.NoError(t, err)

	proxy, u := outagetest.ProxyURL(t, dsn)
	cfg, err := pgxpool.ParseConfig(u)
	require.NoError(t, err)
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	srv, err := supportdesk.NewServer(supportdesk.New(pool, supportdesk.Options{NowFunc: clock}), supportdesk.ServerOptions{})
	require.NoError(t, err)
	connect := func(ctx context.Context) (mcp.Transport, error) {
		ct, st := mcp.NewInMemoryTransports()
		if _, err := srv.Connect(ctx, st, nil); err != nil {
			return nil, err
		}
		return ct, nil
	}
	clients, err := mcpclient.New(mcpclient.Options{InProcess: map[string]mcpclient.InProcessServer{
		"support": {Replicas: []mcpclient.ConnectFunc{connect}, Config: mcpclient.ServerConfig{BreakerFailures: 1, HealthIntervalSeconds: -1}},
	}})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, clients.Close()) })
	find := func() error {
		_, err := clients.Call(t.Context(), mcpclient.CallParams{Server: "support", Tool: "find_customer", Arguments: json.RawMessage(`{"email":"grace.hopper@example.com"}`)})
		return err
	}
	require.NoError(t, find())

	proxy.Cut()
	for range 3 {
		err := find()
		require.Equal(t, mcpclient.CodeUnavailable, mcpclient.CodeOf(err), "%v", err)
		require.Contains(t, err.Error(), "database is unavailable")
	}
	require.Equal(t, "closed", clients.Stats().Servers["support"].Endpoints[0].Breaker, "the server answered: its circuit stays closed")

	require.NoError(t, proxy.Restore())
	require.Eventually(t, func() bool { return find() == nil }, 30*time.Second, 50*time.Millisecond)
}
