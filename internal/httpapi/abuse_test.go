package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apistore"
	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/ratelimit"
)

// noMachines is a workflow engine the routes these tests call never use.
type noMachines struct{ httpapi.StateMachines }

type abuseBundle struct {
	api   *httpapi.Server
	srv   *httptest.Server
	clock *clocktest.Manual
	count func(t *testing.T, source string) (records, denials int)
	token string
}

// setupAbuse serves the API behind the failure limit and the bounded
// audit of denials, on a real socket. With trusted naming 127.0.0.1, this
// test is a trusted proxy: X-Forwarded-For names each request's source.
func setupAbuse(t *testing.T, trusted []netip.Prefix) *abuseBundle {
	t.Helper()
	pool := pgclustertest.Pool(t)
	c := clocktest.NewManual(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	failures, err := ratelimit.New(ratelimit.Options{Rate: ratelimit.DefaultFailureRate, Burst: ratelimit.DefaultFailureBurst, NowFunc: c.Now})
	require.NoError(t, err)
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	api := httpapi.New(httpapi.Options{
		DB: pool, Store: apistore.New(pool), Machines: noMachines{},
		Authenticator: verifier, Audit: audit.New(pool, audit.Options{}),
		FailureLimiter: failures, TrustedProxies: trusted, NowFunc: c.Now,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	tok, err := auth.MintDevToken(testKey, "viewer-user", []auth.Role{auth.RoleViewer}, time.Hour)
	require.NoError(t, err)
	b := &abuseBundle{api: api, srv: srv, clock: c, token: tok}
	b.count = func(t *testing.T, source string) (int, int) {
		t.Helper()
		var records, denials int
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*),
			coalesce(sum(CASE WHEN action = 'denials' THEN (details->>'count')::int ELSE 1 END), 0)
			FROM api.audit_log WHERE outcome = 'denied' AND source_ip = $1`, source).Scan(&records, &denials))
		return records, denials
	}
	return b
}

// do sends one request from source with the given Authorization header
// ("" for none) and returns its status, Retry-After and body.
func (b *abuseBundle) do(t *testing.T, source, method, path, authorization string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", source)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(raw, &body))
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), body
}

// TestBadTokenFloodIsLimitedAndItsAuditBounded: a flood of bad and
// missing tokens from one address gets 429 with Retry-After after the
// burst and writes a bounded number of audit records that still account
// for every request; callers from other addresses, and a caller with a
// good token from the flooding address, are not affected.
func TestBadTokenFloodIsLimitedAndItsAuditBounded(t *testing.T) {
	t.Parallel()
	b := setupAbuse(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	const attacker, other = "203.0.113.7", "198.51.100.1"
	const flood = 150

	statuses := map[int]int{}
	for i := range flood {
		authz := ""
		if i%2 == 1 {
			authz = "Bearer forged." + strconv.Itoa(i) + ".token"
		}
		method, path := http.MethodGet, "/v1/executions"
		if i%3 == 0 {
			method, path = http.MethodPost, "/v1/workflows"
		}
		status, retry, body := b.do(t, attacker, method, path, authz)
		statuses[status]++
		if status == http.StatusTooManyRequests {
			secs, err := strconv.Atoi(retry)
			require.NoError(t, err, "Retry-After in whole seconds")
			require.GreaterOrEqual(t, secs, 1)
			require.Equal(t, "Too Many Requests", body["title"])
			require.Equal(t, float64(429), body["status"])
		}

		if i == flood/2 {
			// In the middle of the flood: the others are served.
			status, _, body := b.do(t, other, http.MethodGet, "/v1/workflows", "Bearer "+b.token)
			require.Equal(t, http.StatusOK, status, "a good caller from another address: %v", body)
			status, _, _ = b.do(t, other, http.MethodGet, "/v1/workflows", "")
			require.Equal(t, http.StatusUnauthorized, status, "another address's first failure is a plain 401")
			status, _, body = b.do(t, attacker, http.MethodGet, "/v1/workflows", "Bearer "+b.token)
			require.Equal(t, http.StatusOK, status, "a good token is served even from the flooding address: %v", body)
		}
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: ratelimit.DefaultFailureBurst, http.StatusTooManyRequests: flood - ratelimit.DefaultFailureBurst}, statuses)

	records, _ := b.count(t, attacker)
	require.Equal(t, 1, records, "within the interval, only the first denial is written")

	// The interval closes: the next request (from anyone) writes the
	// count; a flood of many intervals writes two records each.
	b.clock.Advance(time.Minute)
	status, _, _ := b.do(t, other, http.MethodGet, "/v1/workflows", "Bearer "+b.token)
	require.Equal(t, http.StatusOK, status)
	records, denials := b.count(t, attacker)
	require.Equal(t, 2, records)
	require.Equal(t, flood, denials, "the records account for every denied request")

	// Past Retry-After, the address may fail again.
	status, _, _ = b.do(t, attacker, http.MethodGet, "/v1/executions", "")
	require.Equal(t, http.StatusUnauthorized, status)
	require.NoError(t, b.api.Close(t.Context()))
	records, denials = b.count(t, attacker)
	require.Equal(t, 3, records)
	require.Equal(t, flood+1, denials)
}

// TestForwardedForIsIgnoredWithoutTrustedProxies: a client cannot choose
// its source address by writing X-Forwarded-For.
func TestForwardedForIsIgnoredWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	b := setupAbuse(t, nil)
	for i := range ratelimit.DefaultFailureBurst + 5 {
		status, _, _ := b.do(t, fmt.Sprintf("192.0.2.%d", i+1), http.MethodGet, "/v1/executions", "")
		want := http.StatusUnauthorized
		if i >= ratelimit.DefaultFailureBurst {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, status, "request %d: every one counts against the connection's address", i)
	}
}

// TestLambdaSourceIsAPIGatewaySourceIP: on Lambda the source address is
// the event's requestContext.http.sourceIp; the X-Forwarded-For header
// (which the client may have written) is not believed.
func TestLambdaSourceIsAPIGatewaySourceIP(t *testing.T) {
	t.Parallel()
	b := setupAbuse(t, nil)
	h := httpapi.NewLambdaHandler(b.api)
	invoke := func(sourceIP string) int {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: "/v1/executions",
			Headers: map[string]string{"x-forwarded-for": "192.0.2.99"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RequestID: "req", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodGet, Path: "/v1/executions", SourceIP: sourceIP},
			},
		}
		resp, err := h.Handle(context.Background(), ev)
		require.NoError(t, err)
		return resp.StatusCode
	}
	for range ratelimit.DefaultFailureBurst {
		require.Equal(t, http.StatusUnauthorized, invoke("203.0.113.7"))
	}
	require.Equal(t, http.StatusTooManyRequests, invoke("203.0.113.7"))
	require.Equal(t, http.StatusUnauthorized, invoke("198.51.100.1"), "another sourceIp is not limited")
	records, denials := b.count(t, "203.0.113.7")
	require.Equal(t, 1, records)
	require.Equal(t, 1, denials)
}
