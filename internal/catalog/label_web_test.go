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

// approvedProvider gives u's organisation an approved profile and an
// active offering, and returns the offering's id.
func approvedProvider(t *testing.T, a *app.App, u, admin *identitytest.User, name string, n int) uuid.UUID {
	t.Helper()
	vat := catalogtest.VAT(9000 + n)
	if _, err := a.Catalog.SaveProfile(ctx, u.Principal(), u.Org.ID, catalog.ProfileInput{LegalName: name,
		LegalForm: catalog.FormSocialCooperative, VATNumber: vat, FiscalCode: vat, PlaceCode: lecco}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.ReviewProvider(ctx, admin.Principal(), u.Org.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	return catalogtest.Offering(t, a.Catalog, u.Principal(), "Stireria a domicilio "+name, "laundry", lecco, 1200)
}

// Through the API and the web pages: a provider cannot give itself the
// label (no field on offerings, no access to decisions), another provider
// can neither see nor decide its request, a rejection without a note
// shows the queue again with the message next to the field, and once an
// admin approves, the label shows on the public offering.
func TestLabelOverHTTP(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	other := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	offering := approvedProvider(t, a, staff, admin, "Cooperativa Sociale Il Filo", 1)
	approvedProvider(t, a, other, admin, "Cooperativa Sociale Altra", 2)
	tok, otherTok, adminTok := k.Token(staff), k.Token(other), k.Token(admin)
	prov := "/providers/" + staff.Org.ID.String()

	// No self-granting through the offering.
	offer := map[string]any{"title": "Commissioni", "category": "concierge", "price_cents": 1500, "unit": "hour",
		"place_code": lecco, "inclusion_label": "fund_programme"}
	st, body := apiCall(t, a, "POST", prov+"/offerings", tok, offer)
	want(t, "an offering claiming the label", st, body, 400)
	b := k.Browser(a.URL(), staff)
	form := map[string]string{"title": "Commissioni", "category": "concierge", "price": "15,00", "unit": "hour",
		"town": "Lecco", "status": "active", "inclusion_label": "fund_programme"}
	if st, page := postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", form, nil); st != http.StatusSeeOther {
		t.Fatalf("offering form: %d %s", st, page)
	}
	if _, page := b.Get("/erogatore/offerte/nuova"); strings.Contains(page, `name="inclusion_label"`) {
		t.Fatal("the offering form still offers a label")
	}

	// The request, and who may touch it.
	st, body = apiCall(t, a, "POST", prov+"/inclusion-label", tok, map[string]any{"evidence": "social_cooperative_b", "albo_number": "A654321"})
	want(t, "requesting the label", st, body, 201)
	id := body["id"].(string)
	if body["status"] != "pending" {
		t.Fatalf("request: %v", body)
	}
	decide := "/inclusion-label-requests/" + id + "/decision"
	approveBody := map[string]any{"decision": "approve", "valid_until": time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}
	st, _ = apiCall(t, a, "POST", decide, tok, approveBody)
	want(t, "a provider approving its own label", st, nil, 403)
	st, _ = apiCall(t, a, "GET", "/inclusion-label-requests", tok, nil)
	want(t, "a provider reading the queue", st, nil, 403)
	st, _ = apiCall(t, a, "GET", prov+"/inclusion-label", otherTok, nil)
	want(t, "another provider reading the request", st, nil, 404)
	st, _ = apiCall(t, a, "POST", decide, otherTok, approveBody)
	want(t, "another provider approving", st, nil, 403)
	if res, _ := b.PostForm("/admin/etichette/"+id, url.Values{"decision": {"approve"}, "valid_until": {approveBody["valid_until"].(string)}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a provider approving through the web: %d", res.StatusCode)
	}
	st, body = apiCall(t, a, "GET", "/offerings/"+offering.String(), "", nil)
	if st != 200 || body["provider"].(map[string]any)["inclusion_label"] != nil {
		t.Fatalf("a pending label shows: %v", body["provider"])
	}
	st, body = apiCall(t, a, "GET", "/inclusion-label-requests?status=pending", adminTok, nil)
	if st != 200 || len(body["list"].([]any)) != 1 {
		t.Fatalf("the admin's queue: %d %v", st, body)
	}

	// A rejection needs a note: the API names the field, the web shows the
	// queue again with the message next to it.
	st, body = apiCall(t, a, "POST", decide, adminTok, map[string]any{"decision": "reject"})
	want(t, "rejecting without a note", st, body, 400)
	if body["details"].(map[string]any)["field"] != "note" {
		t.Fatalf("rejecting without a note: %v", body)
	}
	ab := k.Browser(a.URL(), admin)
	res, page := ab.PostForm("/admin/etichette/"+id, url.Values{"decision": {"reject"}, "note": {" "}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="note-`+id+`-error"`) ||
		!strings.Contains(page, "Scrivi il motivo del rifiuto") || !strings.Contains(page, `id="label-`+id+`"`) {
		t.Fatalf("web rejection without a note: %d\n%s", res.StatusCode, page)
	}

	// Approved: the label shows on the public page and in the API.
	res, _ = ab.PostForm("/admin/etichette/"+id, url.Values{"decision": {"approve"}, "valid_until": {approveBody["valid_until"].(string)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approving: %d", res.StatusCode)
	}
	public := k.Browser(a.URL(), nil)
	if _, page := public.Get("/catalogo/" + offering.String()); !strings.Contains(page, `id="inclusion-label"`) ||
		!strings.Contains(page, "Cooperativa sociale di tipo B iscritta all&#39;Albo") {
		t.Fatal("the approved label is not on the public offering page")
	}
	if _, page := public.Get("/catalogo?q=stireria&inclusione=1"); !strings.Contains(page, "Il Filo") || strings.Contains(page, "Altra") {
		t.Fatal("the label filter of the search page")
	}
	_, body = apiCall(t, a, "GET", "/offerings/"+offering.String(), "", nil)
	if l, _ := body["provider"].(map[string]any)["inclusion_label"].(map[string]any); l["evidence"] != "social_cooperative_b" {
		t.Fatalf("API offering label: %v", body["provider"])
	}
	if _, page := b.Get("/erogatore/etichetta"); !strings.Contains(page, `id="label-current"`) {
		t.Fatal("the provider's page does not show the active label")
	}
	st, body = apiCall(t, a, "GET", "/audit-log", adminTok, nil)
	found := false
	for _, e := range body["list"].([]any) {
		found = found || e.(map[string]any)["event"] == catalog.EventLabelApproved
	}
	if st != 200 || !found {
		t.Fatalf("the approval is not in the audit log: %v", body)
	}
}

// The provider's request form refuses in the person's language, next to
// the field, and says never to send names, in Italian on the Italian page
// and in English on the English one.
func TestLabelFormWeb(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	approvedProvider(t, a, staff, admin, "Cooperativa Sociale Il Filo", 3)
	b := k.Browser(a.URL(), staff)
	if _, page := b.Get("/erogatore/etichetta"); !strings.Contains(page, "Non indicare mai nomi") || strings.Contains(page, "Never give names") {
		t.Fatal("the Italian form does not warn about names, in Italian only")
	}
	res, page := b.PostForm("/erogatore/etichetta", url.Values{"evidence": {"self_declaration"}, "inclusion_hires": {"2"}, "total_staff": {"10"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="declaration-error"`) ||
		!strings.Contains(page, "Conferma la dichiarazione") || !strings.Contains(page, `value="2"`) {
		t.Fatalf("a self-declaration without the declaration: %d", res.StatusCode)
	}
	res, _ = b.PostForm("/erogatore/etichetta", url.Values{"evidence": {"self_declaration"}, "inclusion_hires": {"2"},
		"total_staff": {"10"}, "declaration": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a good self-declaration: %d", res.StatusCode)
	}
	if _, page := b.Get("/erogatore/etichetta?inviata=1"); !strings.Contains(page, `id="label-pending"`) {
		t.Fatal("the pending request is not shown")
	}
	setLang(b, a.URL(), "en")
	if _, page := b.Get("/erogatore/etichetta"); !strings.Contains(page, "Never give names") || strings.Contains(page, "Non indicare") {
		t.Fatal("the English form does not warn about names, in English only")
	}
}
