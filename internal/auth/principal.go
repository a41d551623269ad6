package auth

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// Principal is the caller of a request, as its token describes it.
type Principal struct {
	// Subject is the token's sub claim: who the caller is.
	Subject string
	// Roles are the known roles the token grants, sorted from least to most
	// trusted, without duplicates. Role names aiflow does not know are
	// dropped.
	Roles []Role
	// Issuer is the token's iss claim.
	Issuer string
	// ExpiresAt is the token's exp claim; zero when the claims did not
	// carry one.
	ExpiresAt time.Time
}

// Can reports whether any of the principal's roles holds perm.
func (p Principal) Can(perm Permission) bool {
	for _, r := range p.Roles {
		if Allows(r, perm) {
			return true
		}
	}
	return false
}

// Has reports whether the principal holds role r itself (not through the
// order).
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Service returns the name of the service a principal with the service
// role may manage: its subject after ServiceSubjectPrefix; "" when it does
// not hold the role or its subject names no service.
func (p Principal) Service() string {
	if !p.Has(RoleService) {
		return ""
	}
	name, ok := strings.CutPrefix(p.Subject, ServiceSubjectPrefix)
	if !ok {
		return ""
	}
	return name
}

// HighestRole returns the principal's most trusted role, or "" when it has
// none.
func (p Principal) HighestRole() Role {
	if len(p.Roles) == 0 {
		return ""
	}
	return p.Roles[len(p.Roles)-1]
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p, for FromContext.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal that Guard put in ctx, and false when
// the request was not authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// DefaultRoleClaims are the claims roles are read from when none are
// configured: a "roles" claim, Cognito's groups, and OAuth scopes.
var DefaultRoleClaims = []string{"roles", "cognito:groups", "scope"}

// ErrNoSubject is returned for claims without a sub claim.
var ErrNoSubject = errors.New("the token has no sub claim")

// PrincipalFromClaims builds the Principal of a request that API Gateway's
// JWT authorizer has already verified: on Lambda the claims are in
// events.APIGatewayV2HTTPRequest.RequestContext.Authorizer.JWT.Claims,
// every value a string (API Gateway writes an array claim as "[a b c]").
// Roles are read from roleClaims (DefaultRoleClaims when empty). It returns
// ErrNoSubject when sub is missing.
func PrincipalFromClaims(claims map[string]string, roleClaims ...string) (Principal, error) {
	if len(roleClaims) == 0 {
		roleClaims = DefaultRoleClaims
	}
	p := Principal{Subject: strings.TrimSpace(claims["sub"]), Issuer: claims["iss"]}
	if p.Subject == "" {
		return Principal{}, ErrNoSubject
	}
	if exp, ok := parseNumericDate(claims["exp"]); ok {
		p.ExpiresAt = exp
	}
	var names []string
	for _, c := range roleClaims {
		if v, ok := claims[c]; ok {
			names = append(names, splitRoleString(v)...)
		}
	}
	p.Roles = knownRoles(names)
	return p, nil
}

// principalFromJWT builds the Principal of a verified token's claims,
// whose values keep their JSON types.
func principalFromJWT(claims map[string]any, roleClaims []string) (Principal, error) {
	sub, _ := claims["sub"].(string)
	p := Principal{Subject: strings.TrimSpace(sub)}
	if p.Subject == "" {
		return Principal{}, ErrNoSubject
	}
	p.Issuer, _ = claims["iss"].(string)
	if exp, ok := claims["exp"].(float64); ok {
		p.ExpiresAt = time.Unix(int64(exp), 0).UTC()
	}
	var names []string
	for _, c := range roleClaims {
		switch v := claims[c].(type) {
		case string:
			names = append(names, splitRoleString(v)...)
		case []any:
			for _, item := range v {
				if s, ok := item.(string); ok {
					names = append(names, s)
				}
			}
		}
	}
	p.Roles = knownRoles(names)
	return p, nil
}

// splitRoleString splits a claim's string value into names: a JSON array
// of strings, API Gateway's "[a b c]" rendering of an array, or names
// separated by spaces or commas (an OAuth scope).
func splitRoleString(v string) []string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		var arr []string
		if json.Unmarshal([]byte(v), &arr) == nil {
			return arr
		}
		v = v[1 : len(v)-1]
	}
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
}

// knownRoles keeps the names that are roles, sorted by rank (the roles
// outside the order first), once each.
func knownRoles(names []string) []Role {
	var out []Role
	for _, n := range names {
		if r, ok := ParseRole(n); ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Role) int { return rank[a] - rank[b] })
	return out
}

func parseNumericDate(s string) (time.Time, bool) {
	var f float64
	if s == "" || json.Unmarshal([]byte(s), &f) != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}
