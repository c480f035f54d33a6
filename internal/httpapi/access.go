package httpapi

import (
	"fmt"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Access to every operation is declared in openapi.yaml, next to the
// operation, and nowhere else:
//
//	security: []                 public: anyone, signed in or not
//	x-roles: [company_admin]     only callers holding one of these roles
//
// An operation that declares neither makes the server refuse to start, so
// a new route can never be exposed by omission.
type accessTable map[*openapi3.Operation]accessRule

type accessRule struct {
	public bool
	roles  []auth.Role
}

// accessRules reads the declarations of every operation in spec.
func accessRules(spec *openapi3.T) (accessTable, error) {
	t := accessTable{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			rule, err := ruleOf(op)
			if err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
			}
			t[op] = rule
		}
	}
	return t, nil
}

// RolesOf returns the access declared for op: public, or the roles allowed.
// Tests walk the spec with it to build the authorization matrix.
func RolesOf(op *openapi3.Operation) (public bool, roles []auth.Role, err error) {
	r, err := ruleOf(op)
	return r.public, r.roles, err
}

func ruleOf(op *openapi3.Operation) (accessRule, error) {
	raw, hasRoles := op.Extensions["x-roles"]
	public := op.Security != nil && len(*op.Security) == 0
	switch {
	case public && hasRoles:
		return accessRule{}, fmt.Errorf("both security: [] and x-roles")
	case public:
		return accessRule{public: true}, nil
	case !hasRoles:
		return accessRule{}, fmt.Errorf("declares no access: add x-roles or security: []")
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return accessRule{}, fmt.Errorf("x-roles must be a non-empty list of roles")
	}
	var rule accessRule
	for _, v := range list {
		s, _ := v.(string)
		if !slices.Contains(auth.AllRoles, auth.Role(s)) {
			return accessRule{}, fmt.Errorf("x-roles: unknown role %v", v)
		}
		rule.roles = append(rule.roles, auth.Role(s))
	}
	return rule, nil
}

// check enforces the operation's rule on the caller app's authentication
// middleware found (auth.PrincipalFrom). Credentials that were refused
// never speak for anyone here, not even a browser session that must still
// set up its second factor: a public operation runs anonymous, a protected
// one answers the refusal.
func (t accessTable) check(c echo.Context, route *routers.Route) error {
	rule := t[route.Operation]
	ctx := c.Request().Context()
	p := auth.PrincipalFrom(ctx)
	if refused := auth.RefusalFrom(ctx); refused != nil {
		if !rule.public {
			return refused
		}
		if p != nil {
			p = nil
			c.SetRequest(c.Request().WithContext(auth.WithPrincipal(ctx, nil)))
		}
	}
	if rule.public {
		return nil
	}
	if p == nil {
		return apperr.New(apperr.Unauthorized, "authentication required")
	}
	if !p.Has(rule.roles...) {
		return apperr.New(apperr.Forbidden, "your role does not allow this operation")
	}
	return nil
}
