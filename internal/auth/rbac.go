// Package auth owns who may call aiflow's API: it verifies bearer JWTs
// (pinned algorithms, required exp, iss and aud, keys from a JWKS URL or an
// HMAC development key), reads the claims that API Gateway's JWT authorizer
// has already verified on Lambda, turns either into a Principal with roles,
// and decides with one table which role grants which Permission.
//
// Guard is the HTTP middleware the API's routes use: it answers 401 and 403
// as RFC 9457 problem+json, reports every denial to an AuditFunc, and puts
// the Principal in the request's context for the handler (FromContext).
package auth

import (
	"slices"
	"strings"
)

// Role is a named set of permissions. The roles viewer, operator, author
// and admin are ordered: each one holds every permission of the roles
// below it. The service role stands outside that order (see RoleService).
type Role string

// The ordered roles, from least to most trusted.
const (
	// RoleViewer reads workflows, executions and approvals.
	RoleViewer Role = "viewer"
	// RoleOperator also starts and stops executions and decides approvals.
	RoleOperator Role = "operator"
	// RoleAuthor also publishes workflows.
	RoleAuthor Role = "author"
	// RoleAdmin may do everything, including reading the audit log.
	RoleAdmin Role = "admin"
)

// RoleService is the role of a service's own token, whose subject is
// "service:<name>" (ServiceSubject): it holds services:manage and nothing
// else, and the registry lets it manage only the service its subject
// names. It is outside the order of the other roles: it holds none of
// the viewer's permissions, and no ordered role holds it.
const RoleService Role = "service"

// ServiceSubjectPrefix starts the subject of a service's token.
const ServiceSubjectPrefix = "service:"

// ServiceSubject returns the subject of the token of service name.
func ServiceSubject(name string) string { return ServiceSubjectPrefix + name }

// Roles lists the ordered roles from least to most trusted; RoleService
// is not among them.
func Roles() []Role { return []Role{RoleViewer, RoleOperator, RoleAuthor, RoleAdmin} }

// rank orders the ordered roles; a role not in it ranks zero and is
// granted nothing by the order.
var rank = map[Role]int{RoleViewer: 1, RoleOperator: 2, RoleAuthor: 3, RoleAdmin: 4}

// outside lists, for each role outside the order, the permissions it
// holds: exactly these, none by rank.
var outside = map[Role][]Permission{
	RoleService: {PermServicesManage},
}

// ParseRole returns the role named s (case-insensitive) and whether s names
// one.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := outside[r]; ok {
		return r, true
	}
	_, ok := rank[r]
	return r, ok
}

// Permission is what a route requires of its caller.
type Permission string

// The permissions the API's routes require.
const (
	PermHealth           Permission = "health"
	PermWorkflowsRead    Permission = "workflows:read"
	PermWorkflowsPublish Permission = "workflows:publish"
	PermExecutionsRead   Permission = "executions:read"
	PermExecutionsStart  Permission = "executions:start"
	PermExecutionsStop   Permission = "executions:stop"
	PermApprovalsRead    Permission = "approvals:read"
	PermApprovalsDecide  Permission = "approvals:decide"
	PermAuditRead        Permission = "audit:read"
	PermServicesRead     Permission = "services:read"
	PermServicesManage   Permission = "services:manage"
)

// minimumRole is the one table of who may do what: each permission and the
// least trusted role that holds it. A permission not in it is held by no
// one.
var minimumRole = map[Permission]Role{
	PermHealth:           RoleViewer,
	PermWorkflowsRead:    RoleViewer,
	PermExecutionsRead:   RoleViewer,
	PermApprovalsRead:    RoleViewer,
	PermExecutionsStart:  RoleOperator,
	PermExecutionsStop:   RoleOperator,
	PermApprovalsDecide:  RoleOperator,
	PermWorkflowsPublish: RoleAuthor,
	PermAuditRead:        RoleAdmin,
	PermServicesRead:     RoleViewer,
	PermServicesManage:   RoleAdmin,
}

// Permissions lists every permission, sorted.
func Permissions() []Permission {
	out := make([]Permission, 0, len(minimumRole))
	for p := range minimumRole {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// MinimumRole returns the least trusted ordered role that holds p, and
// false when no role does (p is unknown). Roles outside the order may hold
// p too: see OutsideRoles.
func MinimumRole(p Permission) (Role, bool) {
	r, ok := minimumRole[p]
	return r, ok
}

// OutsideRoles returns the roles outside the order that hold p (the
// service role holds services:manage).
func OutsideRoles(p Permission) []Role {
	var out []Role
	for r, perms := range outside {
		if slices.Contains(perms, p) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// Allows reports whether role holds perm. Unknown roles and unknown
// permissions are denied.
func Allows(role Role, perm Permission) bool {
	need, ok := minimumRole[perm]
	if !ok {
		return false
	}
	if perms, ok := outside[role]; ok {
		return slices.Contains(perms, perm)
	}
	have := rank[role]
	return have > 0 && have >= rank[need]
}
