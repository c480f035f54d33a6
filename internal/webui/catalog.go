package webui

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
)

// registerCatalog mounts the catalogue: the public search and offering
// pages, the provider dashboard, and the platform admin's approval queue.
func (u *UI) registerCatalog(e *echo.Echo) {
	if u.deps.Catalog == nil {
		return
	}
	u.Handle(e, http.MethodGet, "/media/photos/:id", Public, u.photo)
	u.Handle(e, http.MethodGet, "/catalogo", Public, u.catalogSearch)
	u.Handle(e, http.MethodGet, "/catalogo/:id", Public, u.catalogOffering)
	staff := Roles(auth.RoleProviderStaff)
	u.Handle(e, http.MethodGet, "/erogatore", staff, u.providerDashboard)
	u.Handle(e, http.MethodGet, "/erogatore/profilo", staff, u.providerProfileForm)
	u.Handle(e, http.MethodPost, "/erogatore/profilo", staff, u.providerProfileSave)
	u.Handle(e, http.MethodGet, "/erogatore/offerte/nuova", staff, u.offeringNew)
	u.Handle(e, http.MethodPost, "/erogatore/offerte/nuova", staff, u.offeringSave)
	u.Handle(e, http.MethodGet, "/erogatore/offerte/:id", staff, u.offeringEdit)
	u.Handle(e, http.MethodPost, "/erogatore/offerte/:id", staff, u.offeringSave)
	u.Handle(e, http.MethodPost, "/erogatore/offerte/:id/stato", staff, u.offeringStatus)
	u.Handle(e, http.MethodPost, StripeReturnPath, staff, u.stripeStart)
	u.Handle(e, http.MethodGet, StripeReturnPath, staff, u.stripeReturn)
	admin := Roles(auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, "/admin/erogatori", admin, u.adminProviders)
	u.Handle(e, http.MethodPost, "/admin/erogatori/:id", admin, u.adminReview)
	u.registerLabels(e)
	u.addHome("/catalogo", "home.link.catalog", "home.link.catalog.text", auth.RoleEmployee, auth.RoleCompanyAdmin)
	u.addHome("/erogatore", "nav.provider", "home.link.provider.text", auth.RoleProviderStaff)
	u.addHome("/erogatore/offerte/nuova", "catalog.dashboard.new", "home.link.new_offering.text", auth.RoleProviderStaff)
	u.addHome("/erogatore/etichetta", "home.link.label", "home.link.label.text", auth.RoleProviderStaff)
	u.addHome("/admin/erogatori", "nav.approvals", "home.link.approvals.text", auth.RolePlatformAdmin)
	u.addHome("/admin/modifiche", "catalog.changes.nav", "home.link.changes.text", auth.RolePlatformAdmin)
}

// StripeReturnPath is the provider's page Stripe sends them back to after
// onboarding, whether it started on the web or through the API.
const StripeReturnPath = "/erogatore/stripe"

// photoCache lets browsers and proxies keep a photo forever: a photo is
// never changed, a new upload gets a new id (and URL).
const photoCache = "public, max-age=31536000, immutable"

func (u *UI) photo(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "photo not found")
	}
	etag := fmt.Sprintf(`"%s"`, id)
	h := c.Response().Header()
	if c.Request().Header.Get("If-None-Match") == etag {
		h.Set("Cache-Control", photoCache)
		h.Set("ETag", etag)
		return c.NoContent(http.StatusNotModified)
	}
	ph, err := u.deps.Catalog.Photo(c.Request().Context(), id)
	if err != nil {
		return err
	}
	h.Set("Cache-Control", photoCache)
	h.Set("ETag", etag)
	return c.Blob(http.StatusOK, ph.ContentType, ph.Data)
}

// offeringCard is an offering as the pages show it (prices, distances
// and times are formatted by the templates).
type offeringCard struct {
	catalog.Offering
	PhotoURL string
	LogoURL  string // the provider's logo
	MapURL   string
	// Label is the evidence of the provider's inclusion label while it
	// shows ("" for none), LabelUntil its last day.
	Label      string
	LabelUntil *time.Time
}

func card(o catalog.Offering) offeringCard {
	c := offeringCard{Offering: o, MapURL: catalog.MapURL(o.Lat, o.Lon)}
	if o.PhotoID != nil {
		c.PhotoURL = catalog.PhotoPath(*o.PhotoID)
	}
	if o.LabelEvidence != nil {
		c.Label, c.LabelUntil = string(*o.LabelEvidence), o.LabelValidUntil
	}
	if o.ProviderLogoID != nil {
		c.LogoURL = catalog.PhotoPath(*o.ProviderLogoID)
	}
	return c
}

