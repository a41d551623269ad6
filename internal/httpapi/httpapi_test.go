package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/gcpolicy"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/telemetry"
)

func TestMain(m *testing.M) {
	// The load benchmarks stand for aiflow dev, whose collector is paced
	// so (GOGC=100 in the environment measures Go's default).
	stop, _ := gcpolicy.Start(os.LookupEnv)
	defer stop()
	pgclustertest.Main(m)
}

type testBundle struct {
	srv  *httptest.Server
	logs *bytes.Buffer
}

func setup(t *testing.T, db httpapi.Pinger) *testBundle {
	t.Helper()
	logs := &bytes.Buffer{}
	api := httpapi.New(httpapi.Options{
		DB:      db,
		Version: "v-test",
		Logger:  telemetry.NewLogger(telemetry.LoggerOptions{Format: telemetry.FormatJSON, Writer: logs}),
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &testBundle{srv: srv, logs: logs}
}

func get(t *testing.T, url string, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp, body
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	resp, body := get(t, b.srv.URL+"/healthz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, map[string]any{"status": "ok", "version": "v-test"}, body)
	require.Len(t, resp.Header.Get("X-Request-Id"), 32)
}

func TestReadyzWithARealDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t, pgclustertest.PackagePool(t))
	resp, body := get(t, b.srv.URL+"/readyz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "ready", body["status"])
	require.Equal(t, map[string]any{"database": "ok"}, body["checks"])
}

func TestReadyzWhenTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback: nothing listens, connections are refused.
	pool, err := pgxpool.New(context.Background(), "postgres://aiflow:hunter2@127.0.0.1:1/aiflow?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	b := setup(t, pool)

	resp, body := get(t, b.srv.URL+"/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Equal(t, float64(503), body["status"])
	require.Equal(t, "/readyz", body["instance"])
	require.Equal(t, map[string]any{"database": "unreachable"}, body["checks"])
	raw, _ := json.Marshal(body)
	require.NotContains(t, string(raw), "127.0.0.1:1", "the cause stays in the log, not in the response")
	require.Contains(t, b.logs.String(), "readiness check failed")
	require.NotContains(t, b.logs.String(), "hunter2")
}

func TestUnknownRouteIsAProblem(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	resp, body := get(t, b.srv.URL+"/v1/nothing-here", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Equal(t, "no route for GET /v1/nothing-here", body["detail"])
	require.Equal(t, resp.Header.Get("X-Request-Id"), body["request_id"])

	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/healthz", nil)
	require.NoError(t, err)
	post, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	post.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
	require.Equal(t, "application/problem+json", post.Header.Get("Content-Type"))
	require.Contains(t, post.Header.Get("Allow"), "GET")
}

func TestRequestIDsAreKeptOrReplaced(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	resp, _ := get(t, b.srv.URL+"/healthz", http.Header{"X-Request-Id": {"caller-id-1"}, "X-Correlation-Id": {"corr-9"}})
	require.Equal(t, "caller-id-1", resp.Header.Get("X-Request-Id"))
	require.Contains(t, b.logs.String(), `"request_id":"caller-id-1"`)
	require.Contains(t, b.logs.String(), `"correlation_id":"corr-9"`)

	resp, _ = get(t, b.srv.URL+"/healthz", http.Header{"X-Request-Id": {strings.Repeat("x", 200)}})
	require.Len(t, resp.Header.Get("X-Request-Id"), 32, "an oversized id is replaced")
}

func TestLambdaHandlerServesAPIGatewayEvents(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "api-readyz.json"))
	require.NoError(t, err)
	var ev events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(raw, &ev))

	h := httpapi.NewLambdaHandler(httpapi.New(httpapi.Options{DB: pgclustertest.PackagePool(t), Version: "v-test"}))
	resp, err := h.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, ev.RequestContext.RequestID, resp.Headers["X-Request-Id"])
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &body))
	require.Equal(t, "ready", body["status"])
}
