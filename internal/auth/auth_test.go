package auth

import (
	"context"
	"slices"
	"testing"
)

// Every role can be held in some kind of organisation, every admin and
// second-factor role is a real role, and a role that needs a second factor
// makes its holder need one.
func TestRolesAndKindsAgree(t *testing.T) {
	for _, r := range AllRoles {
		held := false
		for _, roles := range KindRoles {
			held = held || slices.Contains(roles, r)
		}
		if !held {
			t.Errorf("role %s cannot be held in any kind of organisation", r)
		}
	}
	for _, r := range append(slices.Clone(AdminRoles), SecondFactorRoles...) {
		if !slices.Contains(AllRoles, r) {
			t.Errorf("%s is not among AllRoles", r)
		}
	}
	for _, r := range SecondFactorRoles {
		if !(&Principal{Roles: []Role{RoleEmployee, r}}).NeedsSecondFactor() {
			t.Errorf("a %s does not need a second factor", r)
		}
	}
	if (&Principal{Roles: []Role{RoleEmployee}}).NeedsSecondFactor() || (*Principal)(nil).Has(AllRoles...) {
		t.Error("an employee, or nobody, needs a second factor or holds a role")
	}
}

// The context carries the caller, a refusal and the client address
// independently; an empty context carries none of them.
func TestContext(t *testing.T) {
	ctx := context.Background()
	if PrincipalFrom(ctx) != nil || RefusalFrom(ctx) != nil || ClientIP(ctx) != "" {
		t.Fatal("an empty context carries a caller")
	}
	p := &Principal{Roles: []Role{RoleAuditor}}
	refused := context.Canceled
	ctx = WithClientIP(WithRefusal(WithPrincipal(ctx, p), refused), "192.0.2.1")
	if PrincipalFrom(ctx) != p || RefusalFrom(ctx) != refused || ClientIP(ctx) != "192.0.2.1" {
		t.Fatalf("context lost something: %v %v %q", PrincipalFrom(ctx), RefusalFrom(ctx), ClientIP(ctx))
	}
}
