package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkVerifyHS256(b *testing.B) {
	b.ReportAllocs()
	c := newClock()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, HMACKey: hmacKey, NowFunc: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(c, nil)).SignedString(hmacKey)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		v.verified.tokens = nil // verified in full each time
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHS256Remembered is a token verified again: a caller's
// next requests.
func BenchmarkVerifyHS256Remembered(b *testing.B) {
	b.ReportAllocs()
	c := newClock()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, HMACKey: hmacKey, NowFunc: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(c, nil)).SignedString(hmacKey)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256CachedKey(b *testing.B) {
	b.ReportAllocs()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	s := newJWKSServer(b)
	s.set(http.StatusOK, rsaJWK("rsa-1", &rk.PublicKey))
	c := newClock()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, JWKSURL: s.URL, NowFunc: c.Now, HTTPClient: s.Client()})
	if err != nil {
		b.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(c, nil))
	tok.Header["kid"] = "rsa-1"
	signed, err := tok.SignedString(rk)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		v.verified.tokens = nil // verified in full each time
		if _, err := v.Verify(ctx, signed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllows(b *testing.B) {
	b.ReportAllocs()
	p := Principal{Subject: "u", Roles: []Role{RoleViewer, RoleOperator}}
	for b.Loop() {
		if !p.Can(PermExecutionsStart) {
			b.Fatal("denied")
		}
	}
}
