package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Authenticator tells who sent a request. *Verifier (bearer tokens) and
// AuthorizerClaims (API Gateway's verified claims on Lambda) are two.
// It returns ErrNoToken when the request carries no credentials, a
// *TokenError when they are refused, and any other error when they could
// not be checked.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// Denial is a request Guard refused, as reported to an AuditFunc.
type Denial struct {
	// Principal is the caller; its Subject is empty when the request was
	// not authenticated.
	Principal Principal
	// Permission is what the route required.
	Permission Permission
	// Status is the answer: 401 (no or bad credentials), 403 (not
	// allowed), 429 (too many failures from the source address) or 503
	// (credentials could not be checked).
	Status int
	// Reason says why, in words safe to store: never the token.
	Reason string
	// Request is the refused request, for its method, path, request id,
	// source address and user agent.
	Request *http.Request
}

// AuditFunc receives every request Guard refuses. It runs before the
// answer is written; it should not block for long.
type AuditFunc func(ctx context.Context, d Denial)

// FailureLimit limits requests whose credentials are missing or refused,
// per source address; *ratelimit.FailureLimit is one. AllowFailure counts
// one such request and returns false, with how long until the next would
// be allowed, when its source has failed too often.
type FailureLimit interface {
	AllowFailure(r *http.Request) (ok bool, retryAfter time.Duration)
}

// Guard authenticates requests and checks that their caller holds a
// route's permission. Its zero value is not usable: Authenticator is
// required.
type Guard struct {
	// Authenticator tells who the caller is; required.
	Authenticator Authenticator
	// AuditFunc, if set, receives every denial.
	AuditFunc AuditFunc
	// FailureLimit, if set, is asked about every request answered 401:
	// when it refuses, the answer is 429 Too Many Requests with
	// Retry-After instead (audited as a denial with status 429).
	// Requests whose credentials are accepted never reach it.
	FailureLimit FailureLimit
	// Realm is named in WWW-Authenticate; empty means "aiflow".
	Realm string
}

// Require returns a handler that lets a request through to next only when
// its caller holds perm, with the caller's Principal in the request's
// context (FromContext). Otherwise it answers, as problem+json:
//
//   - 401 with WWW-Authenticate: Bearer realm="aiflow" when there is no
//     token, and with error="invalid_token" and an error_description
//     naming what failed when the token is refused (RFC 6750, section 3);
//   - 403 with error="insufficient_scope" when the caller lacks perm;
//   - 503 when the token's key could not be fetched;
//   - 429 with Retry-After instead of 401 when FailureLimit refuses the
//     request's source.
//
// Require panics when perm is not a known Permission: a route that no
// one could call is a mistake of its registration, like a bad pattern in
// http.ServeMux.
func (g *Guard) Require(perm Permission, next http.Handler) http.Handler {
	if _, ok := MinimumRole(perm); !ok {
		panic(fmt.Sprintf("auth: Require: unknown permission %q", perm))
	}
	if g.Authenticator == nil {
		panic("auth: Guard without an Authenticator")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.Authenticator.Authenticate(r)
		if err != nil {
			g.refuseUnauthenticated(w, r, perm, err)
			return
		}
		if !p.Can(perm) {
			need, _ := MinimumRole(perm)
			reason := fmt.Sprintf("%s requires the %s role or a higher one%s; the caller has %s", perm, need, describeOutside(perm), describeRoles(p.Roles))
			g.audit(r, Denial{Principal: p, Permission: perm, Status: http.StatusForbidden, Reason: reason})
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="insufficient_scope", scope=%q`, g.realm(), string(perm)))
			WriteProblem(w, r, Problem{Status: http.StatusForbidden, Title: "Forbidden", Detail: reason})
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// RequireFunc is Require for a handler function.
func (g *Guard) RequireFunc(perm Permission, next http.HandlerFunc) http.Handler {
	return g.Require(perm, next)
}

func (g *Guard) refuseUnauthenticated(w http.ResponseWriter, r *http.Request, perm Permission, err error) {
	var te *TokenError
	failed := errors.Is(err, ErrNoToken) || errors.As(err, &te)
	if failed && g.FailureLimit != nil {
		if ok, wait := g.FailureLimit.AllowFailure(r); !ok {
			secs := max(1, int64(math.Ceil(wait.Seconds())))
			reason := "too many requests without accepted credentials from this address"
			g.audit(r, Denial{Permission: perm, Status: http.StatusTooManyRequests, Reason: reason})
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			WriteProblem(w, r, Problem{Status: http.StatusTooManyRequests, Title: "Too Many Requests",
				Detail: fmt.Sprintf("%s; retry in %d s", reason, secs)})
			return
		}
	}
	switch {
	case errors.Is(err, ErrNoToken):
		reason := "the request has no bearer token"
		g.audit(r, Denial{Permission: perm, Status: http.StatusUnauthorized, Reason: reason})
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q`, g.realm()))
		WriteProblem(w, r, Problem{Status: http.StatusUnauthorized, Title: "Unauthorized",
			Detail: reason + "; send Authorization: Bearer <token>"})
	case errors.As(err, &te):
		g.audit(r, Denial{Permission: perm, Status: http.StatusUnauthorized, Reason: te.Reason})
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`,
			g.realm(), headerSafe(te.Reason)))
		WriteProblem(w, r, Problem{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: te.Reason})
	default:
		reason := "the token could not be checked: its signing keys are unavailable"
		if !errors.Is(err, ErrKeysUnavailable) {
			reason = "the token could not be checked"
		}
		g.audit(r, Denial{Permission: perm, Status: http.StatusServiceUnavailable, Reason: reason})
		w.Header().Set("Retry-After", "5")
		WriteProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Title: "Service Unavailable", Detail: reason + "; try again"})
	}
}

func (g *Guard) audit(r *http.Request, d Denial) {
	if g.AuditFunc == nil {
		return
	}
	d.Request = r
	g.AuditFunc(r.Context(), d)
}

func (g *Guard) realm() string {
	if g.Realm == "" {
		return "aiflow"
	}
	return g.Realm
}

func describeRoles(roles []Role) string {
	if len(roles) == 0 {
		return "no role"
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return "the roles " + strings.Join(names, ", ")
}

// describeOutside names the roles outside the order that also hold perm.
func describeOutside(perm Permission) string {
	var s string
	for _, r := range OutsideRoles(perm) {
		s += ", or the " + string(r) + " role"
	}
	return s
}

// headerSafe keeps the characters RFC 6750 allows in error_description:
// printable ASCII except the double quote and backslash.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '\''
		}
		return r
	}, s)
}
