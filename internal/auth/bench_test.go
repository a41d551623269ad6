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
	v, tok := hs256Token(b)
	verifyLoop(b, v, tok, true)
}

// BenchmarkVerifyHS256Remembered is a token verified again: a caller's
// next requests.
func BenchmarkVerifyHS256Remembered(b *testing.B) {
	b.ReportAllocs()
	v, tok := hs256Token(b)
	verifyLoop(b, v, tok, false)
}

// hs256Token returns a verifier of HS256 tokens and a token it takes.
func hs256Token(b *testing.B) (*Verifier, string) {
	c := newClock()
	v, err := NewVerifier(VerifierOptions{Issuer: testIssuer, Audience: []string{testAudience}, HMACKey: hmacKey, NowFunc: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(c, nil)).SignedString(hmacKey)
	if err != nil {
		b.Fatal(err)
	}
	return v, tok
}

// verifyLoop verifies tok with v b.N times, in full each time when
// forget is set (the verifier's memory of verified tokens cleared).
func verifyLoop(b *testing.B, v *Verifier, tok string, forget bool) {
	ctx := context.Background()
	for b.Loop() {
		if forget {
			v.verified.tokens = nil
		}
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
	verifyLoop(b, v, signed, true)
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
