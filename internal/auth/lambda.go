package auth

import (
	"net/http"
	"slices"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// AuthorizerClaims authenticates requests that reach the API Lambda
// through API Gateway's JWT authorizer, which has already checked the
// token's signature, exp, nbf, iss and aud: it reads the claims the
// authorizer put in the event, so the Lambda verifies nothing again.
//
// The request must come through httpapi.LambdaHandler (the
// aws-lambda-go-api-proxy adapter), which keeps the event's request context
// in the request's context, where core.GetAPIGatewayV2ContextFromContext
// finds it. Served any other way (aiflow dev), every request is refused as
// carrying no token: use a Verifier there.
type AuthorizerClaims struct {
	// RoleClaims are the claims roles are read from; empty means
	// DefaultRoleClaims.
	RoleClaims []string
	// Issuer, if set, must equal the iss claim, a second check behind the
	// authorizer's.
	Issuer string
	// Audience, if set, must hold the aud claim (or client_id when there is
	// no aud).
	Audience []string
}

// Authenticate returns the Principal of the authorizer's claims. It
// returns ErrNoToken when the request carries no authorizer claims, and a
// *TokenError when the claims lack a subject or name another issuer or
// audience.
func (a AuthorizerClaims) Authenticate(r *http.Request) (Principal, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil || len(rc.Authorizer.JWT.Claims) == 0 {
		return Principal{}, ErrNoToken
	}
	claims := rc.Authorizer.JWT.Claims
	if a.Issuer != "" && claims["iss"] != a.Issuer {
		return Principal{}, tokenErr(nil, "the token's issuer is not accepted")
	}
	if len(a.Audience) > 0 {
		aud := splitRoleString(claims["aud"])
		if len(aud) == 0 && claims["client_id"] != "" {
			aud = []string{claims["client_id"]}
		}
		if !slices.ContainsFunc(aud, func(s string) bool { return slices.Contains(a.Audience, s) }) {
			return Principal{}, tokenErr(nil, "the token's audience is not accepted")
		}
	}
	p, err := PrincipalFromClaims(claims, a.RoleClaims...)
	if err != nil {
		return Principal{}, tokenErr(err, "%s", err.Error())
	}
	return p, nil
}
