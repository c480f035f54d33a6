package webui

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/identity"
)

// registerSites mounts the company's sites (where its people work) and
// the forms where each person picks theirs. A site's town is one of the
// catalogue's places, so it needs the catalogue too.
func (u *UI) registerSites(e *echo.Echo) {
	if u.deps.Identity == nil || u.deps.Catalog == nil {
		return
	}
	hr := Roles(auth.RoleCompanyAdmin)
	u.Handle(e, http.MethodGet, "/azienda/sedi", hr, u.sites)
	u.Handle(e, http.MethodPost, "/azienda/sedi", hr, u.siteSave)
	u.Handle(e, http.MethodGet, "/azienda/sedi/:id", hr, u.siteEdit)
	u.Handle(e, http.MethodPost, "/azienda/sedi/:id", hr, u.siteSave)
	u.Handle(e, http.MethodPost, "/azienda/sedi/:id/elimina", hr, u.siteDelete)
	u.Handle(e, http.MethodPost, "/account/sede", SignedIn, u.mySite)
	u.Handle(e, http.MethodPost, "/users/:id/sede", Roles(auth.AdminRoles...), u.userSite)
	u.addHome("/azienda/sedi", "identity.sites.title", "home.link.sites.text", auth.RoleCompanyAdmin)
}

// siteView is a site with its town as people write it ("Lecco (LC)").
type siteView struct {
	identity.Site
	Town string
}

// sitesPage is the list of a company's sites with the form to add one,
// or (Editing) the form of one site.
type sitesPage struct {
	Sites   []siteView
	Editing *siteView
	Form    siteForm
	Saved   bool
	Errors  fieldErrors // next to the form's fields
}

// siteForm is what was typed in the site form.
type siteForm struct {
	Name, Address, Town string
}

// siteViews gives sites their towns.
func (u *UI) siteViews(c echo.Context, sites []identity.Site) ([]siteView, error) {
	out := make([]siteView, len(sites))
	for i, s := range sites {
		out[i].Site = s
		pl, err := u.deps.Catalog.Place(c.Request().Context(), s.PlaceCode)
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			return nil, err
		}
		out[i].Town = pl.Label()
	}
	return out, nil
}

func (u *UI) sites(c echo.Context) error {
	return u.renderSites(c, http.StatusOK, sitesPage{Saved: c.QueryParam("salvato") == "1"})
}

func (u *UI) renderSites(c echo.Context, status int, data sitesPage) error {
	sites, err := u.deps.Identity.Sites(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	if data.Sites, err = u.siteViews(c, sites); err != nil {
		return err
	}
	return u.r.render(c, status, "identity_sites", u.page(c, data))
}

// siteParam reads the site of the page's :id. Errors: not_found.
func (u *UI) siteParam(c echo.Context) (*siteView, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no such site")
	}
	s, err := u.deps.Identity.Site(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return nil, err
	}
	v, err := u.siteViews(c, []identity.Site{*s})
	if err != nil {
		return nil, err
	}
	return &v[0], nil
}

func (u *UI) siteEdit(c echo.Context) error {
	s, err := u.siteParam(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "identity_sites", u.page(c, sitesPage{Editing: s,
		Form: siteForm{Name: s.Name, Address: s.Address, Town: s.Town}}))
}

