package threatintel_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/examples/services/threatintel"
	"github.com/aiflow/aiflow/internal/pathtemplate"
	"github.com/aiflow/aiflow/internal/schema"
)

type bundle struct {
	srv     *httptest.Server
	schemas map[string]*jsonschema.Schema // by operation name
}

func setup(t *testing.T) *bundle {
	t.Helper()
	srv := httptest.NewServer(threatintel.Handler())
	t.Cleanup(srv.Close)
	b := &bundle{srv: srv, schemas: map[string]*jsonschema.Schema{}}
	for _, op := range threatintel.Service().Operations {
		s, err := schema.Compile(op.Name+".json", op.ResponseSchema)
		require.NoError(t, err, op.Name)
		b.schemas[op.Name] = s
	}
	return b
}

// get requests path and returns the status, content type and body.
func (b *bundle) get(t *testing.T, method, path string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, nil)
	require.NoError(t, err)
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// ok requests an operation's path, expects 200 and a body that fits the
// operation's response schema, and decodes it into v.
func (b *bundle) ok(t *testing.T, op, path string, v any) {
	t.Helper()
	status, ctype, body := b.get(t, http.MethodGet, path)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "application/json", ctype)
	mismatches, err := schema.Validate(b.schemas[op], body)
	require.NoError(t, err)
	require.Empty(t, mismatches, string(body))
	require.NoError(t, json.Unmarshal(body, v))
}

func (b *bundle) problem(t *testing.T, method, path string, want int) map[string]any {
	t.Helper()
	status, ctype, body := b.get(t, method, path)
	require.Equal(t, want, status, string(body))
	require.Equal(t, "application/problem+json", ctype)
	var p map[string]any
	require.NoError(t, json.Unmarshal(body, &p))
	require.EqualValues(t, want, p["status"])
	require.NotEmpty(t, p["title"])
	require.NotEmpty(t, p["detail"])
	return p
}

func TestReputation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var r threatintel.Reputation
	b.ok(t, "ip_reputation", "/v1/ip/203.0.113.7/reputation", &r)
	require.Equal(t, threatintel.Reputation{
		IP: "203.0.113.7", Score: 92, Verdict: "malicious", Categories: []string{"botnet-c2", "scanner"},
		Sources: []string{"illustrative-feed-a", "illustrative-honeypots"}, LastSeen: "2026-11-30T08:12:00Z",
	}, r)

	b.ok(t, "ip_reputation", "/v1/ip/198.51.100.23/reputation", &r)
	require.Equal(t, "suspicious", r.Verdict)
	b.ok(t, "ip_reputation", "/v1/ip/192.0.2.10/reputation", &r)
	require.Equal(t, "clean", r.Verdict)
	b.ok(t, "ip_reputation", "/v1/ip/2001:db8::bad/reputation", &r)
	require.Equal(t, "malicious", r.Verdict)
	require.Equal(t, "2001:db8::bad", r.IP)
	b.ok(t, "ip_reputation", "/v1/ip/::ffff:203.0.113.42/reputation", &r)
	require.Equal(t, "203.0.113.42", r.IP, "an IPv4-mapped address reads as its IPv4 address")
	require.Equal(t, 76, r.Score)

	r = threatintel.Reputation{}
	b.ok(t, "ip_reputation", "/v1/ip/192.0.2.99/reputation", &r)
	require.Equal(t, threatintel.Reputation{IP: "192.0.2.99", Score: 0, Verdict: "unknown", Categories: []string{}, Sources: []string{}}, r)

	for _, bad := range []string{"not-an-ip", "256.1.1.1", "203.0.113", "fe80::1%25eth0", "2130706433"} {
		b.problem(t, http.MethodGet, "/v1/ip/"+bad+"/reputation", http.StatusBadRequest)
	}
}

func TestGeolocation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var g threatintel.Geolocation
	b.ok(t, "ip_geolocation", "/v1/ip/203.0.113.7/geolocation", &g)
	require.Equal(t, threatintel.Geolocation{IP: "203.0.113.7", CountryCode: "US", Country: "United States", City: "Ashburn", ASN: 64502, Organization: "Example Cloud Inc. (illustrative)"}, g)
	b.ok(t, "ip_geolocation", "/v1/ip/203.0.113.200/geolocation", &g)
	require.Equal(t, "SG", g.CountryCode)
	g = threatintel.Geolocation{}
	b.ok(t, "ip_geolocation", "/v1/ip/2001:db8:1::10/geolocation", &g)
	require.Equal(t, "BR", g.CountryCode)
	require.Empty(t, g.City, "city is optional")

	p := b.problem(t, http.MethodGet, "/v1/ip/8.8.8.8/geolocation", http.StatusNotFound)
	require.Contains(t, p["detail"], "8.8.8.8")
	b.problem(t, http.MethodGet, "/v1/ip/x/geolocation", http.StatusBadRequest)
}

