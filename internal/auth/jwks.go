package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// maxJWKSSize bounds a JWKS document.
const maxJWKSSize = 1 << 20

// minRSABits is the smallest RSA modulus accepted (RFC 7518, section 3.3).
const minRSABits = 2048

// publicKey is one usable key of a JWKS: its Go key and the one algorithm
// it may verify.
type publicKey struct {
	alg    string // RS256 or ES256
	public any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// keySet caches an issuer's JWKS. Keys are fetched on first use, again
// after ttl, and again when a token names a key not in the cache, but never
// more often than once per minRefetch, so tokens with made-up key ids cannot
// turn the verifier into a flood of requests to the issuer.
type keySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	ttl        time.Duration
	minRefetch time.Duration

	mu        sync.RWMutex
	keys      map[string]publicKey
	fetchedAt time.Time // of the keys held
	triedAt   time.Time // of the last fetch, successful or not
}

func newKeySet(url string, client *http.Client, now func() time.Time, ttl, minRefetch time.Duration) *keySet {
	if ttl <= 0 {
		ttl = time.Hour
	}
	if minRefetch <= 0 {
		minRefetch = time.Minute
	}
	return &keySet{url: url, client: client, now: now, ttl: ttl, minRefetch: minRefetch}
}

// lookup returns the key kid names. It returns a *TokenError for a key
// the issuer does not publish, and an error wrapping ErrKeysUnavailable
// when the JWKS cannot be fetched and the key is not cached.
func (s *keySet) lookup(ctx context.Context, kid string) (publicKey, error) {
	s.mu.RLock()
	k, ok := s.keys[kid]
	fresh := s.keys != nil && s.now().Sub(s.fetchedAt) < s.ttl
	s.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	// Another request may have fetched while this one waited for the lock.
	k, ok = s.keys[kid]
	fresh = s.keys != nil && now.Sub(s.fetchedAt) < s.ttl
	if ok && fresh {
		return k, nil
	}
	var fetchErr error
	if s.triedAt.IsZero() || now.Sub(s.triedAt) >= s.minRefetch {
		s.triedAt = now
		// One caller giving up must not cost every caller the fresh keys.
		keys, err := s.fetch(context.WithoutCancel(ctx))
		if err == nil {
			s.keys, s.fetchedAt = keys, now
		}
		fetchErr = err
	}
	// Stale keys still verify when the issuer cannot be reached.
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	if fetchErr != nil {
		return publicKey{}, fmt.Errorf("%w: fetching the JWKS: %w", ErrKeysUnavailable, fetchErr)
	}
	if s.keys == nil {
		return publicKey{}, fmt.Errorf("%w: the JWKS was fetched less than %s ago and failed", ErrKeysUnavailable, s.minRefetch)
	}
	return publicKey{}, tokenErr(nil, "the token's key %s is not one of the issuer's keys", quoteShort(kid))
}

// fetch reads and parses the JWKS.
func (s *keySet) fetch(ctx context.Context) (map[string]publicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", s.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("the JWKS is larger than %d bytes", maxJWKSSize)
	}
	return parseJWKS(body)
}

// jwk holds the members of a JSON Web Key (RFC 7517) that aiflow uses.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS returns the signature keys of a JWKS document by key id.
// Keys that aiflow cannot use (encryption keys, other types, curves or
// algorithms, short RSA keys, keys without an id) are skipped; a document
// with no usable key is an error.
func parseJWKS(body []byte) (map[string]publicKey, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decoding the JWKS: %w", err)
	}
	keys := map[string]publicKey{}
	var skipped []error
	for _, k := range doc.Keys {
		if k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pk, err := k.publicKey()
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %q: %w", k.Kid, err))
			continue
		}
		keys[k.Kid] = pk
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the JWKS holds no RS256 or ES256 signature key with a kid: %w", errors.Join(skipped...))
	}
	return keys, nil
}

func (k jwk) publicKey() (publicKey, error) {
	switch k.Kty {
	case "RSA":
		if k.Alg != "" && k.Alg != "RS256" {
			return publicKey{}, fmt.Errorf("algorithm %q is not accepted", k.Alg)
		}
		n, err := b64Int(k.N)
		if err != nil {
			return publicKey{}, fmt.Errorf("decoding n: %w", err)
		}
		e, err := b64Int(k.E)
		if err != nil {
			return publicKey{}, fmt.Errorf("decoding e: %w", err)
		}
		if n.BitLen() < minRSABits {
			return publicKey{}, fmt.Errorf("the RSA key has %d bits; at least %d are required", n.BitLen(), minRSABits)
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
			return publicKey{}, errors.New("the RSA exponent is not an odd number from 3 to 2^31-1")
		}
		return publicKey{alg: "RS256", public: &rsa.PublicKey{N: n, E: int(e.Int64())}}, nil
	case "EC":
		if k.Crv != "P-256" {
			return publicKey{}, fmt.Errorf("curve %q is not accepted (accepted: P-256)", k.Crv)
		}
		if k.Alg != "" && k.Alg != "ES256" {
			return publicKey{}, fmt.Errorf("algorithm %q is not accepted", k.Alg)
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return publicKey{}, errors.New("x and y are not 32-byte base64url values")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return publicKey{}, fmt.Errorf("decoding the point: %w", err)
		}
		return publicKey{alg: "ES256", public: pub}, nil
	}
	return publicKey{}, fmt.Errorf("key type %q is not accepted (accepted: RSA, EC)", k.Kty)
}

func b64Int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("empty value")
	}
	return new(big.Int).SetBytes(b), nil
}

// JWKS is an issuer's published key set, fetched and cached as a
// Verifier's is: on first use, again after its TTL, and again when a token
// names a key not in the cache, never more often than once per MinRefetch.
// It serves verifiers that need the keys but not a Verifier's rules, such
// as the local stand-in for API Gateway's JWT authorizer. It is safe for
// concurrent use.
type JWKS struct {
	set *keySet
}

// JWKSParams configure NewJWKS.
type JWKSParams struct {
	// URL is the issuer's jwks_uri.
	URL string
	// HTTPClient fetches it; nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// TTL is how long fetched keys are used; zero means an hour.
	TTL time.Duration
	// MinRefetch is the least time between two fetches; zero means a
	// minute.
	MinRefetch time.Duration
}

// NewJWKS returns the key set published at p.URL. Nothing is fetched
// before the first Key.
func NewJWKS(p JWKSParams) *JWKS {
	if p.HTTPClient == nil {
		p.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if p.NowFunc == nil {
		p.NowFunc = time.Now
	}
	return &JWKS{set: newKeySet(p.URL, p.HTTPClient, p.NowFunc, p.TTL, p.MinRefetch)}
}

// Key returns the public key (an *rsa.PublicKey or an *ecdsa.PublicKey)
// that kid names and the one algorithm it verifies, RS256 or ES256. It
// returns a *TokenError when the issuer does not publish kid, and an error
// wrapping ErrKeysUnavailable when the key set cannot be fetched and kid
// is not cached.
func (j *JWKS) Key(ctx context.Context, kid string) (crypto.PublicKey, string, error) {
	k, err := j.set.lookup(ctx, kid)
	if err != nil {
		return nil, "", err
	}
	return k.public, k.alg, nil
}
