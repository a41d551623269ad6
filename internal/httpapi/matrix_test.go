package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// routePermissions is every route and the permission docs/security.md
// names for it; "" marks the open probes and the API's description.
var routePermissions = map[string]auth.Permission{
	"GET /healthz":                                     "",
	"GET /readyz":                                      "",
	"GET /openapi.json":                                "",
	"POST /v1/workflows":                               auth.PermWorkflowsPublish,
	"GET /v1/workflows":                                auth.PermWorkflowsRead,
	"GET /v1/workflows/{name}":                         auth.PermWorkflowsRead,
	"GET /v1/workflows/{name}/versions/{version}":      auth.PermWorkflowsRead,
	"POST /v1/workflows/{name}/executions":             auth.PermExecutionsStart,
	"GET /v1/executions":                               auth.PermExecutionsRead,
	"GET /v1/executions/{id}":                          auth.PermExecutionsRead,
	"GET /v1/executions/{id}/events":                   auth.PermExecutionsRead,
	"GET /v1/executions/{id}/stream":                   auth.PermExecutionsRead,
	"POST /v1/executions/{id}/stop":                    auth.PermExecutionsStop,
	"POST /v1/executions/{id}/redrive":                 auth.PermExecutionsStart,
	"GET /v1/approvals":                                auth.PermApprovalsRead,
	"POST /v1/approvals/{id}":                          auth.PermApprovalsDecide,
	"POST /v1/services":                                auth.PermServicesManage,
	"GET /v1/services":                                 auth.PermServicesRead,
	"GET /v1/services/{name}":                          auth.PermServicesRead,
	"DELETE /v1/services/{name}":                       auth.PermServicesManage,
	"GET /v1/services/{name}/history":                  auth.PermServicesRead,
	"POST /v1/services/{name}/instances":               auth.PermServicesManage,
	"PUT /v1/services/{name}/instances/{id}/heartbeat": auth.PermServicesManage,
	"POST /v1/services/{name}/instances/{id}/drain":    auth.PermServicesManage,
	"DELETE /v1/services/{name}/instances/{id}":        auth.PermServicesManage,
	"GET /v1/mcp/servers":                              auth.PermWorkflowsRead,
}

var pathParam = regexp.MustCompile(`\{[a-z]+\}`)

// openAPIOperations reads the document's operations: their permission
// and the status codes they document, by "METHOD /path".
func openAPIOperations(t *testing.T) map[string]struct {
	perm  string
	codes map[string]bool
} {
	t.Helper()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(httpapi.OpenAPI, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	ops := map[string]struct {
		perm  string
		codes map[string]bool
	}{}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			perm, _ := op["x-aiflow-permission"].(string)
			codes := map[string]bool{}
			for code := range op["responses"].(map[string]any) {
				codes[code] = true
			}
			ops[strings.ToUpper(method)+" "+path] = struct {
				perm  string
				codes map[string]bool
			}{perm, codes}
		}
	}
	return ops
}

// TestOpenAPIMatchesTheRoutes: every registered route is documented with
// its method and permission, and every documented operation is a route.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Options{})
	ops := openAPIOperations(t)
	registered := map[string]bool{}
	for _, r := range api.Routes() {
		key := r.Method + " " + r.Pattern
		registered[key] = true
		want, ok := routePermissions[key]
		require.True(t, ok, "route %s is not in the test's table", key)
		require.Equal(t, want, r.Permission, "the permission of %s", key)
		op, ok := ops[key]
		require.True(t, ok, "route %s is not in openapi.json", key)
		require.Equal(t, string(r.Permission), op.perm, "x-aiflow-permission of %s", key)
		if r.Permission != "" {
			for _, code := range []string{"401", "403", "429"} {
				require.True(t, op.codes[code], "%s documents %s", key, code)
			}
		}
	}
	for key := range ops {
		require.True(t, registered[key], "openapi.json documents %s, which is not a route", key)
	}
	require.Len(t, registered, len(routePermissions))

	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	resp, raw := get(t, srv.URL+"/openapi.json", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "3.1.0", raw["openapi"])
}

// TestRouteRoleMatrix calls every route as every role and without a token:
// a role is let through exactly when it holds the route's permission, the
// open routes let everyone through, every denial is audited, and every
// status a route answers is one openapi.json documents for it.
func TestRouteRoleMatrix(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	ops := openAPIOperations(t)
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "hi"}`)
	approval := b.waitPending(t, id)
	values := map[string]string{"{name}": "reply", "{version}": "1", "{id}": id}

	// The service role is the token of the service threat-intel, which the
	// registry's routes are called about.
	b.tokens[auth.RoleService] = b.serviceToken(t, "threat-intel")
	callers := append([]auth.Role{""}, append(auth.Roles(), auth.RoleService)...)
	denials := 0
	for _, r := range b.api.Routes() {
		method, pattern := r.Method, r.Pattern
		key := method + " " + pattern
		path := pathParam.ReplaceAllStringFunc(pattern, func(p string) string { return values[p] })
		if strings.HasPrefix(pattern, "/v1/services") {
			path = strings.NewReplacer("{name}", "threat-intel", "{id}", "ti-1").Replace(pattern)
		}
		if pattern == "/v1/approvals/{id}" {
			path = "/v1/approvals/" + approval["id"].(string)
		}
		if strings.HasSuffix(pattern, "/stream") || strings.HasSuffix(pattern, "/stop") || method == http.MethodPost {
			// Let the calls that are let through do nothing: an unknown
			// execution, an empty body.
			path = strings.Replace(path, id, httpapi.ExecutionID("arn:aws:states:us-east-1:123456789012:execution:reply:nothing"), 1)
			path = strings.Replace(path, approval["id"].(string), "apr_none", 1)
		}
		for _, role := range callers {
			body := ""
			if method == http.MethodPost {
				body = "{}"
			}
			if key == "POST /v1/services" {
				body = `{"name": "threat-intel"}` // the service's own, invalid: 422
			}
			resp, raw := b.call(t, role, method, path, body)
			perm := r.Permission
			allowed := perm == "" || (role != "" && auth.Allows(role, perm))
			name := key + " as " + string(role)
			if allowed {
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode, "%s: %s", name, raw)
			} else {
				denials++
				want := http.StatusForbidden
				if role == "" {
					want = http.StatusUnauthorized
				}
				require.Equal(t, want, resp.StatusCode, "%s: %s", name, raw)
				require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), name)
			}
			require.True(t, ops[key].codes[strconv.Itoa(resp.StatusCode)], "%s answered %d, which openapi.json does not document: %s", name, resp.StatusCode, raw)
		}
	}
	// A source's first denial in an interval is a record of its own; the
	// rest are counted in one record when the interval closes (Close
	// closes it now).
	require.NoError(t, b.api.Close(t.Context()))
	var audited int
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT coalesce(sum(CASE WHEN action = 'denials' THEN (details->>'count')::int ELSE 1 END), 0)
		FROM api.audit_log WHERE outcome = 'denied'`).Scan(&audited))
	require.Equal(t, denials, audited, "every denial is audited")
}
