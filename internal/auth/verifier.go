package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Limits and defaults of a Verifier.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway bounds a configured leeway: a larger one would keep
	// expired tokens alive.
	MaxLeeway = 5 * time.Minute
	// MinHMACKeyLen is the shortest HMAC key accepted: 256 bits, the size
	// of HS256's hash (RFC 7518, section 3.2).
	MinHMACKeyLen = 32
	// maxTokenLen bounds the bearer token read from a header.
	maxTokenLen = 8 << 10
)

// ErrNoToken is returned when a request carries no bearer token.
var ErrNoToken = errors.New("no bearer token")

// ErrKeysUnavailable is returned when the token names a signing key the
// Verifier does not hold and the JWKS URL cannot be read: the fault is on
// the server's side, not the caller's.
var ErrKeysUnavailable = errors.New("the signing keys are unavailable")

// TokenError says why a token was refused. Reason never quotes the token.
type TokenError struct {
	// Reason is a sentence for the caller, such as "the token has expired".
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "invalid token: " and the reason.
func (e *TokenError) Error() string { return "invalid token: " + e.Reason }

// Unwrap returns the underlying error.
func (e *TokenError) Unwrap() error { return e.Err }

func tokenErr(err error, format string, args ...any) *TokenError {
	return &TokenError{Reason: fmt.Sprintf(format, args...), Err: err}
}

// VerifierOptions configure NewVerifier. Exactly one of JWKSURL and HMACKey
// is set.
type VerifierOptions struct {
	// Issuer is the iss every token must carry; required.
	Issuer string
	// Audience lists the accepted audiences; required. A token's aud claim
	// (a string or an array) must name one, or, when it has no aud, its
	// client_id must, as API Gateway's JWT authorizer accepts Cognito
	// access tokens.
	Audience []string
	// JWKSURL is where the issuer publishes its public keys. Tokens are
	// then accepted signed with RS256 (RSA keys of 2048 bits or more) or
	// ES256 (P-256 keys) only, each with a key of its own type.
	JWKSURL string
	// HMACKey is a shared secret of at least MinHMACKeyLen bytes, for
	// development. Tokens are then accepted signed with HS256 only.
	HMACKey []byte
	// RoleClaims are the claims roles are read from; empty means
	// DefaultRoleClaims.
	RoleClaims []string
	// Leeway is the clock skew allowed on exp, nbf and iat; zero means
	// DefaultLeeway, and it may not exceed MaxLeeway.
	Leeway time.Duration
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// HTTPClient fetches the JWKS; nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// JWKSTTL is how long fetched keys are used before they are fetched
	// again; zero means an hour.
	JWKSTTL time.Duration
	// JWKSMinRefetch is the least time between two fetches of the JWKS,
	// however many tokens name unknown keys; zero means a minute.
	JWKSMinRefetch time.Duration
}

// Verifier checks bearer JWTs and turns them into Principals. It is safe
// for concurrent use.
type Verifier struct {
	opts    VerifierOptions
	methods []string
	parser  *jwt.Parser
	keys    *keySet // nil with an HMAC key
	// verified remembers the tokens accepted (verified.go).
	verified verifiedTokens
}

// NewVerifier returns a Verifier, or an error naming the option that is
// missing or wrong.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	switch {
	case opts.Issuer == "":
		return nil, errors.New("configuring the token verifier: an issuer is required")
	case len(opts.Audience) == 0 || slices.Contains(opts.Audience, ""):
		return nil, errors.New("configuring the token verifier: at least one non-empty audience is required")
	case (opts.JWKSURL == "") == (len(opts.HMACKey) == 0):
		return nil, errors.New("configuring the token verifier: set exactly one of a JWKS URL and an HMAC key")
	case len(opts.HMACKey) > 0 && len(opts.HMACKey) < MinHMACKeyLen:
		return nil, fmt.Errorf("configuring the token verifier: the HMAC key has %d bytes; at least %d are required", len(opts.HMACKey), MinHMACKeyLen)
	case opts.Leeway < 0 || opts.Leeway > MaxLeeway:
		return nil, fmt.Errorf("configuring the token verifier: the leeway %s is not between 0 and %s", opts.Leeway, MaxLeeway)
	}
	if opts.Leeway == 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	if len(opts.RoleClaims) == 0 {
		opts.RoleClaims = DefaultRoleClaims
	}
	v := &Verifier{opts: opts}
	if opts.JWKSURL != "" {
		v.methods = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}
		client := opts.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 5 * time.Second}
		}
		v.keys = newKeySet(opts.JWKSURL, client, opts.NowFunc, opts.JWKSTTL, opts.JWKSMinRefetch)
	} else {
		v.methods = []string{jwt.SigningMethodHS256.Alg()}
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(v.methods),
		jwt.WithIssuer(opts.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithTimeFunc(opts.NowFunc),
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

// Authenticate reads the request's Authorization: Bearer header and
// verifies the token (see Verify). It returns ErrNoToken when there is no
// Authorization header.
func (v *Verifier) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, ErrNoToken
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, tokenErr(nil, "the Authorization header does not hold a Bearer token")
	}
	return v.Verify(r.Context(), strings.TrimSpace(token))
}