// searchPage is what the catalogue page shows.
type searchPage struct {
	Q, Category, Near, Radius, MaxPrice, Sort string
	Labelled                                  bool // only providers whose inclusion label shows
	Categories                                []catalog.Category
	Radii, Sorts                              []string
	Place                                     *catalog.Place
	RadiusKm                                  int // the radius searched within, near a place
	Searched                                  bool
	Results                                   []offeringCard
	Total                                     int
	TotalMore                                 bool // more than Total results (the count stops there)
	NextURL                                   string
	// NearestKm is set when nothing was found within the radius but
	// something further away; WiderURL searches within WiderKm to reach it.
	NearestKm *float64
	WiderKm   int
	WiderURL  string
	Error     string // shown above the form, in the person's language
	NearError string // shown next to the place field
	FromSite  bool   // Near is the person's site, not something they typed
}

// searchRadii are the radii the search form offers (km); a wider search
// reaches the nearest match with the first that covers it.
var searchRadii = []int{5, 10, 20, 50, 100, 200, catalog.MaxRadiusKm}

func (u *UI) catalogSearch(c echo.Context) error {
	ctx := c.Request().Context()
	p := searchPage{Q: c.QueryParam("q"), Category: c.QueryParam("categoria"), Near: c.QueryParam("vicino"),
		Radius: c.QueryParam("raggio"), MaxPrice: c.QueryParam("prezzo_max"), Sort: c.QueryParam("ordina"),
		Categories: u.deps.Catalog.Categories(), Sorts: []string{"relevance", "distance", "price"}}
	for _, km := range searchRadii {
		p.Radii = append(p.Radii, strconv.Itoa(km))
	}
	if !slices.Contains(p.Radii, p.Radius) {
		p.Radius = "" // any distance; near a place, the default radius
	}
	if _, asked := c.QueryParams()["vicino"]; !asked {
		// Unless the person says where, the catalogue starts from their
		// site (an emptied field searches anywhere).
		site, err := u.catalogueStart(c)
		if err != nil {
			return err
		}
		if site != nil {
			p.Near, p.FromSite = site.Label(), true
		}
	}
	if p.Radius != "" && strings.TrimSpace(p.Near) == "" {
		// "Within 20 km" of nowhere: ask where, rather than ignore it.
		p.NearError = u.cat.T(lang(c), "catalog.search.radius_needs_place")
		return u.r.render(c, http.StatusOK, "catalog_search", u.page(c, p))
	}
	p.RadiusKm, _ = strconv.Atoi(cmp.Or(p.Radius, strconv.Itoa(catalog.DefaultRadiusKm)))
	p.Labelled = c.QueryParam("inclusione") == "1"
	q := catalog.SearchQuery{Text: p.Q, Category: p.Category, Sort: catalog.Sort(p.Sort), Cursor: c.QueryParam("cursor"),
		Labelled: p.Labelled, Count: true}
	if p.Near != "" {
		place, err := u.findPlace(c, p.Near)
		if err != nil {
			return err
		}
		if place == nil {
			p.Error = u.cat.T(lang(c), "catalog.search.no_place")
			return u.r.render(c, http.StatusOK, "catalog_search", u.page(c, p))
		}
		p.Place = place
		q.Near = &catalog.LatLon{Lat: place.Lat, Lon: place.Lon}
		q.RadiusKm = float64(p.RadiusKm)
	}
	if p.MaxPrice != "" {
		cents, err := catalog.ParseEuro(p.MaxPrice)
		if err != nil {
			p.Error = u.cat.T(lang(c), "form.invalid.price_cents")
			return u.r.render(c, http.StatusOK, "catalog_search", u.page(c, p))
		}
		q.MaxPrice = &cents
	}
	page, err := u.deps.Catalog.Search(ctx, q)
	if err != nil {
		if apperr.Is(err, apperr.Invalid) {
			p.Error = u.formMessage(lang(c), err)
			return u.r.render(c, http.StatusOK, "catalog_search", u.page(c, p))
		}
		return err
	}
	p.Searched = true
	for _, o := range page.Items {
		p.Results = append(p.Results, card(o))
	}
	if page.Total != nil {
		p.Total, p.TotalMore = *page.Total, page.TotalMore
	}
	if page.NextCursor != "" {
		v := c.QueryParams()
		v.Set("cursor", page.NextCursor)
		p.NextURL = "/catalogo?" + v.Encode()
	}
	if page.NearestKm != nil {
		p.NearestKm = page.NearestKm
		for _, km := range searchRadii {
			if float64(km) >= *page.NearestKm {
				v := c.QueryParams()
				v.Set("raggio", strconv.Itoa(km))
				v.Del("cursor")
				p.WiderKm, p.WiderURL = km, "/catalogo?"+v.Encode()
				break
			}
		}
	}
	return u.r.render(c, http.StatusOK, "catalog_search", u.page(c, p))
}

