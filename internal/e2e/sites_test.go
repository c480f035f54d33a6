package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// HR records the company's site (an unknown town first: marked, what was
// typed kept),
// sees the company's figures on its home page; an employee picks the
// site on her profile, and her home page and the catalogue then start
// from it, nearest first. Every page passes axe at 390 and 1280 px.
func TestSitesJourney(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	admin := catalogtest.Admin(t, a.DB)
	staff := catalogtest.Provider(t, a.DB, a.Catalog, admin, "Cura Merate", "097048", true)
	catalogtest.Offering(t, a.Catalog, staff, "Assistenza domiciliare a Merate", "elder_care", "097048", 1800)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	emp := k.User(hr.Org, auth.RoleEmployee)
	ctx := Browser(t, 120*time.Second)
	base := a.URL()

	var figures, sites string
	err := chromedp.Run(ctx,
		signInAs(k, base, hr),
		chromedp.Navigate(base+"/home"),
		chromedp.WaitVisible("#company-overview", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#company-overview", &figures, chromedp.ByID),
		chromedp.Navigate(base+"/azienda/sedi"),
		chromedp.WaitVisible("#sites", chromedp.ByID),
		checkA11y(t),
		chromedp.SendKeys("#name", "Uffici di Merate", chromedp.ByID),
		chromedp.SendKeys("#town", "Qzxwvk", chromedp.ByID),
		chromedp.Click("#save-site", chromedp.ByID),
		chromedp.WaitVisible("#site-errors", chromedp.ByID),
		checkA11y(t),
		chromedp.SetValue("#address", "Via Roma 5", chromedp.ByID),
		chromedp.SetValue("#town", "Merate", chromedp.ByID),
		chromedp.Click("#save-site", chromedp.ByID),
		chromedp.WaitVisible("table#sites", chromedp.ByQuery),
		checkA11y(t),
		chromedp.Text("#sites", &sites, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(figures, "Partecipazione") || !strings.Contains(sites, "Merate (LC)") {
		t.Fatalf("figures %q; sites %q", figures, sites)
	}

	var near, place string
	err = chromedp.Run(ctx,
		signInAs(k, base, emp),
		chromedp.Navigate(base+"/home"),
		chromedp.WaitVisible("#pick-site", chromedp.ByID),
		checkA11y(t),
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible("#site-form", chromedp.ByID),
		checkA11y(t),
		chromedp.Evaluate(`(() => { const s = document.querySelector("#site_id");
			s.value = [...s.options].find(o => o.text.startsWith("Uffici di Merate")).value; })()`, nil),
		chromedp.Click("#site-form button", chromedp.ByQuery),
		chromedp.WaitVisible("#site-saved", chromedp.ByID), // the page after the save, not the one left
		checkA11y(t),
		chromedp.Navigate(base+"/home"),
		chromedp.WaitVisible("#home-near", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#near-h", &near, chromedp.ByID),
		chromedp.Navigate(base+"/catalogo"),
		chromedp.WaitVisible("#search-place", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#search-place", &place, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if near != "Vicino alla tua sede, Merate (LC)" || !strings.Contains(place, "vicino alla tua sede") {
		t.Fatalf("home %q, catalogue %q: want both to start from the site", near, place)
	}
}
