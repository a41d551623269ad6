package auth

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllowsWholeMatrix(t *testing.T) {
	t.Parallel()
	// The whole role × permission matrix, written out so that a change to
	// the table shows here as a change of policy.
	want := map[Permission][]Role{
		PermHealth:           {RoleViewer, RoleOperator, RoleAuthor, RoleAdmin},
		PermWorkflowsRead:    {RoleViewer, RoleOperator, RoleAuthor, RoleAdmin},
		PermExecutionsRead:   {RoleViewer, RoleOperator, RoleAuthor, RoleAdmin},
		PermApprovalsRead:    {RoleViewer, RoleOperator, RoleAuthor, RoleAdmin},
		PermExecutionsStart:  {RoleOperator, RoleAuthor, RoleAdmin},
		PermExecutionsStop:   {RoleOperator, RoleAuthor, RoleAdmin},
		PermApprovalsDecide:  {RoleOperator, RoleAuthor, RoleAdmin},
		PermWorkflowsPublish: {RoleAuthor, RoleAdmin},
		PermAuditRead:        {RoleAdmin},
		PermServicesRead:     {RoleViewer, RoleOperator, RoleAuthor, RoleAdmin},
		PermServicesManage:   {RoleAdmin, RoleService},
	}
	require.Len(t, Permissions(), len(want))
	for _, perm := range Permissions() {
		allowed, ok := want[perm]
		require.True(t, ok, "permission %s is not in the expected matrix", perm)
		for _, role := range append(Roles(), RoleService) {
			require.Equal(t, contains(allowed, role), Allows(role, perm), "%s × %s", role, perm)
		}
	}
}

func TestAllowsDeniesUnknown(t *testing.T) {
	t.Parallel()
	for _, role := range append(Roles(), RoleService) {
		require.False(t, Allows(role, "workflows:delete"), role)
		require.False(t, Allows(role, ""), role)
	}
	for _, perm := range Permissions() {
		require.False(t, Allows("root", perm), perm)
		require.False(t, Allows("", perm), perm)
		require.False(t, Allows("Admin", perm), "roles are compared as parsed, in lower case")
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	r, ok := ParseRole(" Admin ")
	require.True(t, ok)
	require.Equal(t, RoleAdmin, r)
	_, ok = ParseRole("superuser")
	require.False(t, ok)
	r, ok = ParseRole("Service")
	require.True(t, ok)
	require.Equal(t, RoleService, r)
}

// TestServiceRoleIsOutsideTheOrder: the service role holds services:manage
// alone; it is not a viewer, and being one of the ordered roles does not
// make a principal a service's.
func TestServiceRoleIsOutsideTheOrder(t *testing.T) {
	t.Parallel()
	svc := Principal{Subject: ServiceSubject("threat-intel"), Roles: []Role{RoleService}}
	require.True(t, svc.Can(PermServicesManage))
	require.False(t, svc.Can(PermServicesRead))
	require.False(t, svc.Can(PermHealth))
	require.Equal(t, "threat-intel", svc.Service())
	require.Equal(t, []Role{RoleService}, OutsideRoles(PermServicesManage))
	require.Empty(t, OutsideRoles(PermServicesRead))
	need, ok := MinimumRole(PermServicesManage)
	require.True(t, ok)
	require.Equal(t, RoleAdmin, need)

	require.Empty(t, Principal{Subject: "service:threat-intel", Roles: []Role{RoleAdmin}}.Service(),
		"the subject alone names no service: the role is needed")
	require.Empty(t, Principal{Subject: "threat-intel", Roles: []Role{RoleService}}.Service(),
		"a service role's subject must name the service")
	require.Equal(t, []Role{RoleService, RoleViewer}, knownRoles([]string{"viewer", "service", "viewer"}))
}

func TestPrincipalCan(t *testing.T) {
	t.Parallel()
	p := Principal{Subject: "u", Roles: []Role{RoleViewer, RoleAuthor}}
	require.True(t, p.Can(PermWorkflowsPublish))
	require.True(t, p.Can(PermExecutionsStart), "author holds operator's permissions")
	require.False(t, p.Can(PermAuditRead))
	require.Equal(t, RoleAuthor, p.HighestRole())
	require.False(t, Principal{Subject: "nobody"}.Can(PermHealth))
	require.Equal(t, Role(""), Principal{}.HighestRole())
}

func contains(roles []Role, r Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
