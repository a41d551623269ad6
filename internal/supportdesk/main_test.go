package supportdesk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

// The test binary doubles as a stdio MCP server: a test starts it as a
// child process with these variables set, and it serves the support tools
// on its stdin and stdout instead of running tests.
const (
	childDatabaseEnv = "SUPPORTDESK_TEST_STDIO_DATABASE_URL"
	childNowEnv      = "SUPPORTDESK_TEST_STDIO_NOW"
	childCustomerEnv = "SUPPORTDESK_TEST_STDIO_CUSTOMER_ID"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(childDatabaseEnv); dsn != "" {
		if err := serveStdio(dsn); err != nil {
			fmt.Fprintln(os.Stderr, "stdio server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	pgclustertest.Main(m)
}

func serveStdio(dsn string) error {
	ctx := context.Background()
	now, err := time.Parse(time.RFC3339, os.Getenv(childNowEnv))
	if err != nil {
		return err
	}
	customer, _ := strconv.ParseInt(os.Getenv(childCustomerEnv), 10, 64)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	s, err := supportdesk.NewServer(supportdesk.New(pool, supportdesk.Options{NowFunc: func() time.Time { return now }}),
		supportdesk.ServerOptions{LocalCaller: supportdesk.Caller{Subject: "stdio-test", CustomerID: customer}})
	if err != nil {
		return err
	}
	return s.Run(ctx, supportdesk.NewStdioTransport(supportdesk.StdioParams{In: os.Stdin, Out: os.Stdout}))
}

// now is the tests' clock: the seed data and every rule are relative to it.
var now = time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)

func clock() time.Time { return now }

// testSecret signs the tests' bearer tokens.
var testSecret = []byte("test-secret-that-is-at-least-32-bytes-long")

type testBundle struct {
	pool *pgxpool.Pool
	dsn  string
	desk *supportdesk.Desk
}

// setup returns a fresh, seeded database and a desk on it.
func setup(t testing.TB) *testBundle {
	t.Helper()
	dsn := pgclustertest.Database(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = supportdesk.Seed(context.Background(), pool, now)
	require.NoError(t, err)
	return &testBundle{pool: pool, dsn: dsn, desk: supportdesk.New(pool, supportdesk.Options{NowFunc: clock})}
}

// transport connects an SDK client to the support server over one of the
// server's transports, as a caller scoped to customerID (0: an agent).
type transport struct {
	name    string
	connect func(t *testing.T, b *testBundle, customerID int64) *mcp.ClientSession
}

var transports = []transport{
	{"memory", func(t *testing.T, b *testBundle, customerID int64) *mcp.ClientSession {
		return connectMemory(t, b, customerID)
	}},
	{"stdio", connectStdio},
	{"http", connectHTTP},
}

func newClient() *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "supportdesk-test", Version: "1"}, nil)
}

func connectMemory(t testing.TB, b *testBundle, customerID int64) *mcp.ClientSession {
	t.Helper()
	s, err := supportdesk.NewServer(b.desk, supportdesk.ServerOptions{LocalCaller: supportdesk.Caller{Subject: "memory-test", CustomerID: customerID}})
	require.NoError(t, err)
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), st, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := newClient().Connect(context.Background(), ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func connectStdio(t *testing.T, b *testBundle, customerID int64) *mcp.ClientSession {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childDatabaseEnv+"="+b.dsn, childNowEnv+"="+now.Format(time.RFC3339), childCustomerEnv+"="+strconv.FormatInt(customerID, 10))
	cmd.Stderr = os.Stderr
	cs, err := newClient().Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// httpServer serves the desk over Streamable HTTP on a real socket.
func httpServer(t *testing.T, b *testBundle, opts supportdesk.HTTPOptions) *httptest.Server {
	t.Helper()
	s, err := supportdesk.NewServer(b.desk, supportdesk.ServerOptions{})
	require.NoError(t, err)
	opts.Server = s
	if opts.TokenSecret == nil {
		opts.TokenSecret = testSecret
	}
	h, err := supportdesk.NewHTTPHandler(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func token(t *testing.T, subject string, customerID int64) string {
	t.Helper()
	tok, err := supportdesk.IssueToken(testSecret, supportdesk.TokenParams{Subject: subject, CustomerID: customerID, TTL: time.Hour, Now: time.Now()})
	require.NoError(t, err)
	return tok
}

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func connectHTTPTo(t *testing.T, endpoint, tok string) *mcp.ClientSession {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{token: tok, next: http.DefaultTransport}}, MaxRetries: -1}
	cs, err := newClient().Connect(context.Background(), tr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func connectHTTP(t *testing.T, b *testBundle, customerID int64) *mcp.ClientSession {
	t.Helper()
	srv := httpServer(t, b, supportdesk.HTTPOptions{})
	return connectHTTPTo(t, srv.URL, token(t, "http-test", customerID))
}

// forEachTransport runs f once per transport, each on its own database.
func forEachTransport(t *testing.T, customerID int64, f func(t *testing.T, b *testBundle, cs *mcp.ClientSession)) {
	t.Helper()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			f(t, b, tr.connect(t, b, customerID))
		})
	}
}

// call calls a tool and returns its result, failing the test on a protocol
// error.
func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err, "a tool call must never be a protocol error")
	return res
}

// ok calls a tool that must succeed and decodes its structured result.
func ok[T any](t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) T {
	t.Helper()
	res := call(t, cs, tool, args)
	require.False(t, res.IsError, "%s(%v) failed: %s", tool, args, text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// fails calls a tool that must fail with a tool error and returns its text.
func fails(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	res := call(t, cs, tool, args)
	require.True(t, res.IsError, "%s(%v) should have failed, got %s", tool, args, text(res))
	return text(res)
}

func text(res *mcp.CallToolResult) string {
	var s string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			s += tc.Text
		}
	}
	return s
}

// count runs a count query on the test's database.
func count(t *testing.T, b *testBundle, query string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}
