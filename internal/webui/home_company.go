package webui

import (
	"slices"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/auth"
)

// companyOverview is the company admin's first look at their company:
// the figures of the services behind the budget, plans and people pages,
// each shown only when its service runs (nil: not shown).
type companyOverview struct {
	// BudgetCents is what can be allocated now; OpenItems how many of the
	// company's payments are still owed (refunds, disputes).
	BudgetCents *int64
	OpenItems   int
	// AllocatedCents is what the plans have credited to employees so far,
	// OpenPlans how many plans are running.
	AllocatedCents *int64
	OpenPlans      int
	// Employees are the people with the employee role (not deactivated),
	// Active those of them who accepted their invitation; Percent is
	// Active of Employees.
	Employees, Active, Percent int
	// Sites is how many sites the company records; SitesPage whether
	// the page to record them runs.
	Sites     int
	SitesPage bool
}

// overviewFor gathers p's company's figures, or nil for anyone who does
// not run a company's welfare.
func (u *UI) overviewFor(c echo.Context, p *auth.Principal) (*companyOverview, error) {
	if p.OrgKind != auth.OrgCompany || !p.Has(auth.RoleCompanyAdmin) {
		return nil, nil
	}
	ctx := c.Request().Context()
	o := &companyOverview{}
	if u.deps.Funding != nil {
		b, err := u.deps.Funding.Budget(ctx, p, uuid.Nil)
		if err != nil {
			return nil, err
		}
		o.BudgetCents = &b.Available
		for _, it := range b.OpenItems {
			if it.ResolvedAt == nil {
				o.OpenItems++
			}
		}
	}
	if u.deps.Plans != nil {
		plans, err := u.deps.Plans.Plans(ctx, p)
		if err != nil {
			return nil, err
		}
		var allocated int64
		for _, pl := range plans {
			allocated += pl.AllocatedCents
			if pl.Status != "closed" {
				o.OpenPlans++
			}
		}
		o.AllocatedCents = &allocated
	}
	users, err := u.deps.Identity.ListUsers(ctx, p, uuid.Nil)
	if err != nil {
		return nil, err
	}
	for _, usr := range users {
		if usr.Status == "deactivated" || !slices.Contains(usr.Roles, auth.RoleEmployee) {
			continue
		}
		o.Employees++
		if usr.Status == "active" {
			o.Active++
		}
	}
	if o.Employees > 0 {
		o.Percent = o.Active * 100 / o.Employees
	}
	sites, err := u.deps.Identity.Sites(ctx, p)
	if err != nil {
		return nil, err
	}
	o.Sites = len(sites)
	_, o.SitesPage = u.AccessOf("GET", "/azienda/sedi")
	return o, nil
}
