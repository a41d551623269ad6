package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/outage/outagetest"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/steps/detailstore"
	"github.com/aiflow/aiflow/internal/workflow"
)

// TestEveryRouteAnswers503WhileTheDatabaseIsUnreachable runs the API, its
// store, audit log, detail events and engine on a real PostgreSQL reached
// through a proxy, publishes and starts a workflow, then cuts the proxy:
// every /v1 route answers 503 problem+json with Retry-After, and once the
// database is back they answer again.
func TestEveryRouteAnswers503WhileTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	proxy, dbURL := outagetest.ProxyURL(t, pgclustertest.Database(t))
	cfg, err := pgxpool.ParseConfig(dbURL)
	require.NoError(t, err)
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	es, err := enginestore.New(ctx, pool, events)
	require.NoError(t, err)
	qb := queue.New(queue.Config{})
	t.Cleanup(func() { _ = qb.Close() })
	eng, err := engine.New(engine.Config{Store: es, Queues: qb, CloseTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(func() { _ = eng.Close() })
	urls := map[string]string{}
	for sub, name := range map[string]string{workflow.AIQueueSubstitution: "ai-steps", workflow.ApprovalQueueSubstitution: "approvals"} {
		url, err := qb.CreateQueue(queue.QueueConfig{Name: name, VisibilityTimeout: time.Minute})
		require.NoError(t, err)
		urls[sub] = url
	}
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	store := apistore.New(pool)
	api := httpapi.New(httpapi.Options{
		DB: pool, Store: store, Machines: eng, Details: detailstore.New(events, "aistep"),
		Authenticator: verifier, Audit: audit.New(pool, audit.Options{}), QueueURLs: urls,
		ReadyTimeout: 2 * time.Second,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	admin, err := auth.MintDevToken(testKey, "admin-user", []auth.Role{auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)
	call := func(method, path, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, raw
	}

	def, _ := json.Marshal(map[string]string{"definition": replyWorkflow})
	resp, raw := call(http.MethodPost, "/v1/workflows", string(def))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	resp, raw = call(http.MethodPost, "/v1/workflows/reply/executions", `{"input":{"message":"hi"}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	id := jsonOf(t, raw)["id"].(string)

	proxy.Cut()
	bodies := map[string]string{
		"POST /v1/workflows":                   string(def),
		"POST /v1/workflows/{name}/executions": `{"input":{"message":"hi"}}`,
		"POST /v1/executions/{id}/stop":        `{"cause":"outage"}`,
		"POST /v1/approvals/{id}":              `{"approve":true}`,
	}
	values := map[string]string{"{name}": "reply", "{version}": "1", "{id}": id}
	ops := openAPIOperations(t)
	for _, r := range api.Routes() {
		if !strings.HasPrefix(r.Pattern, "/v1/") || strings.HasPrefix(r.Pattern, "/v1/services") || strings.HasPrefix(r.Pattern, "/v1/mcp/") {
			// The registry's routes read the registry's store, not the
			// API's database; this server has none (they answer 501:
			// TestServicesWithoutARegistry). The MCP servers are the
			// workers' pool's, read from memory (TestMCPServers).
			continue
		}
		key := r.Method + " " + r.Pattern
		path := pathParam.ReplaceAllStringFunc(r.Pattern, func(p string) string { return values[p] })
		if r.Pattern == "/v1/approvals/{id}" {
			path = "/v1/approvals/apr_00000000000000000000000000"
		}
		resp, raw := call(r.Method, path, bodies[key])
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s: %s", key, raw)
		require.Equal(t, "1", resp.Header.Get("Retry-After"), key)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), key)
		require.NotContains(t, string(raw), "127.0.0.1", "%s: the cause stays in the log", key)
		require.True(t, ops[key].codes["503"], "openapi.json documents 503 for %s", key)
	}
	resp, _ = call(http.MethodGet, "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	require.NoError(t, proxy.Restore())
	require.Eventually(t, func() bool {
		resp, _ := call(http.MethodGet, "/v1/workflows/reply", "")
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
}

// TestNoStartIsAcknowledgedWithoutItsAuditRecord: while the audit log
// cannot be written a start is answered 503 with Retry-After, not 201;
// the caller's retry with the same idempotency key, once the log is back,
// is acknowledged with the same execution and audited, so every
// acknowledged start has its record.
func TestNoStartIsAcknowledgedWithoutItsAuditRecord(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)

	proxy, u := outagetest.ProxyURL(t, b.pool.Config().ConnString())
	cfg, err := pgxpool.ParseConfig(u)
	require.NoError(t, err)
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	auditPool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(auditPool.Close)
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{
		Store: b.store, Machines: b.eng, Authenticator: verifier, Audit: audit.New(auditPool, audit.Options{}),
	}))
	t.Cleanup(srv.Close)
	start := func() (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/workflows/reply/executions", strings.NewReader(`{"input":{"message":"hi"}}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "outage-1")
		req.Header.Set("Authorization", "Bearer "+b.tokens[auth.RoleOperator])
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, raw
	}

	proxy.Cut()
	resp, raw := start()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", raw)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))

	require.NoError(t, proxy.Restore())
	var id string
	require.Eventually(t, func() bool {
		resp, raw := start()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			return false
		}
		id = jsonOf(t, raw)["id"].(string)
		return true
	}, 30*time.Second, 50*time.Millisecond)

	var records int
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT count(*) FROM api.audit_log
		WHERE action = 'executions:start' AND outcome = 'succeeded' AND details->>'execution' = $1`, id).Scan(&records))
	require.Equal(t, 1, records, "the acknowledged start is audited")
}

// TestTerminatedBackendsAre503NotA500: while every backend of the API's
// database is terminated again and again (pg_terminate_backend, as a
// failover or an operator does), each answer is the route's own or 503
// with Retry-After, never 500.
func TestTerminatedBackendsAre503NotA500(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	admin, err := pgxpool.New(t.Context(), pgclustertest.AdminURL(t))
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	var db string
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT current_database()`).Scan(&db))
	saw503 := false
	for range 40 {
		_, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, db)
		require.NoError(t, err)
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply", "")
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			saw503 = true
			require.Equal(t, "1", resp.Header.Get("Retry-After"))
		default:
			require.Failf(t, "unexpected status", "%d: %s", resp.StatusCode, raw)
		}
	}
	t.Logf("a 503 was answered: %v", saw503)
}