func TestCVE(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var c threatintel.CVE
	b.ok(t, "cve_lookup", "/v1/cve/CVE-2021-44228", &c)
	require.Equal(t, "CVE-2021-44228", c.ID)
	require.InDelta(t, 10.0, c.CVSSScore, 0)
	require.Equal(t, "critical", c.Severity)
	require.Equal(t, "2021-12-10", c.Published)
	require.True(t, c.KnownExploited)
	require.Contains(t, c.Summary, "Log4Shell")
	require.Contains(t, c.References, "https://nvd.nist.gov/vuln/detail/CVE-2021-44228")

	b.ok(t, "cve_lookup", "/v1/cve/cve-2024-3094", &c)
	require.Equal(t, "CVE-2024-3094", c.ID, "the id is read case-insensitively")
	require.False(t, c.KnownExploited)

	b.problem(t, http.MethodGet, "/v1/cve/CVE-1999-99999", http.StatusNotFound)
	for _, bad := range []string{"CVE-21-1", "log4shell", "CVE-2021-123", "CVE-2021-44228x"} {
		b.problem(t, http.MethodGet, "/v1/cve/"+bad, http.StatusBadRequest)
	}
}

// TestEveryCVEFitsTheSchema reads every bundled CVE through the API.
func TestEveryCVEFitsTheSchema(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{
		"CVE-2021-44228", "CVE-2021-45046", "CVE-2014-0160", "CVE-2014-6271", "CVE-2017-0144", "CVE-2019-19781",
		"CVE-2021-26855", "CVE-2022-22965", "CVE-2023-34362", "CVE-2020-1472", "CVE-2024-3094", "CVE-2023-4966",
		"CVE-2021-34527", "CVE-2022-0847", "CVE-2021-4034", "CVE-2023-44487", "CVE-2019-0708", "CVE-2017-5638",
		"CVE-2022-30190", "CVE-2023-23397", "CVE-2021-3156", "CVE-2023-48795",
	} {
		var c threatintel.CVE
		b.ok(t, "cve_lookup", "/v1/cve/"+id, &c)
		require.Equal(t, id, c.ID)
		// The severity is CVSS v3's rating of the score.
		var want string
		switch {
		case c.CVSSScore >= 9:
			want = "critical"
		case c.CVSSScore >= 7:
			want = "high"
		case c.CVSSScore >= 4:
			want = "medium"
		case c.CVSSScore > 0:
			want = "low"
		default:
			want = "none"
		}
		require.Equal(t, want, c.Severity, id)
	}
}

func TestHealthAndErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, _, body := b.get(t, http.MethodGet, "/healthz")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"status":"ok"}`, string(body))
	b.problem(t, http.MethodGet, "/v1/nothing", http.StatusNotFound)
	b.problem(t, http.MethodPost, "/v1/cve/CVE-2021-44228", http.StatusMethodNotAllowed)
	b.problem(t, http.MethodDelete, "/v1/ip/192.0.2.1/reputation", http.StatusMethodNotAllowed)
}

func TestServiceDescription(t *testing.T) {
	t.Parallel()
	s := threatintel.Service()
	require.Equal(t, "threat-intel", s.Name)
	require.Equal(t, "1.2.0", s.Version)
	require.Equal(t, []string{"ip.reputation", "ip.geolocation", "cve.lookup"}, s.Capabilities)
	require.NotNil(t, s.HealthCheck)
	require.Equal(t, "/healthz", s.HealthCheck.Path)
	require.Equal(t, 5, s.HealthCheck.IntervalSeconds)
	require.Equal(t, 2, s.HealthCheck.HealthyThreshold)
	require.Equal(t, 3, s.HealthCheck.UnhealthyThreshold)
	b := setup(t)
	for _, op := range s.Operations {
		tpl, err := pathtemplate.Parse(op.Path)
		require.NoError(t, err, op.Name)
		require.True(t, op.IsIdempotent(), op.Name)
		_, err = schema.Compile(op.Name, op.ResponseSchema)
		require.NoError(t, err)
		// Each operation's path, with sample parameters, is served.
		params := map[string]string{"ip": "203.0.113.7", "id": "CVE-2014-0160"}
		path := op.Path
		for _, p := range tpl.Params() {
			path = replaceParam(path, p, params[p])
		}
		status, _, body := b.get(t, op.Method, path)
		require.Equal(t, http.StatusOK, status, "%s %s: %s", op.Method, path, body)
	}
}

func replaceParam(path, name, value string) string {
	return strings.ReplaceAll(path, "{"+name+"}", value)
}
