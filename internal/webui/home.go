package webui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
)

// homePath is where people land after signing in: their home page.
const homePath = "/home"

// homeLink is one thing a role can do today, offered on its home page.
// Each domain adds its links where it registers its pages (UI.addHome), so
// a home page links only to pages that exist; a test checks that every
// link is a page its roles may open.
type homeLink struct {
	Roles []auth.Role
	Href  string
	Title string // message key
	Text  string // message key
}

// addHome offers a page on the home page of roles.
func (u *UI) addHome(href, title, text string, roles ...auth.Role) {
	u.homeLinks = append(u.homeLinks, homeLink{Roles: roles, Href: href, Title: title, Text: text})
}

// addOtherDomainsHome offers the pages of the domains that do not add
// their own links (yet), first what a role does most (an employee's
// credits), each only when its page is registered: a
// domain's pages may be switched off (no service wired) and a home page
// never links to nothing. Called after every domain registered.
func (u *UI) addOtherDomainsHome() {
	for _, l := range []homeLink{
		{[]auth.Role{auth.RoleEmployee}, "/portafoglio", "home.link.wallet", "home.link.wallet.text"},
		{[]auth.Role{auth.RoleEmployee}, "/buoni", "home.link.vouchers", "home.link.vouchers.text"},
		{[]auth.Role{auth.RoleCompanyAdmin}, "/azienda/piani", "home.link.plans", "home.link.plans.text"},
		{[]auth.Role{auth.RoleCompanyAdmin}, "/azienda/dipendenti", "home.link.employees", "home.link.employees.text"},
		{[]auth.Role{auth.RoleProviderStaff}, "/erogatore/convalida", "home.link.validate", "home.link.validate.text"},
		{[]auth.Role{auth.RoleProviderStaff}, "/erogatore/prenotazioni", "home.link.bookings", "home.link.bookings.text"},
		{[]auth.Role{auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker}, "/fondo", "home.link.fund", "home.link.fund.text"},
		{[]auth.Role{auth.RoleCompanyAdmin}, "/azienda/fondo", "home.link.donate", "home.link.donate.text"},
	} {
		if _, ok := u.AccessOf("GET", l.Href); ok {
			u.homeLinks = append(u.homeLinks, l)
		}
	}
}

// homePage is what a signed-in person's home page shows: the links their
// roles have, and for an employee a first look at the catalogue.
type homePage struct {
	Links []homeLink
	// Near is a first look at the catalogue for employees: the nearest
	// services to their site (Site), else one of each kind.
	Near []offeringCard
	Site *catalog.Place
	// PickSite asks an employee without a site to pick theirs: their
	// company records sites.
	PickSite bool
	// Company is a company admin's overview of their company.
	Company *companyOverview
	// Wallet is an employee's credits at a glance.
	Wallet *walletOverview
}

// homeNearKm is how far the home page looks for services near a site: as
// far as the catalogue goes, nearest first.
const homeNearKm = catalog.MaxRadiusKm

func (u *UI) homeFor(c echo.Context) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	var data homePage
	for _, l := range u.homeLinks {
		if p.Has(l.Roles...) {
			data.Links = append(data.Links, l)
		}
	}
	var err error
	if data.Company, err = u.overviewFor(c, p); err != nil {
		return err
	}
	if data.Wallet, err = u.walletFor(c, p); err != nil {
		return err
	}
	if p.Has(auth.RoleEmployee) && u.deps.Catalog != nil {
		site, err := u.siteNear(c)
		if err != nil {
			return err
		}
		q := catalog.SearchQuery{Limit: 24}
		if site != nil {
			data.Site = site
			q.Near, q.RadiusKm, q.Sort = &catalog.LatLon{Lat: site.Lat, Lon: site.Lon}, homeNearKm, catalog.SortDistance
		} else if u.deps.Identity != nil {
			sites, err := u.deps.Identity.Sites(ctx, p)
			if err != nil {
				return err
			}
			data.PickSite = len(sites) > 0
		}
		res, err := u.deps.Catalog.Search(ctx, q)
		if err != nil {
			return err
		}
		// A first look at what there is: one service per category (the
		// nearest of each near a site), not the same service from five
		// providers.
		seen := map[string]bool{}
		for _, o := range res.Items {
			if !seen[o.Category] && len(data.Near) < 3 {
				seen[o.Category] = true
				data.Near = append(data.Near, card(o))
			}
		}
	}
	return u.r.render(c, http.StatusOK, "home_signed_in", u.page(c, data))
}