// catalogueStart is where the catalogue starts for the person: their
// site, else (not picked yet) their company's site where most of its
// people work, the first by name among equals; nil for a visitor or a
// company with no site, who browse the varied order.
func (u *UI) catalogueStart(c echo.Context) (*catalog.Place, error) {
	site, err := u.siteNear(c)
	p := CurrentPrincipal(c)
	if err != nil || site != nil || p == nil || p.OrgKind != auth.OrgCompany || u.deps.Identity == nil {
		return site, err
	}
	sites, err := u.deps.Identity.Sites(c.Request().Context(), p)
	if err != nil || len(sites) == 0 {
		return nil, err
	}
	main := sites[0]
	for _, s := range sites[1:] {
		if s.Employees > main.Employees {
			main = s
		}
	}
	pl, err := u.deps.Catalog.Place(c.Request().Context(), main.PlaceCode)
	if apperr.Is(err, apperr.Invalid) {
		return nil, nil
	}
	return &pl, err
}

func (u *UI) catalogOffering(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "offering not found")
	}
	o, err := u.deps.Catalog.Offering(c.Request().Context(), id)
	if err != nil {
		return err
	}
	cat, _ := catalog.CategoryByCode(o.Category)
	p := CurrentPrincipal(c)
	page := offeringPage{offeringCard: card(o), TaxBucket: cat.TaxBucket, Viewer: offeringViewer(p, o), ShowTax: seesTaxRules(p)}
	if page.Viewer == "employee" && u.deps.Redemption != nil {
		if page.Spendable, err = u.deps.Redemption.Spendable(c.Request().Context(), p.UserID, o.Category); err != nil {
			return err
		}
	}
	return u.r.render(c, http.StatusOK, "catalog_offering", u.page(c, page))
}

// offeringPage is one offering, as its viewer needs it.
type offeringPage struct {
	offeringCard
	TaxBucket catalog.TaxBucket
	// Viewer is who is looking: visitor (told to sign in to book),
	// employee (where booking goes), provider (its own offering: edit) or
	// other (anyone else signed in).
	Viewer  string
	ShowTax bool // the tax rule of the category, for HR, providers and admins
	// Spendable is what an employee viewer's credits can pay here.
	Spendable int64
}

func offeringViewer(p *auth.Principal, o catalog.Offering) string {
	switch {
	case p == nil:
		return "visitor"
	case p.Has(auth.RoleProviderStaff) && p.OrgID == o.ProviderID:
		return "provider"
	case p.Has(auth.RoleEmployee):
		return "employee"
	}
	return "other"
}

// seesTaxRules reports whether p is shown the tax rules behind the
// categories (the TUIR articles): the people who run welfare plans and
// the catalogue, not the employees who spend credits or visitors.
func seesTaxRules(p *auth.Principal) bool {
	return p != nil && p.Has(auth.RoleCompanyAdmin, auth.RoleProviderStaff, auth.RolePlatformAdmin, auth.RoleAuditor)
}

// dashboard is the provider's home.
type dashboard struct {
	Provider  catalog.Provider
	Offerings []offeringCard
	Notice    string // message key
	// Label is the inclusion label that shows today, LabelLatest the
	// latest request for it.
	Label, LabelLatest *labelView
}

