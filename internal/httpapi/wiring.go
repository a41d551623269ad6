package httpapi

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/ratelimit"
)

// NewAuthenticator returns the authenticator cfg describes: API Gateway's
// authorizer claims, a JWKS verifier, or an HMAC development verifier
// (with devKey when cfg has no key; devKey may be nil only when cfg has
// one). The error names what is wrong.
func NewAuthenticator(cfg config.Auth, devKey []byte) (auth.Authenticator, error) {
	switch cfg.Mode {
	case config.AuthModeAuthorizer:
		return auth.AuthorizerClaims{RoleClaims: cfg.RoleClaims, Issuer: cfg.Issuer, Audience: cfg.Audience}, nil
	case config.AuthModeJWKS:
		v, err := auth.NewVerifier(auth.VerifierOptions{Issuer: cfg.Issuer, Audience: cfg.Audience, JWKSURL: cfg.JWKSURL,
			RoleClaims: cfg.RoleClaims, Leeway: cfg.ClockSkew})
		if err != nil {
			return nil, fmt.Errorf("making the token verifier: %w", err)
		}
		return v, nil
	case config.AuthModeHMAC:
		key := []byte(cfg.HMACKey.Reveal())
		if len(key) == 0 {
			key = devKey
		}
		v, err := auth.NewVerifier(auth.VerifierOptions{Issuer: cfg.Issuer, Audience: cfg.Audience, HMACKey: key,
			RoleClaims: cfg.RoleClaims, Leeway: cfg.ClockSkew})
		if err != nil {
			return nil, fmt.Errorf("making the token verifier: %w", err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("making the authenticator: unknown mode %q", cfg.Mode)
}

// NewLimiter returns the per-principal rate limiter of limit requests a
// second with bursts of burst (config.Auth's or config.Dev's RateLimit
// and RateBurst).
func NewLimiter(limit, burst int) (*ratelimit.Limiter, error) {
	l, err := ratelimit.New(ratelimit.Options{Rate: float64(limit), Burst: burst})
	if err != nil {
		return nil, fmt.Errorf("making the rate limiter: %w", err)
	}
	return l, nil
}
