package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/registry"
)

// threatIntel is a registration of the example service, with one
// instance.
const threatIntel = `{
  "name": "threat-intel", "version": "1.2.0",
  "capabilities": ["ip.reputation", "ip.geolocation", "cve.lookup"],
  "health_check": {"path": "/healthz"},
  "operations": [
    {"name": "reputation", "method": "GET", "path": "/v1/ip/{ip}/reputation",
     "response_schema": {"type": "object", "required": ["ip", "score", "verdict"]}},
    {"name": "lookup_cve", "method": "GET", "path": "/v1/cve/{id}"}
  ],
  "instances": [{"id": "ti-1", "endpoint": "https://ti-1.example.com", "zone": "eu-west-1a"}]
}`

const incidentDesk = `{
  "name": "incident-desk", "version": "1.0.0",
  "capabilities": ["incident.notes"],
  "operations": [{"name": "add_note", "method": "POST", "path": "/v1/incidents/{id}/notes"}]
}`

func TestServicesLifecycle(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})

	resp, raw := b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", threatIntel)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	require.Equal(t, "/v1/services/threat-intel", resp.Header.Get("Location"))
	svc := jsonOf(t, raw)
	require.Equal(t, "threat-intel", svc["name"])
	require.Len(t, svc["instances"], 1)

	// The same version again replaces it: 200.
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", threatIntel)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", incidentDesk)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)

	// Lists, narrowed by capability and by name.
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Len(t, jsonOf(t, raw)["items"], 2)
	_, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services?capability=ip.geolocation", "")
	items := jsonOf(t, raw)["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, "threat-intel", items[0].(map[string]any)["name"])
	_, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services?name=incident-desk", "")
	require.Len(t, jsonOf(t, raw)["items"], 1)
	_, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services?capability=nothing.here", "")
	require.Equal(t, []any{}, jsonOf(t, raw)["items"])

	// A second instance, by the instances route.
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services/threat-intel/instances",
		`{"id": "ti-2", "version": "1.2.0", "endpoint": "https://ti-2.example.com", "weight": 50}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	require.Equal(t, "/v1/services/threat-intel/instances/ti-2", resp.Header.Get("Location"))
	require.Equal(t, "threat-intel", jsonOf(t, raw)["service"])

	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPut, "/v1/services/threat-intel/instances/ti-2/heartbeat", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "ti-2", jsonOf(t, raw)["id"])
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services/threat-intel/instances/ti-2/drain", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, string(registry.StatusDraining), jsonOf(t, raw)["status"])

	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services/threat-intel", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	got := jsonOf(t, raw)
	require.Equal(t, "threat-intel", got["name"])
	versions := got["versions"].([]any)
	require.Len(t, versions, 1)
	require.Len(t, versions[0].(map[string]any)["instances"], 2)

	resp, raw = b.call(t, auth.RoleAdmin, http.MethodDelete, "/v1/services/threat-intel/instances/ti-2", "")
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", raw)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPut, "/v1/services/threat-intel/instances/ti-2/heartbeat", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], `no instance "ti-2"`)

	// The history tells it all, in order, and pages.
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services/threat-intel/history", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	all := jsonOf(t, raw)["items"].([]any)
	require.GreaterOrEqual(t, len(all), 4, "registered, instance registered, drained, deregistered: %s", raw)
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services/threat-intel/history?limit=1", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	page := jsonOf(t, raw)
	require.Len(t, page["items"], 1)
	next, ok := page["next"].(string)
	require.True(t, ok, "a full page has a next: %s", raw)
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, next, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, all[1], jsonOf(t, raw)["items"].([]any)[0])
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services/threat-intel/history?after=-1", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Equal(t, "query:after", jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["location"])

	// One version, then the whole service.
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodDelete, "/v1/services/threat-intel?version=9.9.9", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodDelete, "/v1/services/threat-intel?version=1.2.0", "")
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", raw)
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/services/threat-intel", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodDelete, "/v1/services/incident-desk", "")
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", raw)

	// Each mutation is audited with what it changed; a heartbeat only when
	// it fails.
	rows, err := b.pool.Query(t.Context(), `SELECT action, outcome, details->>'service', coalesce(details->>'instance', '')
		FROM api.audit_log WHERE action = 'services:manage' ORDER BY seq`)
	require.NoError(t, err)
	type record struct{ action, outcome, service, instance string }
	var records []record
	for rows.Next() {
		var r record
		require.NoError(t, rows.Scan(&r.action, &r.outcome, &r.service, &r.instance))
		records = append(records, r)
	}
	require.NoError(t, rows.Err())
	require.Len(t, records, 10)
	require.Equal(t, record{"services:manage", "succeeded", "threat-intel", ""}, records[0])
	require.Equal(t, record{"services:manage", "succeeded", "threat-intel", "ti-2"}, records[3], "the instance registered")
	require.Equal(t, record{"services:manage", "succeeded", "threat-intel", "ti-2"}, records[4], "drained")
	require.Equal(t, record{"services:manage", "failed", "threat-intel", "ti-2"}, records[6], "the heartbeat of an instance deregistered")
}

// TestServiceTokens: a service's own token manages that service only, and
// reads nothing; an internal instance is the admin's to register.
func TestServiceTokens(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	own := b.serviceToken(t, "threat-intel")

	resp, raw := b.callAs(t, own, http.MethodPost, "/v1/services", threatIntel)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	resp, raw = b.callAs(t, own, http.MethodPut, "/v1/services/threat-intel/instances/ti-1/heartbeat", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)

	resp, raw = b.callAs(t, own, http.MethodPost, "/v1/services", incidentDesk)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], `"incident-desk"`)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", incidentDesk)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	resp, raw = b.callAs(t, own, http.MethodDelete, "/v1/services/incident-desk", "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", raw)

	resp, raw = b.callAs(t, own, http.MethodPost, "/v1/services/threat-intel/instances",
		`{"id": "ti-9", "version": "1.2.0", "endpoint": "http://10.0.0.9:8080", "internal": true}`)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "only admins register internal instances: %s", raw)

	// The service role reads nothing, not even the registry.
	resp, raw = b.callAs(t, own, http.MethodGet, "/v1/services", "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], "services:read requires the viewer role")
	resp, _ = b.callAs(t, own, http.MethodGet, "/v1/workflows", "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// Viewers read but do not manage.
	resp, raw = b.call(t, auth.RoleViewer, http.MethodPost, "/v1/services/threat-intel/instances/ti-1/drain", "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], "or the service role")
	resp, raw = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/services", incidentDesk)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", raw)

	resp, raw = b.callAs(t, own, http.MethodDelete, "/v1/services/threat-intel/instances/ti-1", "")
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", raw)
}

// TestServiceRequestProblems: the registry's refusals are 422 with the
// problems' pointers; a malformed body is the API's 400.
func TestServiceRequestProblems(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})

	resp, raw := b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services",
		`{"name": "Threat Intel", "version": "one", "operations": [{"name": "x", "method": "FETCH", "path": "v1/x"}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	p := jsonOf(t, raw)
	require.Equal(t, "https://aiflow.dev/problems/invalid-service", p["type"])
	pointers := map[string]bool{}
	for _, e := range p["errors"].([]any) {
		pointers[e.(map[string]any)["pointer"].(string)] = true
	}
	for _, want := range []string{"/name", "/version", "/operations/0/method", "/operations/0/path"} {
		require.True(t, pointers[want], "%s is named: %s", want, raw)
	}

	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", `{"name": "x", "versoin": "1.0.0"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Equal(t, "/versoin", jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["pointer"])

	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", threatIntel, "Content-Type", "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, "%s", raw)

	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", threatIntel)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services/threat-intel/instances",
		`{"service": "incident-desk", "version": "1.2.0", "endpoint": "https://x.example.com"}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	require.Equal(t, "/service", jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["pointer"])
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services/threat-intel/instances",
		`{"version": "3.0.0", "endpoint": "https://x.example.com"}`)
	require.Contains(t, []int{http.StatusNotFound, http.StatusUnprocessableEntity}, resp.StatusCode, "an unregistered version: %s", raw)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services/threat-intel/instances",
		`{"id": "ti-1", "version": "1.2.0", "endpoint": "ftp://x.example.com"}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	require.Equal(t, "/endpoint", jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["pointer"])

	// An instance id of another version clashes.
	other := strings.Replace(threatIntel, `"version": "1.2.0"`, `"version": "1.3.0"`, 1)
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", other)
	require.Equal(t, http.StatusConflict, resp.StatusCode, "%s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], "instance ti-1 is registered for version 1.2.0, not 1.3.0")

	// A version in the query that is not one.
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodDelete, "/v1/services/threat-intel?version=one", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Equal(t, "query:version", jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["location"])
}

// TestServicesWithoutARegistry: a server built without one answers the
// registry's routes 501 and its other routes as ever.
func TestServicesWithoutARegistry(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: testKey})
	require.NoError(t, err)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Authenticator: verifier}))
	t.Cleanup(srv.Close)
	tok, err := auth.MintDevToken(testKey, "admin-user", []auth.Role{auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/services", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusNotImplemented, resp.StatusCode)
	var p map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	require.Equal(t, "this server has no service registry configured", p["detail"])
}

func TestRegistryCaller(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    auth.Principal
		want registry.Caller
	}{
		{auth.Principal{Subject: "dev", Roles: []auth.Role{auth.RoleAdmin}}, registry.Caller{Subject: "dev", Admin: true}},
		{auth.Principal{Subject: "service:threat-intel", Roles: []auth.Role{auth.RoleService}}, registry.Caller{Subject: "service:threat-intel", Service: "threat-intel"}},
		{auth.Principal{Subject: "service:threat-intel", Roles: []auth.Role{auth.RoleAuthor}}, registry.Caller{Subject: "service:threat-intel"}},
		{auth.Principal{Subject: "threat-intel", Roles: []auth.Role{auth.RoleService}}, registry.Caller{Subject: "threat-intel"}},
		{auth.Principal{Subject: "service:x", Roles: []auth.Role{auth.RoleService, auth.RoleAdmin}}, registry.Caller{Subject: "service:x", Admin: true, Service: "x"}},
	} {
		require.Equal(t, tc.want, httpapi.RegistryCaller(tc.p), "%+v", tc.p)
	}
}

