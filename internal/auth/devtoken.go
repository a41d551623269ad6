package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The issuer and audience of development tokens: a Verifier for `aiflow
// dev` is configured with them and the development HMAC key.
const (
	DevIssuer   = "aiflow-dev"
	DevAudience = "aiflow"
)

// NewDevKey returns a random HMAC key of MinHMACKeyLen bytes, for a
// development server that was given none.
func NewDevKey() ([]byte, error) {
	key := make([]byte, MinHMACKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating a development key: %w", err)
	}
	return key, nil
}

// MintDevToken returns an HS256 token signed with key for subject with
// roles, issued by DevIssuer for DevAudience, valid from now for ttl. It is
// for `aiflow dev` and tests; production tokens come from an identity
// provider. It returns an error for a short key, an empty subject, an
// unknown role or a ttl that is not positive. A service's token has the
// role RoleService and the subject ServiceSubject(name).
func MintDevToken(key []byte, subject string, roles []Role, ttl time.Duration) (string, error) {
	return mintDevToken(key, subject, roles, ttl, time.Now())
}

func mintDevToken(key []byte, subject string, roles []Role, ttl time.Duration, now time.Time) (string, error) {
	switch {
	case len(key) < MinHMACKeyLen:
		return "", fmt.Errorf("minting a development token: the key has %d bytes; at least %d are required", len(key), MinHMACKeyLen)
	case subject == "":
		return "", errors.New("minting a development token: the subject is empty")
	case ttl <= 0:
		return "", fmt.Errorf("minting a development token: the lifetime %s is not positive", ttl)
	}
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		if parsed, ok := ParseRole(string(r)); !ok || parsed != r {
			return "", fmt.Errorf("minting a development token: %q is not a role (roles: viewer, operator, author, admin, service)", r)
		}
		names = append(names, string(r))
	}
	now = now.Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss":   DevIssuer,
		"aud":   DevAudience,
		"sub":   subject,
		"roles": names,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(ttl).Unix(),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("signing a development token: %w", err)
	}
	return s, nil
}
