package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// DefaultJWKSMinRefetch is the least time between two fetches of an
// issuer's keys when HTTPAPIParams.JWKSMinRefetch is zero: a token naming
// an unknown kid fetches the key set again, but tokens with made-up kids
// cannot flood the issuer.
const DefaultJWKSMinRefetch = time.Minute

const (
	// jwksTTL is how long fetched keys are used: API Gateway may keep a
	// public key for two hours.
	jwksTTL          = 2 * time.Hour
	maxDiscoverySize = 1 << 20
	maxTokenSize     = 16 << 10
)

// authorizer is a JWT authorizer of an HTTP API.
type authorizer struct {
	name       string
	cfg        stackmodel.JWTAuthorizer
	issuer     string // without a trailing slash, for the discovery URL
	header     string // the identity source's header, or
	query      string // its query string parameter
	client     *http.Client
	now        func() time.Time
	minRefetch time.Duration
	log        *slog.Logger
	parser     *jwt.Parser

	mu      sync.Mutex
	keys    *auth.JWKS
	triedAt time.Time
}

type authorizerParams struct {
	name       string
	cfg        stackmodel.JWTAuthorizer
	client     *http.Client
	now        func() time.Time
	minRefetch time.Duration
	log        *slog.Logger
}

func newAuthorizer(p authorizerParams) (*authorizer, error) {
	switch {
	case p.cfg.Issuer == "":
		return nil, fmt.Errorf("authorizer %s has no issuer", p.name)
	case !strings.HasPrefix(p.cfg.Issuer, "https://") && !strings.HasPrefix(p.cfg.Issuer, "http://"):
		return nil, fmt.Errorf("authorizer %s: the issuer %q is not an http(s) URL", p.name, p.cfg.Issuer)
	case len(p.cfg.Audience) == 0:
		return nil, fmt.Errorf("authorizer %s has no audience", p.name)
	}
	a := &authorizer{
		name: p.name, cfg: p.cfg, issuer: strings.TrimSuffix(p.cfg.Issuer, "/"),
		client: p.client, now: p.now, minRefetch: p.minRefetch, log: p.log,
	}
	src := p.cfg.IdentitySource
	if src == "" {
		src = "$request.header.Authorization"
	}
	switch {
	case strings.HasPrefix(src, "$request.header.") && len(src) > len("$request.header."):
		a.header = strings.TrimPrefix(src, "$request.header.")
	case strings.HasPrefix(src, "$request.querystring.") && len(src) > len("$request.querystring."):
		a.query = strings.TrimPrefix(src, "$request.querystring.")
	default:
		return nil, fmt.Errorf("authorizer %s: the identity source %q is neither $request.header.<name> nor $request.querystring.<name>, the one a JWT authorizer takes", p.name, src)
	}
	// Only RSA-based algorithms, as API Gateway; the issuer's key set
	// holds RS256 keys (see auth.JWKS).
	a.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(p.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(p.now),
		jwt.WithJSONNumber(),
	)
	return a, nil
}

// denial is an authorizer's refusal: 401 for a missing or invalid token,
// 403 for one without the route's scopes.
type denial struct {
	status      int
	scopes      []string
	errorCode   string // invalid_token, insufficient_scope; empty for no token
	description string
}

// wwwAuthenticate renders the header API Gateway sends with a refusal.
func (d *denial) wwwAuthenticate() string {
	if d.errorCode == "" {
		return "Bearer"
	}
	return fmt.Sprintf("Bearer scope=%q error=%q error_description=%q", strings.Join(d.scopes, " "), d.errorCode, d.description)
}

func (a *authorizer) deny(scopes []string, format string, args ...any) *denial {
	return &denial{status: http.StatusUnauthorized, scopes: scopes, errorCode: "invalid_token", description: fmt.Sprintf(format, args...)}
}

// authorize checks r's token and the route's scopes and returns what the
// event's requestContext.authorizer.jwt carries.
func (a *authorizer) authorize(r *http.Request, scopes []string) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, *denial) {
	var token string
	if a.header != "" {
		token = strings.TrimSpace(r.Header.Get(a.header))
	} else {
		token = r.URL.Query().Get(a.query)
	}
	if token == "" {
		return nil, &denial{status: http.StatusUnauthorized, scopes: scopes}
	}
	if len(token) > 7 && strings.EqualFold(token[:7], "Bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if len(token) > maxTokenSize {
		return nil, a.deny(scopes, "the token is larger than %d bytes", maxTokenSize)
	}
	claims := jwt.MapClaims{}
	_, err := a.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return a.key(r.Context(), t) })
	if err != nil {
		return nil, a.explain(scopes, err)
	}
	aud, err := claims.GetAudience()
	if err != nil {
		return nil, a.deny(scopes, "the token's aud claim is neither a string nor an array of strings")
	}
	if len(aud) == 0 {
		if id, ok := claims["client_id"].(string); ok && id != "" {
			aud = jwt.ClaimStrings{id}
		}
	}
	if !slices.ContainsFunc(aud, func(s string) bool { return slices.Contains(a.cfg.Audience, s) }) {
		return nil, a.deny(scopes, "the token does not have a valid audience")
	}
	desc := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{}}
	for k, v := range claims {
		desc.Claims[k] = renderClaim(v)
	}
	if len(scopes) > 0 {
		have := tokenScopes(claims)
		if !slices.ContainsFunc(have, func(s string) bool { return slices.Contains(scopes, s) }) {
			return nil, &denial{status: http.StatusForbidden, scopes: scopes, errorCode: "insufficient_scope",
				description: "the token does not have any of the route's scopes: " + strings.Join(scopes, " ")}
		}
		desc.Scopes = have
	}
	return desc, nil
}

