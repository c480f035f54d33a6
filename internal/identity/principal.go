// Package identity owns organisations, users, roles and who is calling.
//
// A Principal is the authenticated caller. Domain services take it as an
// argument and scope every query by Principal.OrgID, so another tenant's
// object is indistinguishable from one that does not exist (not_found).
package identity

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// OrgKind is the kind of an organisation.
type OrgKind string

// The four kinds of organisation.
const (
	OrgCompany  OrgKind = "company"
	OrgProvider OrgKind = "provider"
	OrgFund     OrgKind = "fund"
	OrgPlatform OrgKind = "platform"
)

// Role is what a user may do inside their organisation.
type Role string

// The roles. Each API operation lists the roles it admits (x-roles in
// openapi.yaml); each web route declares them where it is registered.
const (
	RoleEmployee      Role = "employee"
	RoleCompanyAdmin  Role = "company_admin"
	RoleProviderStaff Role = "provider_staff"
	RoleFundManager   Role = "fund_manager"
	RoleCaseWorker    Role = "case_worker"
	RoleFundApprover  Role = "fund_approver"
	RolePlatformAdmin Role = "platform_admin"
	RoleAuditor       Role = "auditor"
)

// AllRoles lists every role, in a stable order.
var AllRoles = []Role{RoleEmployee, RoleCompanyAdmin, RoleProviderStaff, RoleFundManager,
	RoleCaseWorker, RoleFundApprover, RolePlatformAdmin, RoleAuditor}

// Principal is the authenticated caller.
type Principal struct {
	UserID  uuid.UUID
	OrgID   uuid.UUID
	OrgKind OrgKind
	Email   string
	Name    string
	Roles   []Role
}

// Has reports whether the caller holds any of roles.
func (p *Principal) Has(roles ...Role) bool {
	if p == nil {
		return false
	}
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller of ctx, or nil when nobody signed in.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
