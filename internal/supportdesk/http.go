package supportdesk

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Token claims. A token is an HS256 JWT issued for this server: its
// audience is Audience and its issuer Issuer. The token secret itself is
// also accepted as a bearer token, as the service ServiceSubject: whoever
// holds it can sign any token already, so it grants nothing more, and it
// lets the step workers of a deployment read one secret from Secrets
// Manager (their MCP server's token_secret) instead of a token that
// expires.
const (
	// Audience is the `aud` a token must carry: a token issued for another
	// service is refused.
	Audience = "aiflow-support"
	// Issuer is the `iss` of the tokens IssueToken makes.
	Issuer = "aiflow"
	// ServiceSubject is the holder of a request whose bearer token is the
	// token secret itself, in audit rows.
	ServiceSubject = "aiflow-service"
	// serviceTokenTTL is how long the SDK treats such a request's
	// credentials as valid: it wants an expiry, and the secret has none.
	serviceTokenTTL = time.Minute
	// customerIDClaim scopes a token to one customer.
	customerIDClaim = "customer_id"
)

// tokenClaims are the claims of a bearer token.
type tokenClaims struct {
	jwt.RegisteredClaims
	// CustomerID, when set, limits the token to that customer's data.
	CustomerID int64 `json:"customer_id,omitempty"`
}

// TokenParams describe a token to issue.
type TokenParams struct {
	// Subject names the holder (a workflow, an agent, a service) in audit
	// rows. Required.
	Subject string
	// CustomerID, when set, scopes the token to that customer.
	CustomerID int64
	// TTL is how long the token is valid. Required.
	TTL time.Duration
	// Now is when the token is issued.
	Now time.Time
}

// IssueToken signs a bearer token for this server with secret.
func IssueToken(secret []byte, p TokenParams) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("issuing a token: the secret is shorter than %d bytes", MinSecretBytes)
	}
	if strings.TrimSpace(p.Subject) == "" {
		return "", errors.New("issuing a token: the subject is empty")
	}
	if p.TTL <= 0 {
		return "", errors.New("issuing a token: the lifetime is not positive")
	}
	if p.CustomerID < 0 {
		return "", errors.New("issuing a token: the customer id is negative")
	}
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(p.Now),
			NotBefore: jwt.NewNumericDate(p.Now),
			ExpiresAt: jwt.NewNumericDate(p.Now.Add(p.TTL)),
		},
		CustomerID: p.CustomerID,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("signing a token: %w", err)
	}
	return s, nil
}

// tokenVerifier checks bearer tokens. The signature is compared in
// constant time (hmac.Equal, inside golang-jwt's HS256).
type tokenVerifier struct {
	secret []byte
	now    func() time.Time
}

func (v tokenVerifier) verify(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	if subtle.ConstantTimeCompare([]byte(token), v.secret) == 1 {
		return &auth.TokenInfo{UserID: ServiceSubject, Expiration: v.now().Add(serviceTokenTTL), Extra: map[string]any{}}, nil
	}
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(Audience),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
	}
	if claims.Subject == "" || claims.CustomerID < 0 {
		return nil, fmt.Errorf("%w: the token has no subject", auth.ErrInvalidToken)
	}
	// The user id binds a session to its token's holder and scope: the SDK
	// refuses a session's requests made with a token of another.
	user := claims.Subject
	info := &auth.TokenInfo{UserID: user, Expiration: claims.ExpiresAt.Time, Extra: map[string]any{}}
	if claims.CustomerID > 0 {
		info.UserID = fmt.Sprintf("%s (customer %d)", user, claims.CustomerID)
		info.Extra[customerIDClaim] = claims.CustomerID
	}
	return info, nil
}

// HTTPOptions configure NewHTTPHandler.
type HTTPOptions struct {
	// Server is the MCP server to serve (NewServer). Required.
	Server *mcp.Server
	// TokenSecret checks bearer tokens; at least MinSecretBytes. Required.
	TokenSecret []byte
	// AllowedOrigins are the origins a request with an Origin header may
	// come from; a request without one (not from a browser) is not
	// checked.
	AllowedOrigins []string
	// Stateless serves each request on its own without sessions, answering
	// with plain JSON instead of an event stream: the shape a Lambda behind
	// a Function URL needs.
	Stateless bool
	// SessionTimeout closes sessions idle this long (stateful only); zero
	// means 30 minutes.
	SessionTimeout time.Duration
	// Logger receives the transport's log; nil discards it.
	Logger *slog.Logger
	// NowFunc is the clock tokens are checked with; nil means time.Now.
	NowFunc func() time.Time
}

// maxBodyBytes bounds a request body (the tools' arguments are small).
const maxBodyBytes = 1 << 20

// NewHTTPHandler serves the MCP server over Streamable HTTP, after three
// checks in this order: a request whose Origin header is present and not
// allowed gets 403; one without a valid bearer token issued for this server
// gets 401; a JSON-RPC batch gets 400, whatever protocol version was
// negotiated (the SDK refuses batches only from 2025-06-18 on).
func NewHTTPHandler(opts HTTPOptions) (http.Handler, error) {
	if opts.Server == nil {
		return nil, errors.New("serving MCP over HTTP: no server")
	}
	if len(opts.TokenSecret) < MinSecretBytes {
		return nil, fmt.Errorf("serving MCP over HTTP: the token secret is shorter than %d bytes", MinSecretBytes)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 30 * time.Minute
	}
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return opts.Server }, &mcp.StreamableHTTPOptions{
		Stateless:           opts.Stateless,
		JSONResponse:        opts.Stateless,
		SessionTimeout:      opts.SessionTimeout,
		Logger:              opts.Logger,
		MaxRequestBodyBytes: maxBodyBytes,
	})
	v := tokenVerifier{secret: opts.TokenSecret, now: opts.NowFunc}
	authed := auth.RequireBearerToken(v.verify, &auth.RequireBearerTokenOptions{ClockSkew: 30 * time.Second})(rejectBatches(mcpHandler))
	allowed := map[string]bool{}
	for _, o := range opts.AllowedOrigins {
		allowed[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !allowed[strings.ToLower(origin)] {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		authed.ServeHTTP(w, r)
	}), nil
}

// rejectBatches answers a POST whose body is a JSON array (a JSON-RPC
// batch) with 400 and a JSON-RPC "invalid request" error.
func rejectBatches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"JSON-RPC batches are not supported: send one message per request"}}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
