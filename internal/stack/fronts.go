package stack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/aiflow/aiflow/internal/apigateway"
	"github.com/aiflow/aiflow/internal/lambdaemu"
)

// The template parameters the stack gives its local token issuer to, when
// the template declares them and Params.Parameters does not set them: the
// JWT authorizer's issuer and audience.
const (
	IssuerParameter   = "JwtIssuer"
	AudienceParameter = "JwtAudience"
	// Audience is the audience of the stack's tokens.
	Audience = "aiflow"
	// issuerKeyFile keeps the issuer's key in DataDir, so tokens survive
	// restarts.
	issuerKeyFile = "issuer-key.pem"
)

// startIssuer serves the stack's token issuer, whose keys the HTTP APIs'
// JWT authorizers fetch as API Gateway fetches an identity provider's.
func (s *Stack) startIssuer() error {
	ln, err := s.listen("")
	if err != nil {
		return fmt.Errorf("listening for the token issuer: %w", err)
	}
	iss, err := apigateway.NewIssuer(apigateway.IssuerParams{URL: httpURL(ln), KeyFile: filepath.Join(s.p.DataDir, issuerKeyFile)})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("making the token issuer: %w", err)
	}
	s.issuer = iss
	s.endpoints.Issuer = iss.URL()
	s.serve(ln, iss.Handler())
	return nil
}

// Token returns a token of the stack's issuer for the HTTP APIs, with the
// given subject and roles, valid for ttl.
func (s *Stack) Token(subject string, roles []string, ttl time.Duration) (string, error) {
	return s.issuer.Token(apigateway.TokenParams{Subject: subject, Audience: []string{Audience}, Roles: roles, TTL: ttl})
}

// startFronts serves the HTTP APIs in front of their functions (payload
// format 2.0, JWT authorizers, CORS, throttling) and the function URLs.
func (s *Stack) startFronts(apis, urls map[string]net.Listener) error {
	invoke := func(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
		return s.functions.invoke(ctx, function, payload)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, api := range s.model.HTTPAPIs {
		h, err := apigateway.NewHTTPAPI(apigateway.HTTPAPIParams{
			API: api, Invoke: invoke, HTTPClient: client, AccountID: s.p.AccountID, Logger: s.logger,
		})
		if err != nil {
			return resourceErr(api.LogicalID, "", "%w", err)
		}
		s.serve(apis[api.LogicalID], h)
	}
	for _, fu := range s.model.FunctionURLs {
		h, err := apigateway.NewFunctionURL(apigateway.FunctionURLParams{URL: fu, Invoke: invoke, Logger: s.logger})
		if err != nil {
			return resourceErr(fu.LogicalID, "", "%w", err)
		}
		s.serve(urls[fu.LogicalID], h)
	}
	return nil
}