func (u *UI) providerDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	pr, err := u.deps.Catalog.Provider(ctx, p, p.OrgID)
	if apperr.Is(err, apperr.NotFound) {
		return c.Redirect(http.StatusSeeOther, "/erogatore/profilo")
	}
	if err != nil {
		return err
	}
	list, err := u.deps.Catalog.ProviderOfferings(ctx, p, p.OrgID)
	if err != nil {
		return err
	}
	st, err := u.deps.Catalog.ProviderLabel(ctx, p, p.OrgID)
	if err != nil {
		return err
	}
	d := dashboard{Provider: pr, Label: viewLabel(st.Current), LabelLatest: viewLabel(st.Latest)}
	for _, o := range list {
		d.Offerings = append(d.Offerings, card(o))
	}
	switch {
	case c.QueryParam("salvato") == "revisione":
		d.Notice = "catalog.dashboard.requeued"
	case c.QueryParam("salvato") == "1":
		d.Notice = "catalog.dashboard.saved"
	case c.QueryParam("stripe") == "1":
		d.Notice = "catalog.stripe.returned"
	}
	return u.r.render(c, http.StatusOK, "provider_dashboard", u.page(c, d))
}

// profileForm is the provider profile form with what was typed.
type profileForm struct {
	In     catalog.ProfileInput
	Town   string
	Error  string      // shown above the form, in the person's language
	Errors fieldErrors // next to the fields, every one at fault
	Exists bool
	// Reviewed is set once a platform admin has looked at the profile:
	// changing the legal details then sends it back for approval.
	Reviewed  bool
	LogoURL   string
	PledgePct int
	Forms     []catalog.LegalForm
}

// current fills in what the form shows of the saved profile.
func (f *profileForm) current(pr catalog.Provider) {
	f.Exists, f.Reviewed = true, pr.Status != catalog.ProviderPending
	if pr.LogoPhotoID != nil {
		f.LogoURL = catalog.PhotoPath(*pr.LogoPhotoID)
	}
}

func (u *UI) providerProfileForm(c echo.Context) error {
	p := CurrentPrincipal(c)
	f := profileForm{In: catalog.ProfileInput{LegalForm: catalog.FormSocialCooperative}}
	pr, err := u.deps.Catalog.Provider(c.Request().Context(), p, p.OrgID)
	switch {
	case err == nil:
		f.current(pr)
		f.In = catalog.ProfileInput{LegalName: pr.LegalName, LegalForm: pr.LegalForm, FiscalCode: pr.FiscalCode,
			Address: pr.Address, PlaceCode: pr.PlaceCode, Email: pr.Email, Phone: pr.Phone, Website: pr.Website,
			Description: pr.Description, FundPledgeBps: pr.FundPledgeBps}
		if pr.VATNumber != nil {
			f.In.VATNumber = *pr.VATNumber
		}
		f.Town = pr.PlaceName
	case !apperr.Is(err, apperr.NotFound):
		return err
	}
	f.PledgePct, f.Forms = f.In.FundPledgeBps/100, catalog.LegalForms()
	return u.r.render(c, http.StatusOK, "provider_profile", u.page(c, f))
}

func (u *UI) providerProfileSave(c echo.Context) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	pledge, _ := strconv.Atoi(c.FormValue("fund_pledge_pct"))
	f := profileForm{Town: c.FormValue("town"), In: catalog.ProfileInput{LegalName: c.FormValue("legal_name"),
		LegalForm: catalog.LegalForm(c.FormValue("legal_form")), VATNumber: c.FormValue("vat_number"),
		FiscalCode: c.FormValue("fiscal_code"), Address: c.FormValue("address"), Email: c.FormValue("email"),
		Phone: c.FormValue("phone"), Website: c.FormValue("website"), Description: c.FormValue("description"),
		FundPledgeBps: pledge * 100}}
	if pr, err := u.deps.Catalog.Provider(ctx, p, p.OrgID); err == nil {
		f.current(pr)
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	var saved catalog.Provider
	// Every mistake at once: the town and the logo, and the catalogue's
	// checks of the rest.
	code, errTown := u.placeCode(c, f.Town)
	logo, errLogo := formImage(c, "logo")
	f.In.PlaceCode, f.In.Logo = code, logo
	for _, err := range []error{errTown, errLogo} {
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			return err
		}
	}
	var err error
	if errTown != nil || errLogo != nil {
		checked := f.In
		checked.Normalise()
		err = apperr.AllInvalid(errTown, errLogo, checked.Validate())
	} else {
		saved, err = u.deps.Catalog.SaveProfile(ctx, p, p.OrgID, f.In)
	}
	if apperr.Is(err, apperr.Invalid) {
		f.Error, f.Errors, f.PledgePct, f.Forms = u.cat.T(lang(c), "form.fix_below"), u.fieldErrors(lang(c), err), pledge, catalog.LegalForms()
		if len(f.Errors) == 0 {
			f.Error = u.formMessage(lang(c), err)
		}
		return u.r.render(c, http.StatusUnprocessableEntity, "provider_profile", u.page(c, f))
	}
	if err != nil {
		return err
	}
	if saved.Requeued {
		return c.Redirect(http.StatusSeeOther, "/erogatore?salvato=revisione")
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore?salvato=1")
}