// TestPublishIsTypedByTheRegisteredServices: a workflow published after a
// service is registered is checked against its operations, as aiflow
// validate checks one against service-catalog.json.
func TestPublishIsTypedByTheRegisteredServices(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	resp, raw := b.call(t, auth.RoleAdmin, http.MethodPost, "/v1/services", threatIntel)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)

	definition := func(path string) string {
		return "name: lookup\ninput:\n  type: object\n  required: [ip]\n  properties: {ip: {type: string}}\n" +
			"steps:\n  - id: rep\n    service: {service: threat-intel, method: GET, path: \"" + path + "\"}\n"
	}
	yaml := []string{"Content-Type", "application/yaml"}
	resp, raw = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows", definition("/v1/ip/{{ input.ip }}/nowhere"), yaml...)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), "/v1/ip/{ip}/reputation", "the error names the operations the service has")

	resp, raw = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows", definition("/v1/ip/{{ input.ip }}/reputation"), yaml...)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
}

// TestStartingAnUnknownWorkflow says the workflow does not exist, not
// that some execution does not.
func TestStartingAnUnknownWorkflow(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, "/v1/workflows/no-such-flow/executions", `{"input": {}}`)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
	require.Equal(t, `no workflow is named "no-such-flow": publish it first (POST /v1/workflows)`, jsonOf(t, raw)["detail"])
}
