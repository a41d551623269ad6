package auth

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/stretchr/testify/require"
)

// lambdaEvent is an HTTP API (payload 2.0) event as API Gateway sends it
// after its JWT authorizer accepted the token.
func lambdaEvent(claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "POST /v1/executions/{id}/stop",
		RawPath:  "/v1/executions/e-1/stop",
		Headers:  map[string]string{"content-type": "application/json", "user-agent": "curl/8.5.0"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "JKJaXmPLvHcESHA=",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: "POST", Path: "/v1/executions/e-1/stop", Protocol: "HTTP/1.1", SourceIP: "203.0.113.9", UserAgent: "curl/8.5.0",
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

func TestAuthorizerClaimsThroughTheLambdaAdapter(t *testing.T) {
	t.Parallel()
	var got Principal
	var denied []Denial
	g := &Guard{
		Authenticator: AuthorizerClaims{Issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc", Audience: []string{"client-1"}},
		AuditFunc:     func(_ context.Context, d Denial) { denied = append(denied, d) },
	}
	h := g.RequireFunc(PermExecutionsStop, func(w http.ResponseWriter, r *http.Request) {
		got, _ = FromContext(r.Context())
		w.WriteHeader(http.StatusAccepted)
	})
	adapter := httpadapter.NewV2(h)
	ctx := context.Background()
	base := map[string]string{
		"sub": "6f1c-user", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
		"client_id": "client-1", "token_use": "access", "exp": "1893456000",
	}

	// A Cognito access token's claims: groups as API Gateway renders them.
	claims := clone(base)
	claims["cognito:groups"] = "[operator viewer]"
	resp, err := adapter.ProxyWithContext(ctx, lambdaEvent(claims))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, "6f1c-user", got.Subject)
	require.Equal(t, []Role{RoleViewer, RoleOperator}, got.Roles)

	// A viewer may not stop executions.
	claims["cognito:groups"] = "[viewer]"
	resp, err = adapter.ProxyWithContext(ctx, lambdaEvent(claims))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Headers["Content-Type"])
	require.Equal(t, "203.0.113.9", denied[len(denied)-1].Request.RemoteAddr)

	// No authorizer (a route left open by mistake): no token.
	resp, err = adapter.ProxyWithContext(ctx, lambdaEvent(nil))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Another issuer or app client behind the same authorizer is refused.
	for k, v := range map[string]string{"iss": "https://evil", "client_id": "client-2"} {
		claims := clone(base)
		claims[k] = v
		claims["cognito:groups"] = "[admin]"
		resp, err = adapter.ProxyWithContext(ctx, lambdaEvent(claims))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, k)
	}

	// Claims without a subject are refused.
	claims = clone(base)
	delete(claims, "sub")
	resp, err = adapter.ProxyWithContext(ctx, lambdaEvent(claims))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Body, "no sub claim")
}

func TestAuthorizerClaimsOutsideLambda(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest(http.MethodGet, "/v1/workflows", nil)
	require.NoError(t, err)
	_, err = AuthorizerClaims{}.Authenticate(r)
	require.ErrorIs(t, err, ErrNoToken)
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
