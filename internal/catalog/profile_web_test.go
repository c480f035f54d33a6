package catalog_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// profileFields is a valid provider profile form for VAT number vat.
func profileFields(vat string) map[string]string {
	return map[string]string{"legal_name": "Coop Sociale La Tela", "legal_form": "social_cooperative",
		"vat_number": vat, "fiscal_code": vat, "town": "Lecco", "description": "Laboratori per bambini",
		"phone": "0341 000000"}
}

// setLang makes b read pages in language l.
func setLang(b *identitytest.Browser, base, l string) {
	u, _ := url.Parse(base)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: l, Path: "/"}})
}

// An approved provider that changes its description, contacts or logo
// stays visible; one that changes its legal details is told beforehand,
// goes back to the platform admin's queue (its offering disappears from
// the catalogue, the previous review is kept), and is visible again once
// re-approved.
func TestLegalDetailsChangeNeedsApprovalAgain(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	b := k.Browser(a.URL(), staff)
	admin := k.Browser(a.URL(), k.As(auth.OrgPlatform, auth.RolePlatformAdmin))
	public := k.Browser(a.URL(), nil)
	form := profileFields(catalogtest.VAT(4242))
	if st, _, _ := postFile(t, b, a.URL(), "/erogatore/profilo", form, "logo", nil); st != http.StatusSeeOther {
		t.Fatalf("first profile: %d", st)
	}
	if _, page := b.Get("/erogatore/profilo"); strings.Contains(page, `id="legal-warning"`) {
		t.Fatal("a profile never reviewed warns about re-approval")
	}
	offer := map[string]string{"title": "Laboratorio di cucito", "category": "courses", "price": "20,00", "unit": "session",
		"town": "Lecco", "status": "active"}
	if st, _ := postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", offer, nil); st != http.StatusSeeOther {
		t.Fatalf("offering: %d", st)
	}
	var providerID, offeringID string
	if err := a.DB.QueryRow(`SELECT provider_id, id FROM offerings`).Scan(&providerID, &offeringID); err != nil {
		t.Fatal(err)
	}
	approve := func() {
		t.Helper()
		res, _ := admin.PostForm("/admin/erogatori/"+providerID, url.Values{"decision": {"approve"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("approving: %d", res.StatusCode)
		}
	}
	visible := func() bool {
		t.Helper()
		res, _ := public.Get("/catalogo/" + offeringID)
		_, found := public.Get("/catalogo?q=cucito")
		if (res.StatusCode == http.StatusOK) != strings.Contains(found, "Laboratorio di cucito") {
			t.Fatalf("offering page %d but search disagrees", res.StatusCode)
		}
		return res.StatusCode == http.StatusOK
	}
	approve()
	if !visible() {
		t.Fatal("approved provider's offering not visible")
	}

	// Before saving: the form and the dashboard say what needs re-approval.
	if _, page := b.Get("/erogatore/profilo"); !strings.Contains(page, "il profilo torna in approvazione e i tuoi servizi non saranno visibili") {
		t.Fatal("profile form of an approved provider does not warn about legal details")
	}
	if _, page := b.Get("/erogatore"); !strings.Contains(page, `id="legal-hint"`) {
		t.Fatal("dashboard of an approved provider does not warn about legal details")
	}
	setLang(b, a.URL(), "en")
	if _, page := b.Get("/erogatore/profilo"); !strings.Contains(page, "your profile goes back for approval") {
		t.Fatal("English profile form does not warn about legal details")
	}
	setLang(b, a.URL(), "it")

	// Description, contacts and logo: still approved, still visible.
	form["description"], form["phone"], form["email"] = "Laboratori di sartoria", "0341 111111", "ciao@latela.example"
	st, _, _ := postFile(t, b, a.URL(), "/erogatore/profilo", form, "logo", pngBytes(t, 120, 120))
	if st != http.StatusSeeOther || status(t, a, providerID) != "approved" || !visible() {
		t.Fatalf("contact/logo edit: %d, status %s, visible %v", st, status(t, a, providerID), visible())
	}

	// Legal name: back in the queue, hidden, told so in both languages.
	form["legal_name"] = "Coop Sociale La Tela Nuova"
	to := saveProfile(t, b, a.URL(), form)
	if to != "/erogatore?salvato=revisione" {
		t.Fatalf("legal change redirected to %q", to)
	}
	if got := status(t, a, providerID); got != "pending" {
		t.Fatalf("status after a legal change: %s", got)
	}
	if visible() {
		t.Fatal("offering still visible after its provider's legal details changed")
	}
	if _, page := b.Get(to); !strings.Contains(page, "il profilo è tornato in approvazione") || !strings.Contains(page, `id="requeued"`) {
		t.Fatal("dashboard after a legal change does not say the profile is back in review")
	}
	setLang(b, a.URL(), "en")
	if _, page := b.Get(to); !strings.Contains(page, "the profile is back in the approval queue") {
		t.Fatal("English dashboard after a legal change does not say so")
	}
	if _, page := admin.Get("/admin/erogatori"); !strings.Contains(page, "Coop Sociale La Tela Nuova") ||
		!strings.Contains(page, "Dati legali modificati dopo la revisione il") || !strings.Contains(page, "revisione precedente del") {
		t.Fatal("admin queue does not show the re-submitted provider with its previous review")
	}
	var reviewed bool
	if err := a.DB.Get(&reviewed, `SELECT reviewed_at IS NOT NULL FROM providers`); err != nil || !reviewed {
		t.Fatalf("previous review forgotten: %v %v", reviewed, err)
	}

	// Saving again while pending (same legal details) keeps it pending;
	// re-approval makes the offering visible and clears the re-review mark.
	form["description"] = "Sartoria sociale"
	if st := saveProfile(t, b, a.URL(), form); st != "/erogatore?salvato=1" || status(t, a, providerID) != "pending" {
		t.Fatalf("edit while pending: %q %s", st, status(t, a, providerID))
	}
	approve()
	if !visible() || status(t, a, providerID) != "approved" {
		t.Fatal("re-approved provider's offering not visible")
	}
	if _, page := b.Get("/erogatore"); strings.Contains(page, `id="requeued"`) {
		t.Fatal("dashboard still says 'back in review' after re-approval")
	}

	// Each legal field on its own sends it back.
	for field, value := range map[string]string{"legal_form": "business", "vat_number": catalogtest.VAT(4343),
		"fiscal_code": catalogtest.VAT(4444)} {
		form[field] = value
		if st := saveProfile(t, b, a.URL(), form); st != "/erogatore?salvato=revisione" || status(t, a, providerID) != "pending" {
			t.Fatalf("changing %s: %q %s", field, st, status(t, a, providerID))
		}
		approve()
	}
}

// saveProfile submits the profile form and returns where it sent the
// browser ("" when it did not redirect).
func saveProfile(t *testing.T, b *identitytest.Browser, base string, fields map[string]string) string {
	t.Helper()
	_, to, _ := postFile(t, b, base, "/erogatore/profilo", fields, "logo", nil)
	return to
}

func status(t *testing.T, a *app.App, providerID string) string {
	t.Helper()
	var s string
	if err := a.DB.Get(&s, `SELECT status FROM providers WHERE organisation_id = $1`, providerID); err != nil {
		t.Fatal(err)
	}
	return s
}

// A provider uploads its logo with the profile form: a file that is not an
// image or is too large is refused in Italian and changes nothing; a good
// one shows on the form and, once approved, next to the provider's name
// on its offering pages, served with cache headers.
func TestProviderLogoOnTheWeb(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	b := k.Browser(a.URL(), k.As(auth.OrgProvider, auth.RoleProviderStaff))
	form := profileFields(catalogtest.VAT(5151))
	st, _, body := postFile(t, b, a.URL(), "/erogatore/profilo", form, "logo", []byte("%PDF-1.7 not a logo"))
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "Il logo non va bene") {
		t.Fatalf("non-image logo: %d", st)
	}
	if n := count(t, a.DB, `SELECT count(*) FROM providers`) + count(t, a.DB, `SELECT count(*) FROM catalog_photos`); n != 0 {
		t.Fatalf("a refused logo saved %d rows", n)
	}
	if st, _, _ := postFile(t, b, a.URL(), "/erogatore/profilo", form, "logo", pngBytes(t, 400, 300)); st != http.StatusSeeOther {
		t.Fatalf("good logo: %d", st)
	}
	var logo string
	if err := a.DB.Get(&logo, `SELECT logo_photo_id::text FROM providers`); err != nil {
		t.Fatal(err)
	}
	if _, page := b.Get("/erogatore/profilo"); !strings.Contains(page, `src="/media/photos/`+logo+`"`) {
		t.Fatal("the profile form does not show the current logo")
	}
	res, _ := b.Get("/media/photos/" + logo)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("logo served: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	huge := append(pngBytes(t, 10, 10), make([]byte, 5<<20)...)
	st, _, body = postFile(t, b, a.URL(), "/erogatore/profilo", form, "logo", huge)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "Il logo non va bene") {
		t.Fatalf("oversized logo: %d", st)
	}
	var after string
	if err := a.DB.Get(&after, `SELECT logo_photo_id::text FROM providers`); err != nil || after != logo || count(t, a.DB, `SELECT count(*) FROM catalog_photos`) != 1 {
		t.Fatalf("a refused logo changed the logo: %s → %s (%v)", logo, after, err)
	}

	offer := map[string]string{"title": "Orto condiviso", "category": "culture", "price": "5,00", "unit": "session",
		"town": "Lecco", "status": "active"}
	if st, _ := postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", offer, nil); st != http.StatusSeeOther {
		t.Fatalf("offering: %d", st)
	}
	var providerID, offeringID string
	if err := a.DB.QueryRow(`SELECT provider_id, id FROM offerings`).Scan(&providerID, &offeringID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.ReviewProvider(t.Context(), catalogtest.Admin(t, a.DB), uuid.MustParse(providerID), true, ""); err != nil {
		t.Fatal(err)
	}
	_, page := k.Browser(a.URL(), nil).Get("/catalogo/" + offeringID)
	if !strings.Contains(page, `id="provider-logo"`) || !strings.Contains(page, `src="/media/photos/`+logo+`"`) {
		t.Fatal("the offering page does not show the provider's logo")
	}
	if status(t, a, providerID) != "approved" {
		t.Fatal("uploading a logo changed the approval")
	}
}

