package apigateway

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IssuerKeyBits is the size of the RSA keys an Issuer generates.
const IssuerKeyBits = 2048

// IssuerParams configure NewIssuer.
type IssuerParams struct {
	// URL is the issuer as tokens name it (iss) and as the HTTP API's
	// authorizer is configured with: the http(s) URL where Handler is
	// reachable, its discovery document at
	// URL/.well-known/openid-configuration. Required.
	URL string
	// KeyFile is a PEM file holding the RSA private key. When it exists
	// the key is read from it; otherwise a key is generated and written
	// there (mode 0600, its directory made 0700 when missing), so that
	// tokens survive a restart. Empty keeps a
	// generated key in memory only.
	KeyFile string
	// Now is the clock of the tokens' iat, nbf and exp; nil means
	// time.Now.
	Now func() time.Time
}

// Issuer is a local OpenID Connect issuer of RS256 access tokens: what a
// Cognito user pool or another identity provider is to the HTTP API on
// AWS, for tests and `aiflow stack`. It is safe for concurrent use.
type Issuer struct {
	url string
	key *rsa.PrivateKey
	kid string
	now func() time.Time
}

// NewIssuer returns an issuer with the key of p.KeyFile (made when the
// file does not exist). It returns an error for a URL that is not http(s),
// a key file that cannot be read, parsed or written, or one that holds no
// RSA key of at least IssuerKeyBits.
func NewIssuer(p IssuerParams) (*Issuer, error) {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("making the token issuer: %q is not an http(s) URL", p.URL)
	}
	key, err := issuerKey(p.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("making the token issuer: %w", err)
	}
	i := &Issuer{url: strings.TrimSuffix(p.URL, "/"), key: key, kid: thumbprint(&key.PublicKey), now: p.Now}
	if i.now == nil {
		i.now = time.Now
	}
	return i, nil
}

// issuerKey reads the key of path, or generates one (and saves it when
// path is set).
func issuerKey(path string) (*rsa.PrivateKey, error) {
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			return parseKey(path, data)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("reading the key file: %w", err)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, IssuerKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generating an RSA key: %w", err)
	}
	if path == "" {
		return key, nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the key: %w", err)
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, fmt.Errorf("saving the key to %s: %w", path, err)
	}
	return key, nil
}

func parseKey(path string, data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s holds a %s, not a PRIVATE KEY or an RSA PRIVATE KEY", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the key of %s: %w", path, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s holds a %T, not an RSA key", path, key)
	}
	if rk.N.BitLen() < IssuerKeyBits {
		return nil, fmt.Errorf("the RSA key of %s has %d bits; at least %d are required", path, rk.N.BitLen(), IssuerKeyBits)
	}
	return rk, nil
}

// writeFileAtomic writes data to path (mode 0600) through a temporary
// file, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// thumbprint is the key's RFC 7638 thumbprint, its kid.
func thumbprint(k *rsa.PublicKey) string {
	// The members in lexicographic order, no spaces, as RFC 7638 wants.
	doc := `{"e":"` + b64(big.NewInt(int64(k.E)).Bytes()) + `","kty":"RSA","n":"` + b64(k.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(doc))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// URL returns the issuer, as tokens name it.
func (i *Issuer) URL() string { return i.url }

// KeyID returns the kid of the issuer's key.
func (i *Issuer) KeyID() string { return i.kid }

// JWKSURL returns where Handler serves the issuer's key set.
func (i *Issuer) JWKSURL() string { return i.url + "/.well-known/jwks.json" }

// Handler serves the issuer's OpenID configuration at
// /.well-known/openid-configuration and its key set at
// /.well-known/jwks.json, under whatever prefix the issuer's URL has.
func (i *Issuer) Handler() http.Handler {
	discovery, _ := json.Marshal(map[string]any{
		"issuer":                                i.url,
		"jwks_uri":                              i.JWKSURL(),
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": i.kid,
		"n": b64(i.key.N.Bytes()), "e": b64(big.NewInt(int64(i.key.E)).Bytes()),
	}}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var body []byte
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			body = discovery
		case strings.HasSuffix(r.URL.Path, "/.well-known/jwks.json"):
			body = jwks
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(body)
	})
}

// TokenParams describe a token.
type TokenParams struct {
	// Subject is sub; required.
	Subject string
	// Audience is aud: a string for one, an array for several. It may be
	// empty only when Claims holds a client_id, as a Cognito access token
	// has no aud.
	Audience []string
	// Scopes become the scope claim, space separated, when set.
	Scopes []string
	// Roles become the roles claim (an array), which aiflow reads roles
	// from (auth.DefaultRoleClaims), when set.
	Roles []string
	// TTL is how long the token is valid; zero means an hour.
	TTL time.Duration
	// Claims are more claims; they may not replace iss, sub, aud, iat, nbf
	// or exp.
	Claims map[string]any
}

// Token returns an RS256 access token the issuer signs: iss, sub, aud,
// iat, nbf (now), exp (now + TTL), scope, roles and p.Claims. It returns
// an error for an empty subject, no audience, a negative TTL, or a claim
// that would replace a registered one.
func (i *Issuer) Token(p TokenParams) (string, error) {
	switch {
	case p.Subject == "":
		return "", errors.New("issuing a token: the subject is empty")
	case len(p.Audience) == 0 && p.Claims["client_id"] == nil:
		return "", errors.New("issuing a token: the audience is empty and there is no client_id claim")
	case p.TTL < 0:
		return "", fmt.Errorf("issuing a token: the lifetime %s is negative", p.TTL)
	}
	if p.TTL == 0 {
		p.TTL = time.Hour
	}
	now := i.now().Truncate(time.Second)
	claims := jwt.MapClaims{}
	for k, v := range p.Claims {
		switch k {
		case "iss", "sub", "aud", "iat", "nbf", "exp":
			return "", fmt.Errorf("issuing a token: the claim %s is the issuer's to set", k)
		}
		claims[k] = v
	}
	claims["iss"] = i.url
	claims["sub"] = p.Subject
	switch len(p.Audience) {
	case 0:
	case 1:
		claims["aud"] = p.Audience[0]
	default:
		claims["aud"] = p.Audience
	}
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(p.TTL).Unix()
	if len(p.Scopes) > 0 {
		claims["scope"] = strings.Join(p.Scopes, " ")
	}
	if len(p.Roles) > 0 {
		claims["roles"] = p.Roles
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = i.kid
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("signing a token: %w", err)
	}
	return s, nil
}