// key returns the issuer's key that t's kid names.
func (a *authorizer) key(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKid
	}
	keys, err := a.keySet(ctx)
	if err != nil {
		return nil, err
	}
	k, alg, err := keys.Key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if alg != t.Method.Alg() {
		return nil, fmt.Errorf("%w: the key %q is a %s key", errWrongKey, kid, alg)
	}
	return k, nil
}

var (
	errNoKid    = errors.New("the token has no kid header")
	errWrongKey = errors.New("the token's algorithm does not fit its key")
)

// keySet returns the issuer's key set, reading its discovery document for
// the jwks_uri on first use (and again after a failure, at most once per
// minRefetch).
func (a *authorizer) keySet(ctx context.Context) (*auth.JWKS, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys != nil {
		return a.keys, nil
	}
	now := a.now()
	if !a.triedAt.IsZero() && now.Sub(a.triedAt) < a.minRefetch {
		return nil, fmt.Errorf("%w: the issuer's discovery document failed less than %s ago", auth.ErrKeysUnavailable, a.minRefetch)
	}
	a.triedAt = now
	uri, err := a.discover(context.WithoutCancel(ctx))
	if err != nil {
		a.log.ErrorContext(ctx, "reading the issuer's OpenID configuration", "authorizer", a.name, "issuer", a.cfg.Issuer, "error", err)
		return nil, fmt.Errorf("%w: %w", auth.ErrKeysUnavailable, err)
	}
	a.keys = auth.NewJWKS(auth.JWKSParams{URL: uri, HTTPClient: a.client, NowFunc: a.now, TTL: jwksTTL, MinRefetch: a.minRefetch})
	return a.keys, nil
}

// discover reads {issuer}/.well-known/openid-configuration.
func (a *authorizer) discover(ctx context.Context) (string, error) {
	u := a.issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("building the request for %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching %s: it answered %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoverySize))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", u, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("decoding %s: %w", u, err)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("%s has no jwks_uri", u)
	}
	return doc.JWKSURI, nil
}

// explain turns a refusal into the www-authenticate description.
func (a *authorizer) explain(scopes []string, err error) *denial {
	var te *auth.TokenError
	switch {
	case errors.Is(err, auth.ErrKeysUnavailable):
		a.log.Error("the issuer's signing keys are unavailable", "authorizer", a.name, "issuer", a.cfg.Issuer, "error", err)
		return a.deny(scopes, "unable to fetch the issuer's signing keys")
	case errors.Is(err, errNoKid):
		return a.deny(scopes, "the token has no kid header")
	case errors.Is(err, errWrongKey):
		return a.deny(scopes, "the token's signing method does not fit its key")
	case errors.As(err, &te):
		return a.deny(scopes, "the token's key is not one of the issuer's keys")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return a.deny(scopes, "the token is malformed")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return a.deny(scopes, "the token's signature is invalid or its signing method is not RS256")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return a.deny(scopes, "the token's signing method is not RS256")
	case errors.Is(err, jwt.ErrTokenExpired):
		return a.deny(scopes, "the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return a.deny(scopes, "the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return a.deny(scopes, "the token was issued in the future")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return a.deny(scopes, "the token does not have a valid issuer")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return a.deny(scopes, "the token has no exp claim")
	}
	return a.deny(scopes, "the token is invalid")
}

// tokenScopes reads a token's scopes from scope (a space-separated
// string) or scp (a string or an array of strings).
func tokenScopes(claims jwt.MapClaims) []string {
	var out []string
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			out = append(out, strings.Fields(v)...)
		case []any:
			for _, s := range v {
				if s, ok := s.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// renderClaim writes a claim's value as API Gateway puts it in
// requestContext.authorizer.jwt.claims, where every value is a string:
// strings as they are, numbers as written in the token, an array as its
// elements between brackets separated by spaces ("[a b c]"), an object
// as map[key:value ...] with its keys sorted.
func renderClaim(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	case nil:
		return ""
	case []any:
		items := make([]string, len(v))
		for i, item := range v {
			items[i] = renderClaim(item)
		}
		return "[" + strings.Join(items, " ") + "]"
	case map[string]any:
		keys := slices.Collect(maps.Keys(v))
		sort.Strings(keys)
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = k + ":" + renderClaim(v[k])
		}
		return "map[" + strings.Join(items, " ") + "]"
	}
	return fmt.Sprint(v)
}
