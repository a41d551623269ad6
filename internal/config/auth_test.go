package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
)

func TestLoadAuthDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadAuth(env(nil), "aiflow dev")
	require.NoError(t, err)
	require.Equal(t, Auth{
		Mode:       AuthModeHMAC,
		Issuer:     auth.DevIssuer,
		Audience:   []string{auth.DevAudience},
		RoleClaims: auth.DefaultRoleClaims,
		ClockSkew:  30 * time.Second,
		RateLimit:  50,
		RateBurst:  100,
	}, cfg)
}

func TestLoadAuthJWKS(t *testing.T) {
	t.Parallel()
	cfg, err := LoadAuth(env(map[string]string{
		"AIFLOW_AUTH_JWKS_URL":    exampleJWKSURL,
		"AIFLOW_AUTH_ISSUER":      exampleIssuer,
		"AIFLOW_AUTH_AUDIENCE":    " client-1, client-2 ,",
		"AIFLOW_AUTH_ROLE_CLAIMS": "cognito:groups",
		"AIFLOW_AUTH_CLOCK_SKEW":  "10s",
		"AIFLOW_RATE_LIMIT":       "5",
		"AIFLOW_RATE_BURST":       "10",
	}), "functions/api")
	require.NoError(t, err)
	require.Equal(t, Auth{
		Mode: AuthModeJWKS, JWKSURL: exampleJWKSURL, Issuer: exampleIssuer,
		Audience: []string{"client-1", "client-2"}, RoleClaims: []string{"cognito:groups"},
		ClockSkew: 10 * time.Second, RateLimit: 5, RateBurst: 10,
	}, cfg)
}

func TestLoadAuthAuthorizerNeedsNothing(t *testing.T) {
	t.Parallel()
	cfg, err := LoadAuth(env(map[string]string{"AIFLOW_AUTH_MODE": "authorizer"}), "functions/api")
	require.NoError(t, err)
	require.Equal(t, AuthModeAuthorizer, cfg.Mode)
	require.Empty(t, cfg.Issuer)
	require.Empty(t, cfg.Audience)
}

func TestLoadAuthAcceptsLoopbackHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:9000/jwks.json", "http://localhost/jwks", "http://[::1]:80/k"} {
		cfg, err := LoadAuth(env(map[string]string{"AIFLOW_AUTH_JWKS_URL": u, "AIFLOW_AUTH_ISSUER": "i", "AIFLOW_AUTH_AUDIENCE": "a"}), "x")
		require.NoError(t, err, u)
		require.Equal(t, u, cfg.JWKSURL)
	}
}

func TestLoadAuthReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := LoadAuth(env(map[string]string{
		"AIFLOW_AUTH_MODE":       "jwks",
		"AIFLOW_AUTH_JWKS_URL":   "http://idp.example.com/jwks.json",
		"AIFLOW_AUTH_HMAC_KEY":   "too-short-secret",
		"AIFLOW_AUTH_CLOCK_SKEW": "1h",
		"AIFLOW_RATE_LIMIT":      "0",
	}), "functions/api")
	var got []string
	for _, p := range problems(t, err) {
		got = append(got, p.String())
	}
	require.Equal(t, []string{
		"AIFLOW_RATE_LIMIT: \"0\" is not between 1 and 100000 (example: AIFLOW_RATE_LIMIT=50)",
		"AIFLOW_AUTH_CLOCK_SKEW: 1h0m0s is more than 5m0s (example: AIFLOW_AUTH_CLOCK_SKEW=30s)",
		`AIFLOW_AUTH_JWKS_URL: "http://idp.example.com/jwks.json" is not an https:// URL (http:// is accepted only to a loopback address) (example: AIFLOW_AUTH_JWKS_URL=` + exampleJWKSURL + ")",
		"AIFLOW_AUTH_HMAC_KEY: has 16 bytes; at least 32 are required (for example, 64 hex digits from `openssl rand -hex 32`)",
		"AIFLOW_AUTH_ISSUER: required when AIFLOW_AUTH_MODE is jwks but not set (example: AIFLOW_AUTH_ISSUER=" + exampleIssuer + ")",
		"AIFLOW_AUTH_AUDIENCE: required when AIFLOW_AUTH_MODE is jwks but not set (example: AIFLOW_AUTH_AUDIENCE=aiflow-api)",
	}, got)
	require.NotContains(t, err.Error(), "too-short-secret")
}

func TestAuthLogValueHidesTheKey(t *testing.T) {
	t.Parallel()
	cfg, err := LoadAuth(env(map[string]string{"AIFLOW_AUTH_HMAC_KEY": strings.Repeat("k", 40)}), "aiflow dev")
	require.NoError(t, err)
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "auth", cfg)
	require.NotContains(t, b.String(), "kkkk")
	require.Contains(t, b.String(), "auth.hmac_key_set=true")
	require.NotContains(t, fmt.Sprintf("%v %+v", cfg, cfg), "kkkk")
}

func TestLoadAudit(t *testing.T) {
	t.Parallel()
	_, err := LoadAudit(env(map[string]string{"AIFLOW_LOG_LEVEL": "loud"}))
	require.ErrorContains(t, err, "aiflow audit: 1 configuration problem")
}
