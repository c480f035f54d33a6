// Package auth says who is calling: the principal, the roles and the kinds
// of organisation, and what travels with a request in its context.
//
// It is a leaf: every domain imports it, and it imports no domain. A
// domain service takes the *Principal as an argument and scopes every
// query by Principal.OrgID, so another tenant's object is
// indistinguishable from one that does not exist (not_found). Who the
// principal is (a session cookie, a bearer token) is decided at the edge,
// in app; which credentials are valid is identity's business.
package auth

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

// OrgKinds returns the kinds of organisation, in the order forms offer them.
func OrgKinds() []OrgKind { return []OrgKind{OrgCompany, OrgProvider, OrgFund, OrgPlatform} }

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

// KindRoles are the roles a user of each kind of organisation may hold.
var KindRoles = map[OrgKind][]Role{
	OrgCompany:  {RoleEmployee, RoleCompanyAdmin},
	OrgProvider: {RoleProviderStaff},
	OrgFund:     {RoleFundManager, RoleCaseWorker, RoleFundApprover, RoleAuditor},
	OrgPlatform: {RolePlatformAdmin, RoleAuditor},
}

// AdminRoles manage the users of their own organisation; a platform admin
// manages every organisation.
var AdminRoles = []Role{RoleCompanyAdmin, RoleProviderStaff, RoleFundManager, RolePlatformAdmin}

// SecondFactorRoles move money or approve grants, so whoever holds one
// must sign in with a second factor (TOTP).
var SecondFactorRoles = []Role{RolePlatformAdmin, RoleFundManager, RoleFundApprover}

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

// NeedsSecondFactor reports whether the caller holds a role that must sign
// in with a second factor.
func (p *Principal) NeedsSecondFactor() bool { return p.Has(SecondFactorRoles...) }

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

type refusalKey struct{}

// WithRefusal returns ctx recording that the request carried credentials
// that do not hold (a bad or expired token, an expired session): err says
// why. Each surface decides what that means: a public page or operation
// goes on as anonymous, a protected one answers err.
func WithRefusal(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, refusalKey{}, err)
}

// RefusalFrom returns why the request's credentials were refused, or nil.
func RefusalFrom(ctx context.Context) error {
	err, _ := ctx.Value(refusalKey{}).(error)
	return err
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the caller's network address, used for
// rate limits and the audit log.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the caller's network address carried by ctx, or "".
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(clientIPKey{}).(string)
	return s
}
