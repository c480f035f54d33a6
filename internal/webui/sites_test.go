package webui_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// HR records a site on its page: a form with several mistakes marks every
// field at fault at once and keeps what was typed; a right one lists the
// site with its town. An employee picks it on their profile.
func TestSitesPage(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	b := k.Browser(a.URL(), hr)

	res, page := b.PostForm("/azienda/sedi", url.Values{"name": {""}, "address": {strings.Repeat("Via ", 80)}, "town": {"Qzxwvk"}})
	if res.StatusCode != 400 && res.StatusCode != 422 {
		t.Fatalf("a wrong form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "site", page, "name", "address", "town")
	if !strings.Contains(page, `value="Qzxwvk"`) || !strings.Contains(page, "Non troviamo questo comune") {
		t.Error("the town typed was lost, or its message is not in Italian")
	}

	res, _ = b.PostForm("/azienda/sedi", url.Values{"name": {"Stabilimento di Lecco"}, "address": {"Via Valsugana 12"}, "town": {"lecco"}})
	if res.StatusCode != 303 {
		t.Fatalf("saving a site: %d", res.StatusCode)
	}
	_, page = b.Get("/azienda/sedi?salvato=1")
	if !strings.Contains(page, "Stabilimento di Lecco") || !strings.Contains(page, "Lecco (LC)") {
		t.Fatal("the sites page does not list the new site with its town")
	}

	// The invite form asks where the new colleague works.
	if _, page := b.Get("/users"); !strings.Contains(page, `<option value="Stabilimento di Lecco">`) {
		t.Fatal("the invite form does not offer the site")
	}
	if res, _ := b.PostForm("/users/invite", url.Values{"email": {"nuova.sede@example.com"}, "name": {"Nuova Sede"}, "role": {"employee"},
		"site": {"Stabilimento di Lecco"}}); res.StatusCode != 303 {
		t.Fatalf("inviting with a site: %d", res.StatusCode)
	}
	var site string
	if err := a.DB.Get(&site, `SELECT s.name FROM users u JOIN company_sites s ON s.id = u.site_id WHERE u.email = 'nuova.sede@example.com'`); err != nil || site != "Stabilimento di Lecco" {
		t.Fatalf("the invited colleague's site: %q %v", site, err)
	}
	_, page = b.Get("/users")
	row, _, _ := strings.Cut(page[strings.Index(page, "Nuova Sede</a>")+1:], "</tr>")
	if !strings.Contains(row, `<td data-label="Sede di lavoro">Stabilimento di Lecco</td>`) {
		t.Fatalf("the people list does not say where the new colleague works: %s", row)
	}

	emp := k.User(hr.Org, auth.RoleEmployee)
	eb := k.Browser(a.URL(), emp)
	_, page = eb.Get("/account")
	m := regexp.MustCompile(`<option value="([0-9a-f-]{36})"[^>]*>Stabilimento di Lecco · Lecco \(LC\)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the profile offers no site to pick")
	}
	if res, _ := eb.PostForm("/account/sede", url.Values{"site_id": {m[1]}}); res.StatusCode != 303 {
		t.Fatalf("picking a site: %d", res.StatusCode)
	}
	if _, page = eb.Get("/account?sede=1"); !strings.Contains(page, `value="`+m[1]+`" selected`) {
		t.Fatal("the profile does not show the site picked")
	}
	if res, _ := eb.PostForm("/account/sede", url.Values{"site_id": {uuid.NewString()}}); res.StatusCode != 400 && res.StatusCode != 422 {
		t.Fatalf("picking a site that does not exist: %d, want the form again", res.StatusCode)
	}
	// The employee cannot open HR's page.
	if res, _ := eb.Get("/azienda/sedi"); res.StatusCode != 403 {
		t.Fatalf("an employee opens the sites page: %d", res.StatusCode)
	}
}

// The catalogue starts from the employee's site: nearest first within the
// usual radius, said on the page, with a way to search anywhere; the home
// page shows the nearest services first.
func TestCatalogueStartsFromTheEmployeesSite(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	admin := catalogtest.Admin(t, a.DB)
	monzaStaff := catalogtest.Provider(t, a.DB, a.Catalog, admin, "Brianza Cura", "108033", true)
	leccoStaff := catalogtest.Provider(t, a.DB, a.Catalog, admin, "Lario Sport", "097042", true)
	catalogtest.Offering(t, a.Catalog, monzaStaff, "Assistenza agli anziani a Monza", "elder_care", "108033", 2000)
	catalogtest.Offering(t, a.Catalog, leccoStaff, "Nuoto al lago di Lecco", "sport", "097042", 1000)

	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	site, err := a.Identity.SaveSite(t.Context(), hr.Principal(), uuid.Nil, identity.SiteInput{Name: "Sede di Monza", PlaceCode: "108033"})
	if err != nil {
		t.Fatal(err)
	}
	emp := k.User(hr.Org, auth.RoleEmployee)
	b := k.Browser(a.URL(), emp)
	// Without a site: one of each, and a nudge to pick the site.
	if _, page := b.Get("/home"); !strings.Contains(page, `id="pick-site"`) {
		t.Fatal("the home page does not ask for the site")
	}
	if err := a.Identity.SetUserSite(t.Context(), emp.Principal(), emp.ID, &site.ID); err != nil {
		t.Fatal(err)
	}

	_, page := b.Get("/catalogo")
	if !strings.Contains(page, `id="search-place"`) || !strings.Contains(page, "vicino alla tua sede") || !strings.Contains(page, `value="Monza (MB)"`) {
		t.Fatal("the catalogue does not start from the employee's site")
	}
	if !strings.Contains(page, "Assistenza agli anziani a Monza") || strings.Contains(page, "Nuoto al lago di Lecco") {
		t.Fatal("near the site (Monza), want Monza's service and not Lecco's, 35 km away")
	}
	// The search form sends the site's town back as typed: the same place.
	if _, again := b.Get("/catalogo?q=&vicino=" + url.QueryEscape("Monza (MB)")); !strings.Contains(again, "Assistenza agli anziani a Monza") || strings.Contains(again, "vicino alla tua sede") {
		t.Fatal("searching near \"Monza (MB)\" did not find Monza")
	}
	if _, anywhere := b.Get("/catalogo?vicino="); !strings.Contains(anywhere, "Nuoto al lago di Lecco") || strings.Contains(anywhere, `id="search-place"`) {
		t.Fatal("an emptied place does not search anywhere")
	}

	_, home := b.Get("/home")
	monza, lecco := strings.Index(home, "Assistenza agli anziani a Monza"), strings.Index(home, "Nuoto al lago di Lecco")
	if !strings.Contains(home, "Vicino alla tua sede, Monza (MB)") || monza < 0 || lecco < 0 || monza > lecco {
		t.Fatal("the home page does not show the services nearest the site first")
	}
	if strings.Contains(home, `id="pick-site"`) {
		t.Fatal("the home page asks for a site already picked")
	}
}

// The company admin's home shows the company's figures from the services
// behind them: budget, allocated credits, employees and how many of them
// activated their account.
func TestCompanyAdminHomeShowsTheFigures(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	for range 3 {
		k.User(hr.Org, auth.RoleEmployee)
	}
	b := k.Browser(a.URL(), hr)
	if res, _ := b.PostForm("/users/invite", url.Values{"email": {"nuovo.arrivato@example.com"}, "name": {"Nuovo Arrivato"}, "role": {"employee"}}); res.StatusCode != 303 {
		t.Fatalf("invite: %d", res.StatusCode)
	}
	if _, err := a.Identity.SaveSite(t.Context(), hr.Principal(), uuid.Nil, identity.SiteInput{Name: "Sede unica", PlaceCode: "097042"}); err != nil {
		t.Fatal(err)
	}
	_, page := b.Get("/home")
	for _, want := range []string{
		`id="figure-budget"><a href="/budget">€ 0,00</a>`,
		`id="figure-allocated"><a href="/azienda/piani">€ 0,00</a>`,
		`id="figure-employees"><a href="/users">4</a>`,
		`id="figure-participation">75%`, "3 su 4 hanno attivato l&#39;account", "in 1 sede",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the company's home lacks %s", want)
		}
	}
	emp := k.User(hr.Org, auth.RoleEmployee)
	if _, page := k.Browser(a.URL(), emp).Get("/home"); strings.Contains(page, `id="company-overview"`) {
		t.Error("an employee sees the company's figures")
	}
}