// Offerings without a photo show their category's illustration, in the
// list and on their page, and name the category once; the inclusion
// label reads as words (it once printed a pointer).
func TestPhotoPlaceholders(t *testing.T) {
	a := apptest.Start(t)
	admin := catalogtest.Admin(t, a.DB)
	staff := catalogtest.Provider(t, a.DB, a.Catalog, admin, "Anni d'Argento", lecco, true)
	id := catalogtest.Offering(t, a.Catalog, staff, "Compagnia a domicilio", "elder_care", lecco, 1800)
	until := time.Now().AddDate(0, 6, 0)
	if err := catalog.ImportLabel(ctx, a.DB, staff.OrgID, catalog.LabelInput{Evidence: catalog.EvidenceCoopB, AlboNumber: "A100200"}, &until); err != nil {
		t.Fatal(err)
	}
	b := identitytest.New(t, a.DB, a.Identity).Browser(a.URL(), nil)
	art := `<img src="/static/cat/elder_care.svg?v=`
	badge := `<p class="badge label-badge"`
	for _, path := range []string{"/catalogo?q=compagnia", "/catalogo/" + id.String()} {
		_, page := b.Get(path)
		if !strings.Contains(page, "Compagnia a domicilio") || !strings.Contains(page, art) {
			t.Errorf("%s: an offering without a photo has no category illustration", path)
		}
		if n := strings.Count(page[strings.Index(page, "Compagnia a domicilio"):], "Assistenza anziani"); n != 1 {
			t.Errorf("%s: the category is named %d times on the offering, want once", path, n)
		}
		if !strings.Contains(page, badge) || !strings.Contains(page, "Dà lavoro a persone dei percorsi di inclusione</p>") {
			t.Errorf("%s: the inclusion label is not shown in words", path)
		}
	}
}