// Verify checks token's signature (with a pinned algorithm and a key of
// the matching type), exp (required), nbf and iat (if present) within the
// leeway, iss and aud, and returns its Principal. A refused token yields a
// *TokenError; an unknown key while the JWKS cannot be fetched yields an
// error wrapping ErrKeysUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoToken
	}
	if len(token) > maxTokenLen {
		return Principal{}, tokenErr(nil, "the token is longer than %d bytes", maxTokenLen)
	}
	if p, ok := v.lookupVerified(token); ok {
		return p, nil
	}
	var keysFetched time.Time
	if v.keys != nil {
		keysFetched, _ = v.keys.held()
	}
	claims := jwt.MapClaims{}
	parsed, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		return Principal{}, v.explain(parsed, err)
	}
	if err := v.checkAudience(claims); err != nil {
		return Principal{}, err
	}
	p, err := principalFromJWT(claims, v.opts.RoleClaims)
	if err != nil {
		return Principal{}, tokenErr(err, "%s", err.Error())
	}
	v.rememberVerified(token, p, keysFetched)
	return p, nil
}

// key returns the key that may verify t: the HMAC key for HS256, or the
// JWKS key t's kid names, whose type must fit t's algorithm. A token
// cannot choose how its key is used: an RSA public key is never an HMAC
// secret.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if v.keys == nil {
		if alg != jwt.SigningMethodHS256.Alg() {
			return nil, tokenErr(nil, "the token's algorithm %s is not accepted (accepted: HS256)", alg)
		}
		return v.opts.HMACKey, nil
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, tokenErr(nil, "the token has no kid header naming its key")
	}
	k, err := v.keys.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	if k.alg != alg {
		return nil, tokenErr(nil, "the token's algorithm %s does not fit its key %s, a %s key", alg, quoteShort(kid), k.alg)
	}
	return k.public, nil
}

// checkAudience accepts claims whose aud, or client_id when aud is
// absent, names a configured audience.
func (v *Verifier) checkAudience(claims jwt.MapClaims) error {
	aud, err := claims.GetAudience()
	if err != nil {
		return tokenErr(err, "the token's aud claim is neither a string nor an array of strings")
	}
	if len(aud) == 0 {
		if id, ok := claims["client_id"].(string); ok && id != "" {
			aud = jwt.ClaimStrings{id}
		}
	}
	if len(aud) == 0 {
		return tokenErr(nil, "the token has no aud claim")
	}
	for _, a := range aud {
		if slices.Contains(v.opts.Audience, a) {
			return nil
		}
	}
	return tokenErr(nil, "the token's audience is not accepted")
}

// explain turns the jwt library's error into one that names what failed
// and never quotes the token.
func (v *Verifier) explain(t *jwt.Token, err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, ErrKeysUnavailable) {
		return err
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return tokenErr(err, "the token is malformed")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if t != nil && t.Method != nil && !slices.Contains(v.methods, t.Method.Alg()) {
			return tokenErr(err, "the token's algorithm %s is not accepted (accepted: %s)", t.Method.Alg(), strings.Join(v.methods, ", "))
		}
		if t != nil && t.Method == nil {
			alg, _ := t.Header["alg"].(string)
			return tokenErr(err, "the token's algorithm %s is not accepted (accepted: %s)", quoteShort(alg), strings.Join(v.methods, ", "))
		}
		return tokenErr(err, "the token's signature is invalid")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		alg := ""
		if t != nil {
			alg, _ = t.Header["alg"].(string)
		}
		return tokenErr(err, "the token's algorithm %s is not accepted (accepted: %s)", quoteShort(alg), strings.Join(v.methods, ", "))
	case errors.Is(err, jwt.ErrTokenExpired):
		return tokenErr(err, "the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return tokenErr(err, "the token is not valid yet (nbf)")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return tokenErr(err, "the token was issued in the future (iat)")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return tokenErr(err, "the token's issuer is not accepted")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, c := range []string{"exp", "iss", "aud"} {
			if strings.Contains(err.Error(), c+" claim is required") {
				return tokenErr(err, "the token has no %s claim", c)
			}
		}
		return tokenErr(err, "the token lacks a required claim")
	case errors.Is(err, jwt.ErrTokenInvalidClaims) || errors.Is(err, jwt.ErrInvalidType):
		return tokenErr(err, "the token's registered claims have the wrong types")
	}
	return tokenErr(err, "the token could not be verified")
}

// quoteShort quotes a value taken from a token header, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
