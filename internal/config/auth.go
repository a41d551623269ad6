package config

import (
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// AuthMode is how the API authenticates its callers, AIFLOW_AUTH_MODE.
type AuthMode string

// The modes accepted in AIFLOW_AUTH_MODE.
const (
	// AuthModeHMAC verifies HS256 tokens signed with a shared key: for
	// `aiflow dev` and tests.
	AuthModeHMAC AuthMode = "hmac"
	// AuthModeJWKS verifies RS256 and ES256 tokens with the keys an
	// identity provider publishes at a JWKS URL.
	AuthModeJWKS AuthMode = "jwks"
	// AuthModeAuthorizer trusts the claims API Gateway's JWT authorizer
	// verified and put in the Lambda event.
	AuthModeAuthorizer AuthMode = "authorizer"
)

// The issuer and audience of development tokens; they are those of
// internal/auth's DevIssuer and DevAudience, which config does not import.
const (
	devAuthIssuer   = "aiflow-dev"
	devAuthAudience = "aiflow"
)

// Auth is the API's authentication and rate-limit configuration. A
// binary that serves the API reads it together with its own variables
// (the variables are listed in docs/security.md).
type Auth struct {
	// Mode is AIFLOW_AUTH_MODE (hmac, jwks or authorizer); unset means
	// jwks when AIFLOW_AUTH_JWKS_URL is set, hmac otherwise.
	Mode AuthMode
	// JWKSURL is AIFLOW_AUTH_JWKS_URL, the identity provider's public keys
	// (https, or http to a loopback address); required in jwks mode.
	JWKSURL string
	// HMACKey is AIFLOW_AUTH_HMAC_KEY, at least 32 bytes, for hmac mode;
	// empty means the binary makes a random key at start.
	HMACKey telemetry.Secret
	// Issuer is AIFLOW_AUTH_ISSUER, the iss tokens must carry: required in
	// jwks mode, aiflow-dev by default in hmac mode, checked when set in
	// authorizer mode.
	Issuer string
	// Audience is AIFLOW_AUTH_AUDIENCE, comma-separated accepted audiences
	// (aud, or client_id when a token has no aud): required in jwks mode,
	// aiflow by default in hmac mode, checked when set in authorizer mode.
	Audience []string
	// RoleClaims is AIFLOW_AUTH_ROLE_CLAIMS, comma-separated claims that
	// hold roles (default roles,cognito:groups,scope).
	RoleClaims []string
	// ClockSkew is AIFLOW_AUTH_CLOCK_SKEW (default 30s, at most 5m), the
	// leeway on exp, nbf and iat.
	ClockSkew time.Duration
	// RateLimit is AIFLOW_RATE_LIMIT (default 50, 1 to 100000), requests
	// per second allowed to each principal.
	RateLimit int
	// RateBurst is AIFLOW_RATE_BURST (default 100, 1 to 100000), requests a
	// principal may send at once after a pause.
	RateBurst int
	// TrustedProxies is AIFLOW_TRUSTED_PROXIES, comma-separated networks
	// (CIDR) or addresses of the reverse proxies whose X-Forwarded-For
	// names a request's source address; unset means none (on Lambda the
	// source is API Gateway's sourceIp).
	TrustedProxies []netip.Prefix
}

// Defaults of Auth.
const (
	DefaultAuthClockSkew = 30 * time.Second
	maxAuthClockSkew     = 5 * time.Minute
	minAuthHMACKeyLen    = 32
	DefaultRateLimit     = 50
	DefaultRateBurst     = 100
)

// LoadAuth reads Auth from the environment through lookup; binary names
// the program in the error. When variables are missing or invalid it
// returns an *Error listing all of them, together with an Auth that holds
// defaults in their place.
func LoadAuth(lookup LookupFunc, binary string) (Auth, error) {
	r := newReader(lookup)
	cfg := readAuth(r)
	return cfg, r.err(binary)
}

// readRateLimit reads AIFLOW_RATE_LIMIT and AIFLOW_RATE_BURST, the
// requests a second each principal may send an API and its burst, for
// every command that serves one.
func readRateLimit(r *reader) (limit, burst int) {
	return r.int("AIFLOW_RATE_LIMIT", DefaultRateLimit, 1, 100000), r.int("AIFLOW_RATE_BURST", DefaultRateBurst, 1, 100000)
}

// readAuth reads the variables of Auth, so a binary's Load function can
// read them among its own.
func readAuth(r *reader) Auth {
	cfg := Auth{
		JWKSURL:    r.string("AIFLOW_AUTH_JWKS_URL", ""),
		HMACKey:    r.secret("AIFLOW_AUTH_HMAC_KEY"),
		Issuer:     r.string("AIFLOW_AUTH_ISSUER", ""),
		Audience:   commaList(r.string("AIFLOW_AUTH_AUDIENCE", "")),
		RoleClaims: commaList(r.string("AIFLOW_AUTH_ROLE_CLAIMS", "roles,cognito:groups,scope")),
		ClockSkew:  r.duration("AIFLOW_AUTH_CLOCK_SKEW", DefaultAuthClockSkew),
	}
	cfg.RateLimit, cfg.RateBurst = readRateLimit(r)
	cfg.TrustedProxies = r.prefixes("AIFLOW_TRUSTED_PROXIES")
	def := string(AuthModeHMAC)
	if cfg.JWKSURL != "" {
		def = string(AuthModeJWKS)
	}
	cfg.Mode = AuthMode(r.enum("AIFLOW_AUTH_MODE", def, string(AuthModeHMAC), string(AuthModeJWKS), string(AuthModeAuthorizer)))

	if cfg.ClockSkew > maxAuthClockSkew {
		r.problem("AIFLOW_AUTH_CLOCK_SKEW", DefaultAuthClockSkew.String(), "%s is more than %s", cfg.ClockSkew, maxAuthClockSkew)
		cfg.ClockSkew = DefaultAuthClockSkew
	}
	if cfg.JWKSURL != "" && !acceptableJWKSURL(cfg.JWKSURL) {
		r.problem("AIFLOW_AUTH_JWKS_URL", exampleJWKSURL, "%s is not an https:// URL (http:// is accepted only to a loopback address)", show("AIFLOW_AUTH_JWKS_URL", cfg.JWKSURL))
		cfg.JWKSURL = ""
	}
	if n := len(cfg.HMACKey.Reveal()); n > 0 && n < minAuthHMACKeyLen {
		r.problem("AIFLOW_AUTH_HMAC_KEY", "", "has %d bytes; at least %d are required (for example, 64 hex digits from `openssl rand -hex 32`)", n, minAuthHMACKeyLen)
		cfg.HMACKey = ""
	}
	if len(cfg.RoleClaims) == 0 {
		cfg.RoleClaims = []string{"roles", "cognito:groups", "scope"}
	}
	switch cfg.Mode {
	case AuthModeJWKS:
		if cfg.JWKSURL == "" {
			if _, set := r.get("AIFLOW_AUTH_JWKS_URL"); !set {
				r.problem("AIFLOW_AUTH_JWKS_URL", exampleJWKSURL, "required when AIFLOW_AUTH_MODE is jwks but not set")
			}
		}
		if cfg.Issuer == "" {
			r.problem("AIFLOW_AUTH_ISSUER", exampleIssuer, "required when AIFLOW_AUTH_MODE is jwks but not set")
		}
		if len(cfg.Audience) == 0 {
			r.problem("AIFLOW_AUTH_AUDIENCE", "aiflow-api", "required when AIFLOW_AUTH_MODE is jwks but not set")
		}
	case AuthModeHMAC:
		if cfg.Issuer == "" {
			cfg.Issuer = devAuthIssuer
		}
		if len(cfg.Audience) == 0 {
			cfg.Audience = []string{devAuthAudience}
		}
	}
	return cfg
}

const (
	exampleJWKSURL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE/.well-known/jwks.json"
	exampleIssuer  = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE"
)

func acceptableJWKSURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// commaList splits a comma-separated value into its trimmed, non-empty items.
func commaList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// LogValue shows the configuration in logs with the HMAC key hidden.
func (c Auth) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mode", string(c.Mode)),
		slog.String("jwks_url", c.JWKSURL),
		slog.Bool("hmac_key_set", c.HMACKey != ""),
		slog.String("issuer", c.Issuer),
		slog.Any("audience", c.Audience),
		slog.Any("role_claims", c.RoleClaims),
		slog.Duration("clock_skew", c.ClockSkew),
		slog.Int("rate_limit", c.RateLimit),
		slog.Int("rate_burst", c.RateBurst),
		slog.Any("trusted_proxies", c.TrustedProxies),
	)
}

// LoadAudit reads the configuration of `aiflow audit`, which needs the
// same variables as `aiflow migrate`; its errors name aiflow audit.
func LoadAudit(lookup LookupFunc) (Migrate, error) { return loadMigrate(lookup, "aiflow audit") }
