package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
)

func newClock() *clocktest.Manual {
	return clocktest.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

var hmacKey = []byte("0123456789abcdef0123456789abcdef")

const (
	testIssuer   = "https://issuer.example"
	testAudience = "aiflow-api"
)

func hmacVerifier(t *testing.T, c *clocktest.Manual) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, HMACKey: hmacKey, NowFunc: c.Now})
	require.NoError(t, err)
	return v
}

// claims returns valid claims at c's time, changed by edit.
func claims(c *clocktest.Manual, edit func(jwt.MapClaims)) jwt.MapClaims {
	now := c.Now()
	m := jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": "alice", "roles": []string{"operator"},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(m)
	}
	return m
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, m jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, m)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// requireRefused checks that err is a *TokenError whose reason contains
// want and that neither the error nor its reason repeats the token.
func requireRefused(t *testing.T, token string, err error, want string) {
	t.Helper()
	var te *TokenError
	require.ErrorAs(t, err, &te)
	require.Contains(t, te.Reason, want)
	for _, part := range strings.Split(token, ".") {
		if len(part) > 8 {
			require.NotContains(t, err.Error(), part)
		}
	}
}

func TestVerifierHMAC(t *testing.T) {
	t.Parallel()
	c := newClock()
	v := hmacVerifier(t, c)
	ctx := context.Background()

	p, err := v.Verify(ctx, sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, nil)))
	require.NoError(t, err)
	require.Equal(t, Principal{Subject: "alice", Roles: []Role{RoleOperator}, Issuer: testIssuer, ExpiresAt: c.Now().Add(time.Hour)}, p)

	for _, tc := range []struct {
		name  string
		token string
		want  string
	}{
		{"expired", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["exp"] = c.Now().Add(-time.Minute).Unix() })), "the token has expired"},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["nbf"] = c.Now().Add(time.Minute).Unix() })), "not valid yet"},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["iat"] = c.Now().Add(time.Hour).Unix() })), "issued in the future"},
		{"no exp", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { delete(m, "exp") })), "the token has no exp claim"},
		{"no iss", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { delete(m, "iss") })), "the token has no iss claim"},
		{"other iss", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["iss"] = "https://evil" })), "issuer is not accepted"},
		{"no aud", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { delete(m, "aud") })), "the token has no aud claim"},
		{"other aud", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["aud"] = []string{"x", "y"} })), "audience is not accepted"},
		{"no sub", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { delete(m, "sub") })), "no sub claim"},
		{"other key", sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another-k"), "", claims(c, nil)), "signature is invalid"},
		{"HS384", sign(t, jwt.SigningMethodHS384, hmacKey, "", claims(c, nil)), "algorithm HS384 is not accepted (accepted: HS256)"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(c, nil)), "algorithm none is not accepted"},
		{"unknown alg", forgeHeader(t, `{"alg":"XS999","typ":"JWT"}`, sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, nil))), `algorithm "XS999" is not accepted`},
		{"malformed", "not-a-token", "malformed"},
		{"exp a string", sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["exp"] = "tomorrow" })), "wrong types"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(ctx, tc.token)
			requireRefused(t, tc.token, err, tc.want)
		})
	}
}

func forgeHeader(t *testing.T, header, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

func TestVerifierLeeway(t *testing.T) {
	t.Parallel()
	c := newClock()
	v := hmacVerifier(t, c)
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) {
		m["exp"] = c.Now().Add(-20 * time.Second).Unix()
		m["nbf"] = c.Now().Add(20 * time.Second).Unix()
	}))
	_, err := v.Verify(context.Background(), tok)
	require.NoError(t, err, "within the default 30 s skew")
	c.Advance(20 * time.Second)
	_, err = v.Verify(context.Background(), tok)
	requireRefused(t, tok, err, "expired")
}

func TestVerifierAcceptsClientIDWithoutAud(t *testing.T) {
	t.Parallel()
	c := newClock()
	v := hmacVerifier(t, c)
	// A Cognito access token: no aud, the app client in client_id.
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) {
		delete(m, "aud")
		m["client_id"] = testAudience
		delete(m, "roles")
		m["cognito:groups"] = []string{"author"}
	}))
	p, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, []Role{RoleAuthor}, p.Roles)
}

func TestNewVerifierRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts VerifierOptions
		want string
	}{
		{VerifierOptions{Audience: []string{"a"}, HMACKey: hmacKey}, "an issuer is required"},
		{VerifierOptions{Issuer: "i", HMACKey: hmacKey}, "audience is required"},
		{VerifierOptions{Issuer: "i", Audience: []string{"a"}}, "exactly one of"},
		{VerifierOptions{Issuer: "i", Audience: []string{"a"}, HMACKey: hmacKey, JWKSURL: "https://x"}, "exactly one of"},
		{VerifierOptions{Issuer: "i", Audience: []string{"a"}, HMACKey: []byte("short")}, "at least 32 are required"},
		{VerifierOptions{Issuer: "i", Audience: []string{"a"}, HMACKey: hmacKey, Leeway: time.Hour}, "leeway 1h0m0s"},
	} {
		_, err := NewVerifier(tc.opts)
		require.ErrorContains(t, err, tc.want)
	}
}

// jwksServer serves a JWKS whose keys a test may change, and counts
// requests.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []map[string]string
	status  int
	fetches atomic.Int64
}

func newJWKSServer(t testing.TB) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != http.StatusOK {
			w.WriteHeader(s.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, keys ...map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.keys = status, keys
}

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	raw, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(raw[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(raw[33:])}
}

type jwksBundle struct {
	clock  *clocktest.Manual
	server *jwksServer
	v      *Verifier
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
}

func setupJWKS(t *testing.T) *jwksBundle {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	s := newJWKSServer(t)
	s.set(http.StatusOK, rsaJWK("rsa-1", &rk.PublicKey), ecJWK("ec-1", &ek.PublicKey),
		map[string]string{"kty": "RSA", "kid": "enc-1", "use": "enc", "n": "AQAB", "e": "AQAB"},
		map[string]string{"kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "x": "AAAA"})
	c := newClock()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, JWKSURL: s.URL,
		NowFunc: c.Now, HTTPClient: s.Client(), JWKSMinRefetch: time.Minute, JWKSTTL: time.Hour})
	require.NoError(t, err)
	return &jwksBundle{clock: c, server: s, v: v, rsa: rk, ec: ek}
}

func TestVerifierJWKS(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	ctx := context.Background()

	p, err := b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, nil)))
	require.NoError(t, err)
	require.Equal(t, "alice", p.Subject)
	_, err = b.v.Verify(ctx, sign(t, jwt.SigningMethodES256, b.ec, "ec-1", claims(b.clock, nil)))
	require.NoError(t, err)
	require.Equal(t, int64(1), b.server.fetches.Load(), "keys are cached")

	for _, tc := range []struct {
		name  string
		token string
		want  string
	}{
		{"RS256 with the EC key's id", sign(t, jwt.SigningMethodRS256, b.rsa, "ec-1", claims(b.clock, nil)), "algorithm RS256 does not fit its key \"ec-1\", a ES256 key"},
		{"no kid", sign(t, jwt.SigningMethodRS256, b.rsa, "", claims(b.clock, nil)), "no kid header"},
		{"HS256", sign(t, jwt.SigningMethodHS256, hmacKey, "rsa-1", claims(b.clock, nil)), "algorithm HS256 is not accepted (accepted: RS256, ES256)"},
		{"RS512", sign(t, jwt.SigningMethodRS512, b.rsa, "rsa-1", claims(b.clock, nil)), "algorithm RS512 is not accepted"},
		{"encryption key", sign(t, jwt.SigningMethodRS256, b.rsa, "enc-1", claims(b.clock, nil)), `key "enc-1" is not one of the issuer's keys`},
		{"wrong signature", forgeHeader(t, `{"alg":"RS256","kid":"rsa-1","typ":"JWT"}`, sign(t, jwt.SigningMethodES256, b.ec, "ec-1", claims(b.clock, nil))), "signature is invalid"},
	} {
		_, err := b.v.Verify(ctx, tc.token)
		requireRefused(t, tc.token, err, tc.want)
	}
}

func TestVerifierRefusesAlgorithmConfusion(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	// The classic attack: sign HS256 with the server's RSA public key as
	// the HMAC secret, hoping the verifier uses the key as the token says.
	der, err := x509.MarshalPKIXPublicKey(&b.rsa.PublicKey)
	require.NoError(t, err)
	for _, secret := range [][]byte{der, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), b.rsa.N.Bytes()} {
		tok := sign(t, jwt.SigningMethodHS256, secret, "rsa-1", claims(b.clock, nil))
		_, err := b.v.Verify(context.Background(), tok)
		requireRefused(t, tok, err, "algorithm HS256 is not accepted")
	}
}

func TestVerifierRefetchesOnUnknownKidAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	ctx := context.Background()
	_, err := b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, nil)))
	require.NoError(t, err)
	require.Equal(t, int64(1), b.server.fetches.Load())

	// The issuer rotates to a new key.
	rk2, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	b.server.set(http.StatusOK, rsaJWK("rsa-1", &b.rsa.PublicKey), rsaJWK("rsa-2", &rk2.PublicKey))

	// Within the minimum interval an unknown kid is refused without a fetch.
	tok2 := sign(t, jwt.SigningMethodRS256, rk2, "rsa-2", claims(b.clock, nil))
	_, err = b.v.Verify(ctx, tok2)
	requireRefused(t, tok2, err, `key "rsa-2" is not one of the issuer's keys`)
	require.Equal(t, int64(1), b.server.fetches.Load())

	// After it, the unknown kid triggers one fetch, which finds the key.
	b.clock.Advance(time.Minute)
	_, err = b.v.Verify(ctx, tok2)
	require.NoError(t, err)
	require.Equal(t, int64(2), b.server.fetches.Load())

	// A flood of made-up kids costs at most one fetch per interval.
	b.clock.Advance(time.Minute)
	for i := range 50 {
		tok := sign(t, jwt.SigningMethodRS256, rk2, "made-up-"+string(rune('a'+i%26)), claims(b.clock, nil))
		_, err := b.v.Verify(ctx, tok)
		requireRefused(t, tok, err, "is not one of the issuer's keys")
	}
	require.Equal(t, int64(3), b.server.fetches.Load())
}

func TestVerifierKeepsStaleKeysWhenIssuerIsDown(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	ctx := context.Background()
	_, err := b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, nil)))
	require.NoError(t, err)

	b.server.set(http.StatusInternalServerError)
	b.clock.Advance(2 * time.Hour) // past the cache's lifetime
	_, err = b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, nil)))
	require.NoError(t, err, "a known key still verifies")
	require.Equal(t, int64(2), b.server.fetches.Load(), "the expired cache was refetched")

	b.clock.Advance(time.Minute)
	_, err = b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-9", claims(b.clock, nil)))
	require.ErrorIs(t, err, ErrKeysUnavailable)
	require.ErrorContains(t, err, "500 Internal Server Error")
}

func TestVerifierWithUnreachableJWKS(t *testing.T) {
	t.Parallel()
	s := newJWKSServer(t)
	s.set(http.StatusNotFound)
	c := newClock()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, JWKSURL: s.URL, NowFunc: c.Now, HTTPClient: s.Client()})
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tok := sign(t, jwt.SigningMethodES256, ek, "ec-1", claims(c, nil))
	_, err = v.Verify(context.Background(), tok)
	require.ErrorIs(t, err, ErrKeysUnavailable)
	_, err = v.Verify(context.Background(), tok)
	require.ErrorIs(t, err, ErrKeysUnavailable)
	require.Equal(t, int64(1), s.fetches.Load(), "a failed fetch is not retried within the interval")
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	doc, err := json.Marshal(map[string]any{"keys": []map[string]string{
		rsaJWK("small", &small.PublicKey),
		{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
		{"kty": "EC", "kid": "off-curve", "crv": "P-256",
			"x": base64.RawURLEncoding.EncodeToString(make([]byte, 32)), "y": base64.RawURLEncoding.EncodeToString(make([]byte, 32))},
	}})
	require.NoError(t, err)
	_, err = parseJWKS(doc)
	require.ErrorContains(t, err, "holds no RS256 or ES256 signature key")
	require.ErrorContains(t, err, `key "small": the RSA key has 1024 bits`)
	require.ErrorContains(t, err, `key "p384": curve "P-384" is not accepted`)
	require.ErrorContains(t, err, `key "off-curve": decoding the point`)
}

func TestVerifierAuthenticateReadsTheBearerHeader(t *testing.T) {
	t.Parallel()
	c := newClock()
	v := hmacVerifier(t, c)
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, nil))

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	_, err := v.Authenticate(r)
	require.ErrorIs(t, err, ErrNoToken)

	r.Header.Set("Authorization", "bearer "+tok)
	p, err := v.Authenticate(r)
	require.NoError(t, err)
	require.Equal(t, "alice", p.Subject)

	r.Header.Set("Authorization", "Basic YWxpY2U6c2VjcmV0")
	_, err = v.Authenticate(r)
	requireRefused(t, "", err, "not hold a Bearer token")
}

func TestVerifierFetchesOnceForConcurrentUnknownKids(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	ctx := context.Background()
	_, err := b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, nil)))
	require.NoError(t, err)
	ek2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	b.server.set(http.StatusOK, rsaJWK("rsa-1", &b.rsa.PublicKey), ecJWK("ec-2", &ek2.PublicKey))
	b.clock.Advance(time.Minute)

	tok := sign(t, jwt.SigningMethodES256, ek2, "ec-2", claims(b.clock, nil))
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = b.v.Verify(ctx, tok) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(2), b.server.fetches.Load(), "the first request fetched; the others found the new key")
}
