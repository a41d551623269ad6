package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/auth"
)

// The policy, one line per permission: the least trusted role that holds
// it. Every more trusted role holds it too; the roles outside the order
// that hold it follow a plus.
func ExampleMinimumRole() {
	for _, p := range auth.Permissions() {
		r, _ := auth.MinimumRole(p)
		line := fmt.Sprintf("%-18s %s", p, r)
		for _, o := range auth.OutsideRoles(p) {
			line += " + " + string(o)
		}
		fmt.Println(line)
	}
	// Output:
	// approvals:decide   operator
	// approvals:read     viewer
	// audit:read         admin
	// executions:read    viewer
	// executions:start   operator
	// executions:stop    operator
	// health             viewer
	// services:manage    admin + service
	// services:read      viewer
	// workflows:publish  author
	// workflows:read     viewer
}

// A route guarded by a permission, served with development tokens: the
// caller without a token gets 401, a viewer 403, an operator through.
func ExampleGuard() {
	key := []byte("a development key of 32 bytes...")
	v, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: key})
	if err != nil {
		panic(err)
	}
	guard := &auth.Guard{
		Authenticator: v,
		AuditFunc: func(_ context.Context, d auth.Denial) {
			fmt.Printf("audit: denied %q %s: %s\n", d.Principal.Subject, d.Permission, d.Reason)
		},
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/executions/{id}/stop", guard.RequireFunc(auth.PermExecutionsStop, func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "%s stopped %s", p.Subject, r.PathValue("id"))
	}))

	for _, who := range []struct {
		subject string
		role    auth.Role
	}{{"", ""}, {"vera", auth.RoleViewer}, {"otto", auth.RoleOperator}} {
		r := httptest.NewRequest(http.MethodPost, "/v1/executions/e-1/stop", nil)
		if who.subject != "" {
			tok, err := auth.MintDevToken(key, who.subject, []auth.Role{who.role}, time.Hour)
			if err != nil {
				panic(err)
			}
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Content-Type"), strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// audit: denied "" executions:stop: the request has no bearer token
	// 401 application/problem+json {"detail":"the request has no bearer token; send Authorization: Bearer \u003ctoken\u003e","instance":"/v1/executions/e-1/stop","status":401,"title":"Unauthorized","type":"about:blank"}
	// audit: denied "vera" executions:stop: executions:stop requires the operator role or a higher one; the caller has the roles viewer
	// 403 application/problem+json {"detail":"executions:stop requires the operator role or a higher one; the caller has the roles viewer","instance":"/v1/executions/e-1/stop","status":403,"title":"Forbidden","type":"about:blank"}
	// 200 text/plain; charset=utf-8 otto stopped e-1
}