// siteSave records a new site (no :id) or changes one; a refusal shows
// the form again with every field at fault marked and what was typed.
func (u *UI) siteSave(c echo.Context) error {
	ctx := c.Request().Context()
	f := siteForm{Name: c.FormValue("name"), Address: c.FormValue("address"), Town: c.FormValue("town")}
	data := sitesPage{Form: f}
	id := uuid.Nil
	if c.Param("id") != "" {
		s, err := u.siteParam(c)
		if err != nil {
			return err
		}
		id, data.Editing = s.ID, s
	}
	in := identity.SiteInput{Name: f.Name, Address: f.Address}
	place, err := u.findPlace(c, f.Town)
	if err != nil {
		return err
	}
	if place != nil {
		in.PlaceCode = place.Code
	}
	_, err = u.deps.Identity.SaveSite(ctx, CurrentPrincipal(c), id, in)
	if err != nil {
		status, _, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		if status == http.StatusNotFound {
			return err
		}
		data.Errors = u.fieldErrors(lang(c), err)
		if data.Editing != nil {
			return u.r.render(c, status, "identity_sites", u.page(c, data))
		}
		return u.renderSites(c, status, data)
	}
	return c.Redirect(http.StatusSeeOther, "/azienda/sedi?salvato=1")
}

func (u *UI) siteDelete(c echo.Context) error {
	s, err := u.siteParam(c)
	if err != nil {
		return err
	}
	if err := u.deps.Identity.DeleteSite(c.Request().Context(), CurrentPrincipal(c), s.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/azienda/sedi?salvato=1")
}

// sitePicker is the form where a person's site is chosen: on their own
// profile, or on an admin's page of them.
type sitePicker struct {
	Action  string // where the form posts
	CSRF    string
	Sites   []siteView
	Current string // the chosen site's id, "" for none
	Error   string // a refusal, shown next to the choice
}

// sitePickerFor returns the picker of user's site among actor's
// organisation's sites, or nil when it has none (the form would offer
// nothing).
func (u *UI) sitePickerFor(c echo.Context, user uuid.UUID, action string) (*sitePicker, error) {
	if u.deps.Catalog == nil {
		return nil, nil
	}
	ctx := c.Request().Context()
	sites, err := u.deps.Identity.Sites(ctx, CurrentPrincipal(c))
	if err != nil || len(sites) == 0 {
		return nil, err
	}
	p := &sitePicker{Action: action, CSRF: csrfToken(c)}
	if p.Sites, err = u.siteViews(c, sites); err != nil {
		return nil, err
	}
	mine, err := u.deps.Identity.UserSite(ctx, user)
	if err != nil {
		return nil, err
	}
	if mine != nil {
		p.Current = mine.ID.String()
	}
	return p, nil
}

// chosenSite reads the site picker's choice: nil for none. Errors:
// invalid (field site_id).
func chosenSite(c echo.Context) (*uuid.UUID, error) {
	v := c.FormValue("site_id")
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "no such site").With("field", "site_id")
	}
	return &id, nil
}

func (u *UI) mySite(c echo.Context) error {
	p := CurrentPrincipal(c)
	site, err := chosenSite(c)
	if err == nil {
		err = u.deps.Identity.SetUserSite(c.Request().Context(), p, p.UserID, site)
	}
	if err != nil {
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		return u.renderAccount(c, status, accountPage{SiteError: msg})
	}
	return c.Redirect(http.StatusSeeOther, "/account?sede=1")
}

func (u *UI) userSite(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "no such user")
	}
	site, err := chosenSite(c)
	if err == nil {
		err = u.deps.Identity.SetUserSite(c.Request().Context(), CurrentPrincipal(c), id, site)
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return err
		}
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		return u.renderUser(c, status, msg)
	}
	return c.Redirect(http.StatusSeeOther, "/users/"+id.String())
}

// siteNear is where the catalogue starts for the person: their site's
// town, or "" when they have not picked one.
func (u *UI) siteNear(c echo.Context) (*catalog.Place, error) {
	p := CurrentPrincipal(c)
	if p == nil || u.deps.Identity == nil || u.deps.Catalog == nil {
		return nil, nil
	}
	s, err := u.deps.Identity.UserSite(c.Request().Context(), p.UserID)
	if err != nil || s == nil {
		return nil, err
	}
	pl, err := u.deps.Catalog.Place(c.Request().Context(), s.PlaceCode)
	if apperr.Is(err, apperr.Invalid) {
		return nil, nil
	}
	return &pl, err
}