// placeCode resolves a town typed by a person (name or postcode) to its
// ISTAT code: the best match. Errors: invalid (no such municipality).
func (u *UI) placeCode(c echo.Context, town string) (string, error) {
	place, err := u.findPlace(c, town)
	if err != nil {
		return "", err
	}
	if place == nil {
		return "", apperr.New(apperr.Invalid, "unknown municipality").With("field", "place_code")
	}
	return place.Code, nil
}

// placeLabel is how the pages write a municipality: "Lecco (LC)".
var placeLabel = regexp.MustCompile(`^(.+?)\s*\(([A-Za-z]{2})\)$`)

// findPlace resolves a town typed by a person (a name, a postcode, or the
// "Lecco (LC)" the pages write, which picks the town of that province
// among those of the same name) to the best match, or nil.
func (u *UI) findPlace(c echo.Context, town string) (*catalog.Place, error) {
	text, province := strings.TrimSpace(town), ""
	if m := placeLabel.FindStringSubmatch(text); m != nil {
		text, province = m[1], strings.ToUpper(m[2])
	}
	places, err := u.deps.Catalog.FindPlaces(c.Request().Context(), text, 10)
	if apperr.Is(err, apperr.Invalid) || err == nil && len(places) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, pl := range places {
		if province != "" && pl.ProvinceCode == province {
			return &pl, nil
		}
	}
	return &places[0], nil
}

// offeringForm is the offering form with what was typed.
type offeringForm struct {
	ID         string
	In         catalog.OfferingInput
	Price      string
	Town       string
	PhotoURL   string
	Categories []catalog.Category
	Units      []catalog.Unit
	Statuses   []catalog.OfferingStatus
	Slots      []slotRow // the bookable times, then blank rows for more
	Error      string    // shown above the form, in the person's language
	Errors     fieldErrors
}

// newOfferingForm returns a form with the choices filled in.
func (u *UI) newOfferingForm() offeringForm {
	return offeringForm{Categories: u.deps.Catalog.Categories(),
		Units: catalog.Units(), Statuses: catalog.OfferingStatuses()}
}

func (u *UI) offeringNew(c echo.Context) error {
	f := u.newOfferingForm()
	f.In = catalog.OfferingInput{Unit: "hour", Status: catalog.OfferingActive}
	f.Slots = slotRowsOf(nil)
	return u.r.render(c, http.StatusOK, "provider_offering", u.page(c, f))
}

func (u *UI) offeringEdit(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "offering not found")
	}
	o, err := u.deps.Catalog.ManagedOffering(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return err
	}
	f := u.newOfferingForm()
	f.ID, f.Town, f.Price = o.ID.String(), o.PlaceName, strings.TrimPrefix(formatEuro(o.PriceCents, "it"), "€ ")
	f.In = catalog.OfferingInput{Title: o.Title, Description: o.Description, Category: o.Category, Unit: o.Unit,
		Address: o.Address, ServiceRadiusKm: o.ServiceRadiusKm, Status: o.Status}
	if o.PhotoID != nil {
		f.PhotoURL = catalog.PhotoPath(*o.PhotoID)
	}
	f.Slots = slotRowsOf(o.Slots)
	return u.r.render(c, http.StatusOK, "provider_offering", u.page(c, f))
}

