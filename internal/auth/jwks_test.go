package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJWKSReturnsTheKeyAKidNames(t *testing.T) {
	t.Parallel()
	b := setupJWKS(t)
	j := NewJWKS(JWKSParams{URL: b.server.URL, HTTPClient: b.server.Client(), NowFunc: b.clock.Now, MinRefetch: time.Minute})
	ctx := context.Background()

	k, alg, err := j.Key(ctx, "rsa-1")
	require.NoError(t, err)
	require.Equal(t, "RS256", alg)
	require.True(t, b.rsa.PublicKey.Equal(k))
	k, alg, err = j.Key(ctx, "ec-1")
	require.NoError(t, err)
	require.Equal(t, "ES256", alg)
	require.True(t, b.ec.PublicKey.Equal(k))
	require.EqualValues(t, 1, b.server.fetches.Load(), "one fetch serves both keys")

	_, _, err = j.Key(ctx, "enc-1")
	var te *TokenError
	require.ErrorAs(t, err, &te, "an encryption key is not a signing key")

	b.server.set(http.StatusServiceUnavailable)
	b.clock.Advance(time.Minute)
	_, _, err = j.Key(ctx, "rsa-2")
	require.True(t, errors.Is(err, ErrKeysUnavailable), err)
	_, _, err = j.Key(ctx, "rsa-1")
	require.NoError(t, err, "cached keys still verify while the issuer is down")
}
