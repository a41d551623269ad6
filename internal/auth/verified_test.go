package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

func TestVerifierRemembersATokenUntilItExpires(t *testing.T) {
	t.Parallel()
	c := newClock()
	v := hmacVerifier(t, c)
	ctx := context.Background()
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["exp"] = c.Now().Add(time.Minute).Unix() }))

	first, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Len(t, v.verified.tokens, 1, "an accepted token is remembered")
	first.Roles[0] = RoleAdmin // a caller's change reaches no other caller

	again, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, Principal{Subject: "alice", Roles: []Role{RoleOperator}, Issuer: testIssuer, ExpiresAt: c.Now().Add(time.Minute)}, again)

	// Accepted within the leeway past exp, refused from its end on, as
	// a token verified in full is.
	c.Advance(time.Minute + DefaultLeeway - time.Second)
	_, err = v.Verify(ctx, tok)
	require.NoError(t, err)
	c.Advance(time.Second)
	_, err = v.Verify(ctx, tok)
	requireRefused(t, tok, err, "the token has expired")
}

func TestVerifierRemembersNoRefusedToken(t *testing.T) {
	t.Parallel()
	c := newClock()
	v := hmacVerifier(t, c)
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, "", claims(c, func(m jwt.MapClaims) { m["nbf"] = c.Now().Add(time.Hour).Unix() }))
	for range 2 {
		_, err := v.Verify(context.Background(), tok)
		requireRefused(t, tok, err, "not valid yet")
	}
	require.Empty(t, v.verified.tokens)
}

func TestVerifierRemembersATokenOnlyWhileItsKeysAreHeld(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	ctx := context.Background()
	tok := sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, func(m jwt.MapClaims) { m["exp"] = b.clock.Now().Add(3 * time.Hour).Unix() }))
	_, err := b.v.Verify(ctx, tok)
	require.NoError(t, err)

	// The issuer withdraws rsa-1 for rsa-2. Until the keys are fetched
	// again, rsa-1's tokens verify, remembered or not.
	rk2, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	b.server.set(http.StatusOK, rsaJWK("rsa-2", &rk2.PublicKey))
	_, err = b.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, int64(1), b.server.fetches.Load())

	// A token naming rsa-2 has the keys fetched again: from then on the
	// remembered token is refused, as it would be verified in full.
	b.clock.Advance(time.Minute)
	_, err = b.v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rk2, "rsa-2", claims(b.clock, nil)))
	require.NoError(t, err)
	require.Equal(t, int64(2), b.server.fetches.Load())
	_, err = b.v.Verify(ctx, tok)
	requireRefused(t, tok, err, `key "rsa-1" is not one of the issuer's keys`)
}

func TestVerifierReverifiesARememberedTokenWhenItsKeysGrowStale(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	ctx := context.Background()
	tok := sign(t, jwt.SigningMethodRS256, b.rsa, "rsa-1", claims(b.clock, func(m jwt.MapClaims) { m["exp"] = b.clock.Now().Add(3 * time.Hour).Unix() }))
	_, err := b.v.Verify(ctx, tok)
	require.NoError(t, err)

	rk2, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	b.server.set(http.StatusOK, rsaJWK("rsa-2", &rk2.PublicKey))
	b.clock.Advance(time.Hour) // the keys' lifetime
	_, err = b.v.Verify(ctx, tok)
	requireRefused(t, tok, err, `key "rsa-1" is not one of the issuer's keys`)
	require.Equal(t, int64(2), b.server.fetches.Load())
}