// offeringSave creates (no id) or updates an offering with the photo sent
// with it, in one step: a refused photo leaves no offering behind.
func (u *UI) offeringSave(c echo.Context) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	radius, _ := strconv.Atoi(c.FormValue("service_radius_km"))
	f := u.newOfferingForm()
	f.ID, f.Price, f.Town = c.Param("id"), c.FormValue("price"), c.FormValue("town")
	f.In = catalog.OfferingInput{Title: c.FormValue("title"), Description: c.FormValue("description"),
		Category: c.FormValue("category"), Unit: catalog.Unit(c.FormValue("unit")), Address: c.FormValue("address"),
		ServiceRadiusKm: radius, Status: catalog.OfferingStatus(c.FormValue("status"))}
	var id uuid.UUID
	if f.ID != "" {
		// Someone else's offering answers not_found before anything else.
		var err error
		if id, err = uuid.Parse(f.ID); err != nil {
			return apperr.New(apperr.NotFound, "offering not found")
		}
		if _, err := u.deps.Catalog.ManagedOffering(ctx, p, id); err != nil {
			return err
		}
	}
	fail := func(err error) error {
		if formKeyMessage(err) != "" { // the form was sent before
			f.Error = u.formMessage(lang(c), err)
			return u.r.render(c, http.StatusConflict, "provider_offering", u.page(c, f))
		}
		if apperr.Is(err, apperr.Invalid) {
			f.Error, f.Errors = u.cat.T(lang(c), "form.fix_below"), u.fieldErrors(lang(c), err)
			if len(f.Errors) == 0 {
				f.Error = u.formMessage(lang(c), err)
			}
			return u.r.render(c, http.StatusUnprocessableEntity, "provider_offering", u.page(c, f))
		}
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return fail(apperr.New(apperr.Invalid, "malformed form"))
	}
	// Every mistake at once: the form's own (times, photo, price, town)
	// and the catalogue's checks of the rest.
	var problems []error
	var slots []catalog.SlotInput
	var slotsOK bool
	if f.Slots, slots, slotsOK = parseSlotRows(form); !slotsOK {
		problems = append(problems, apperr.New(apperr.Invalid, "some slots are wrong").With("field", "slots").With("reason", "rows"))
	}
	f.In.Slots, f.In.Availability = slots, catalog.AvailabilityOnRequest
	if len(slots) > 0 {
		f.In.Availability = catalog.AvailabilitySlots
	}
	if f.In.Photo, err = formImage(c, "photo"); err != nil {
		problems = append(problems, err)
	}
	if f.In.PriceCents, err = catalog.ParseEuro(f.Price); err != nil {
		problems = append(problems, err)
	}
	if f.In.PlaceCode, err = u.placeCode(c, f.Town); err != nil {
		problems = append(problems, err)
	}
	for _, err := range problems {
		if !apperr.Is(err, apperr.Invalid) {
			return err
		}
	}
	if len(problems) > 0 {
		checked := f.In
		checked.Normalise()
		return fail(apperr.AllInvalid(append(problems, checked.Validate())...))
	}
	if f.ID == "" {
		err = untilSettled(ctx, func() error {
			_, err := u.deps.Catalog.CreateOffering(ctx, p, p.OrgID, f.In, c.FormValue(formKeyField))
			return err
		})
	} else {
		_, err = u.deps.Catalog.UpdateOffering(ctx, p, id, f.In)
	}
	if err != nil {
		return fail(err)
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore?salvato=1")
}

// formImage returns the image uploaded in field, or nil when none was
// chosen. Errors: invalid (the field at fault).
func formImage(c echo.Context, field string) ([]byte, error) {
	fh, err := c.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) || (err == nil && fh.Size == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "unreadable upload").With("field", field)
	}
	if fh.Size > catalog.MaxPhotoBytes {
		return nil, apperr.New(apperr.Invalid, "image too large").With("field", field)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, apperr.Wrap(err, "opening upload")
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, catalog.MaxPhotoBytes+1))
}

func (u *UI) offeringStatus(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "offering not found")
	}
	if _, err := u.deps.Catalog.SetOfferingStatus(c.Request().Context(), CurrentPrincipal(c), id, catalog.OfferingStatus(c.FormValue("status"))); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore?salvato=1")
}

// stripeStart sends the provider to Stripe's onboarding form.
func (u *UI) stripeStart(c echo.Context) error {
	p := CurrentPrincipal(c)
	back := u.baseURL(c) + StripeReturnPath
	_, link, err := u.deps.Catalog.StartStripeOnboarding(c.Request().Context(), p, p.OrgID, back+"?refresh=1", back)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, link)
}

// stripeReturn is where Stripe sends the provider back: a refreshed link
// when the old one expired, else the dashboard (the status itself arrives
// by webhook).
func (u *UI) stripeReturn(c echo.Context) error {
	if c.QueryParam("refresh") == "1" {
		return u.stripeStart(c)
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore?stripe=1")
}

func (u *UI) baseURL(c echo.Context) string {
	if u.deps.Identity != nil {
		if b := u.deps.Identity.Config().BaseURL; b != "" {
			return strings.TrimRight(b, "/")
		}
	}
	return c.Scheme() + "://" + c.Request().Host
}
