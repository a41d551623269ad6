package auth

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMintDevTokenVerifies(t *testing.T) {
	t.Parallel()
	key, err := NewDevKey()
	require.NoError(t, err)
	require.Len(t, key, MinHMACKeyLen)
	tok, err := MintDevToken(key, "dev", []Role{RoleAdmin}, time.Hour)
	require.NoError(t, err)
	v, err := NewVerifier(VerifierOptions{Issuer: DevIssuer, Audience: []string{DevAudience}, HMACKey: key})
	require.NoError(t, err)
	p, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "dev", p.Subject)
	require.Equal(t, []Role{RoleAdmin}, p.Roles)
	require.True(t, p.Can(PermAuditRead))
}

func TestMintDevTokenForAService(t *testing.T) {
	t.Parallel()
	tok, err := MintDevToken(hmacKey, ServiceSubject("incident-desk"), []Role{RoleService}, time.Hour)
	require.NoError(t, err)
	v, err := NewVerifier(VerifierOptions{Issuer: DevIssuer, Audience: []string{DevAudience}, HMACKey: hmacKey})
	require.NoError(t, err)
	p, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, []Role{RoleService}, p.Roles)
	require.Equal(t, "incident-desk", p.Service())
	require.True(t, p.Can(PermServicesManage))
	require.False(t, p.Can(PermWorkflowsRead))
}

func TestMintDevTokenExpires(t *testing.T) {
	t.Parallel()
	c := newClock()
	tok, err := mintDevToken(hmacKey, "dev", []Role{RoleViewer}, time.Minute, c.Now())
	require.NoError(t, err)
	v, err := NewVerifier(VerifierOptions{Issuer: DevIssuer, Audience: []string{DevAudience}, HMACKey: hmacKey, NowFunc: c.Now})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	c.Advance(2 * time.Minute)
	_, err = v.Verify(context.Background(), tok)
	requireRefused(t, tok, err, "expired")
}

func TestMintDevTokenRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key     []byte
		subject string
		roles   []Role
		ttl     time.Duration
		want    string
	}{
		{[]byte("short"), "dev", nil, time.Hour, "at least 32 are required"},
		{hmacKey, "", nil, time.Hour, "the subject is empty"},
		{hmacKey, "dev", []Role{"root"}, time.Hour, `"root" is not a role`},
		{hmacKey, "dev", []Role{"Admin"}, time.Hour, `"Admin" is not a role`},
		{hmacKey, "dev", nil, 0, "is not positive"},
	} {
		_, err := MintDevToken(tc.key, tc.subject, tc.roles, tc.ttl)
		require.ErrorContains(t, err, tc.want)
	}
}
