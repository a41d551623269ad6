package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPrincipalFromClaims(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		claims map[string]string
		roles  []string
		want   []Role
	}{
		{"roles as API Gateway renders an array", map[string]string{"roles": "[operator viewer]"}, nil, []Role{RoleViewer, RoleOperator}},
		{"roles as a JSON array", map[string]string{"roles": `["author","nope"]`}, nil, []Role{RoleAuthor}},
		{"cognito groups", map[string]string{"cognito:groups": "[admin]"}, nil, []Role{RoleAdmin}},
		{"space-separated scope", map[string]string{"scope": "openid viewer email"}, nil, []Role{RoleViewer}},
		{"union of claims, once each", map[string]string{"roles": "viewer", "scope": "viewer operator"}, nil, []Role{RoleViewer, RoleOperator}},
		{"configured claim only", map[string]string{"roles": "admin", "groups": "viewer,operator"}, []string{"groups"}, []Role{RoleViewer, RoleOperator}},
		{"no roles", map[string]string{"email": "a@b"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := map[string]string{"sub": "user-1", "iss": "https://issuer", "exp": "1893456000"}
			for k, v := range tc.claims {
				claims[k] = v
			}
			p, err := PrincipalFromClaims(claims, tc.roles...)
			require.NoError(t, err)
			require.Equal(t, "user-1", p.Subject)
			require.Equal(t, "https://issuer", p.Issuer)
			require.Equal(t, time.Unix(1893456000, 0).UTC(), p.ExpiresAt)
			require.Equal(t, tc.want, p.Roles)
		})
	}
}

func TestPrincipalFromClaimsNeedsSubject(t *testing.T) {
	t.Parallel()
	_, err := PrincipalFromClaims(map[string]string{"roles": "admin", "sub": " "})
	require.ErrorIs(t, err, ErrNoSubject)
}
