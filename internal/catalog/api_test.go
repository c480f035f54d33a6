package catalog_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// apiCall sends a request to the API and decodes the JSON answer.
func apiCall(t *testing.T, a *app.App, method, path, token string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	return apptest.Call(t, a, method, path, token, body, headers...)
}

func want(t *testing.T, what string, status int, body map[string]any, wantStatus int) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status %d %v, want %d", what, status, body, wantStatus)
	}
}

func profileBody(vat string) map[string]any {
	return map[string]any{"legal_name": "Cooperativa Sociale Il Ponte", "legal_form": "social_cooperative",
		"vat_number": vat, "fiscal_code": vat, "address": "Via Cavour 12", "place_code": lecco,
		"email": "info@ilponte.example", "description": "Servizi educativi e di cura a Lecco."}
}

// A provider registers through the API, lists an offering that stays
// invisible until a platform admin approves them; other providers and
// employees can neither read nor change it; bad input changes nothing.
func TestProviderJourneyAPI(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	other := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	employee := k.As(auth.OrgCompany, auth.RoleEmployee)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	tok, otherTok, empTok, adminTok := k.Token(staff), k.Token(other), k.Token(employee), k.Token(admin)
	prov := "/providers/" + staff.Org.ID.String()

	st, body := apiCall(t, a, "PUT", prov, tok, profileBody("12345678901"))
	want(t, "invalid VAT", st, body, 400)
	if d, _ := body["details"].(map[string]any); body["code"] != "invalid" || d["field"] != "vat_number" {
		t.Fatalf("invalid VAT answer: %v", body)
	}
	st, body = apiCall(t, a, "GET", prov, tok, nil)
	want(t, "profile after a refused save", st, body, 404)

	vat := catalogtest.VAT(777)
	st, body = apiCall(t, a, "PUT", prov, tok, profileBody(vat))
	want(t, "save profile", st, body, 200)
	if body["status"] != "pending" {
		t.Fatalf("new provider status %v", body["status"])
	}
	st, _ = apiCall(t, a, "PUT", prov, otherTok, profileBody(catalogtest.VAT(778)))
	want(t, "another provider saving my profile", st, nil, 404)
	st, _ = apiCall(t, a, "PUT", prov, empTok, profileBody(catalogtest.VAT(779)))
	want(t, "an employee saving a profile", st, nil, 403)

	offer := map[string]any{"title": "Babysitter a domicilio", "description": "Educatrici qualificate, anche la sera.",
		"category": "childcare", "price_cents": 1400, "unit": "hour", "place_code": lecco}
	neg := map[string]any{}
	for k, v := range offer {
		neg[k] = v
	}
	neg["price_cents"] = -100
	st, body = apiCall(t, a, "POST", prov+"/offerings", tok, neg)
	want(t, "negative price", st, body, 400)
	if body["details"].(map[string]any)["field"] != "price_cents" {
		t.Fatalf("negative price answer: %v", body)
	}
	st, body = apiCall(t, a, "POST", prov+"/offerings", tok, offer, "Idempotency-Key", "offer-1")
	want(t, "create offering", st, body, 201)
	id := body["id"].(string)
	st, body = apiCall(t, a, "POST", prov+"/offerings", tok, offer, "Idempotency-Key", "offer-1")
	if st != 201 || body["id"] != id {
		t.Fatalf("retried create: %d %v, want the same offering %s", st, body["id"], id)
	}
	// A retry from a client in another time zone is the same request.
	course := map[string]any{"title": "Corso serale", "category": "childcare", "price_cents": 5000, "unit": "course",
		"place_code": lecco, "availability": "slots", "slots": []map[string]any{
			{"starts_at": "2030-12-01T18:00:00+01:00", "ends_at": "2030-12-01T19:30:00+01:00", "capacity": 8}}}
	st, body = apiCall(t, a, "POST", prov+"/offerings", tok, course, "Idempotency-Key", "course-1")
	want(t, "create a course", st, body, 201)
	courseID := body["id"]
	course["slots"] = []map[string]any{{"starts_at": "2030-12-01T17:00:00Z", "ends_at": "2030-12-01T18:30:00.000Z", "capacity": 8.0}}
	st, body = apiCall(t, a, "POST", prov+"/offerings", tok, course, "Idempotency-Key", "course-1")
	if st != 201 || body["id"] != courseID {
		t.Fatalf("retry with the slot in UTC: %d %v, want the course %v", st, body["id"], courseID)
	}
	// Paused, so that the searches below see the first offering alone.
	st, body = apiCall(t, a, "PUT", "/offerings/"+courseID.(string)+"/status", tok, map[string]any{"status": "paused"})
	want(t, "pause the course", st, body, 200)
	st, body = apiCall(t, a, "GET", prov+"/offerings", tok, nil)
	if st != 200 || len(body["list"].([]any)) != 2 {
		t.Fatalf("own offerings: %d %v", st, body)
	}
	st, _ = apiCall(t, a, "POST", prov+"/offerings", empTok, offer)
	want(t, "employee creating an offering", st, nil, 403)
	st, _ = apiCall(t, a, "PUT", "/offerings/"+id, otherTok, offer)
	want(t, "another provider updating my offering", st, nil, 404)
	st, _ = apiCall(t, a, "GET", prov+"/offerings", otherTok, nil)
	want(t, "another provider listing my offerings", st, nil, 404)
	st, _ = apiCall(t, a, "PUT", "/offerings/"+id+"/status", "", map[string]any{"status": "paused"})
	want(t, "anonymous pausing", st, nil, 401)

	// Not visible before approval.
	st, body = apiCall(t, a, "GET", "/offerings?q=baby+sitter", "", nil)
	if st != 200 || len(body["items"].([]any)) != 0 {
		t.Fatalf("search before approval: %d %v", st, body)
	}
	st, _ = apiCall(t, a, "GET", "/offerings/"+id, "", nil)
	want(t, "offering page before approval", st, nil, 404)
	st, _ = apiCall(t, a, "POST", prov+"/review", tok, map[string]any{"decision": "approve"})
	want(t, "provider approving itself", st, nil, 403)
	st, body = apiCall(t, a, "GET", "/providers?status=pending", adminTok, nil)
	if st != 200 || len(body["list"].([]any)) != 1 {
		t.Fatalf("approval queue: %d %v", st, body)
	}
	st, body = apiCall(t, a, "POST", prov+"/review", adminTok, map[string]any{"decision": "approve"})
	want(t, "approve", st, body, 200)

	// Visible now, near Lecco, as a public search.
	st, body = apiCall(t, a, "GET", "/offerings?q=baby+sitter&near=45.8559,9.3970&radius_km=10&category=childcare", "", nil)
	want(t, "search", st, body, 200)
	items := body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != id || items[0].(map[string]any)["distance_km"].(float64) > 1 {
		t.Fatalf("search after approval: %v", items)
	}
	st, body = apiCall(t, a, "GET", "/offerings/"+id, "", nil)
	if st != 200 || body["tax_bucket"] != "art51_c2_f_bis" || !strings.Contains(body["map_url"].(string), "openstreetmap") {
		t.Fatalf("offering page: %d %v", st, body)
	}
	// The API searches as the web does: an order that cannot apply falls
	// back to the default, and a point without a radius keeps to the default one.
	st, body = apiCall(t, a, "GET", "/offerings?q=baby+sitter&sort=distance", "", nil)
	if st != 200 || len(body["items"].([]any)) != 1 {
		t.Fatalf("by distance without a point: %d %v", st, body)
	}
	st, body = apiCall(t, a, "GET", "/offerings?q=baby+sitter&near=45.4642,9.1900", "", nil)
	if st != 200 || len(body["items"].([]any)) != 0 {
		t.Fatalf("near Milano (45 km away) without a radius: %d %v", st, body)
	}
	if km, _ := body["nearest_km"].(float64); km < 40 || km > 50 {
		t.Fatalf("near Milano: nearest_km %v, want the Lecco offering about 45 km away", body["nearest_km"])
	}
	for _, bad := range []string{"near=45.8", "near=91,9", "min_price=-1", "radius_km=500&near=45,9", "category=gioielli"} {
		st, body = apiCall(t, a, "GET", "/offerings?"+bad, "", nil)
		if st != 400 || body["code"] != "invalid" {
			t.Errorf("search %s: %d %v, want 400 invalid", bad, st, body)
		}
	}

	// Photos: a non-image and an oversized file are refused; a PNG is resized and cached.
	st, body = apiCall(t, a, "PUT", "/offerings/"+id+"/photo", tok, []byte("GIF89a? no: plain text, not an image at all"))
	want(t, "non-image upload", st, body, 400)
	big := append(pngBytes(t, 10, 10), make([]byte, 6<<20)...)
	st, body = apiCall(t, a, "PUT", "/offerings/"+id+"/photo", tok, big)
	want(t, "oversized upload", st, body, 400)
	_, body = apiCall(t, a, "GET", "/offerings/"+id, "", nil)
	if body["photo_url"] != nil {
		t.Fatalf("refused uploads set a photo: %v", body["photo_url"])
	}
	st, body = apiCall(t, a, "PUT", "/offerings/"+id+"/photo", tok, pngBytes(t, 1600, 900))
	want(t, "photo upload", st, body, 200)
	if body["width"].(float64) != 1200 || body["height"].(float64) != 675 {
		t.Fatalf("photo not resized: %v", body)
	}
	res, err := http.Get(a.URL() + body["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age=31536000") || res.Header.Get("ETag") == "" {
		t.Fatalf("photo served with %d %v", res.StatusCode, res.Header)
	}

	st, body = apiCall(t, a, "PUT", prov+"/logo", tok, pngBytes(t, 200, 200))
	want(t, "logo upload", st, body, 200)
	st, _ = apiCall(t, a, "PUT", prov+"/logo", otherTok, pngBytes(t, 200, 200))
	want(t, "another provider's logo", st, nil, 404)
	if _, p := apiCall(t, a, "GET", prov, tok, nil); p["logo_url"] != body["url"] {
		t.Fatalf("logo_url %v, want %v", p["logo_url"], body["url"])
	}

	// A new legal name through the API: back to pending, hidden until re-approved;
	// a new description alone keeps it approved.
	changed := profileBody(vat)
	changed["description"] = "Servizi educativi, anche il sabato."
	st, body = apiCall(t, a, "PUT", prov, tok, changed)
	if st != 200 || body["status"] != "approved" {
		t.Fatalf("description edit: %d %v", st, body["status"])
	}
	changed["legal_name"] = "Cooperativa Sociale Il Ponte Nuovo"
	st, body = apiCall(t, a, "PUT", prov, tok, changed)
	if st != 200 || body["status"] != "pending" {
		t.Fatalf("legal name edit: %d %v", st, body["status"])
	}
	st, _ = apiCall(t, a, "GET", "/offerings/"+id, "", nil)
	want(t, "offering page while the provider is back in review", st, nil, 404)
	st, body = apiCall(t, a, "POST", prov+"/review", adminTok, map[string]any{"decision": "approve"})
	want(t, "re-approve", st, body, 200)
	st, _ = apiCall(t, a, "GET", "/offerings/"+id, "", nil)
	want(t, "offering page after re-approval", st, nil, 200)

	// Paused: gone from search and from its public page.
	st, _ = apiCall(t, a, "PUT", "/offerings/"+id+"/status", tok, map[string]any{"status": "paused"})
	want(t, "pause", st, nil, 200)
	st, body = apiCall(t, a, "GET", "/offerings?q=babysitter", "", nil)
	if st != 200 || len(body["items"].([]any)) != 0 {
		t.Fatalf("paused offering found: %v", body)
	}
}

// signedEvent is an account.updated delivery of a connected account,
// signed as Stripe would; created is when Stripe made the event.
func signedEvent(t *testing.T, secret, id, account string, payouts bool, created time.Time) ([]byte, string) {
	t.Helper()
	payload := []byte(fmt.Sprintf(`{"id":%q,"object":"event","type":"account.updated","account":%q,"created":%d,"api_version":"2023-10-16",
		"livemode":false,"data":{"object":{"id":%q,"object":"account","details_submitted":true,"charges_enabled":%t,"payouts_enabled":%t}}}`,
		id, account, created.Unix(), account, payouts, payouts))
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: created})
	return sp.Payload, sp.Header
}

func postWebhook(t *testing.T, a *app.App, payload []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", a.URL()+"/webhooks/stripe/connect", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// waitHandled waits until the app's worker has handled the stored event.
func waitHandled(t *testing.T, a *app.App, id string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var outcome *string
		if err := a.DB.Get(&outcome, `SELECT outcome FROM stripe_events WHERE id = $1`, id); err == nil && outcome != nil {
			if *outcome != "handled" {
				t.Fatalf("event %s: %s", id, *outcome)
			}
			return
		}
	}
	t.Fatalf("event %s not handled after 10 s", id)
}

// A provider starts Stripe onboarding (Express account on stripe-mock);
// account.updated webhooks with a valid signature update its status, while
// bad, stale or out-of-order deliveries change nothing.
func TestStripeConnect(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	tok := k.Token(staff)
	prov := "/providers/" + staff.Org.ID.String()
	if st, body := apiCall(t, a, "PUT", prov, tok, profileBody(catalogtest.VAT(4242))); st != 200 {
		t.Fatalf("profile: %d %v", st, body)
	}
	st, body := apiCall(t, a, "POST", prov+"/stripe-onboarding", tok, nil)
	want(t, "onboarding", st, body, 200)
	acct, _ := body["account_id"].(string)
	if !strings.HasPrefix(acct, "acct_") || !strings.HasPrefix(body["url"].(string), "https://") {
		t.Fatalf("onboarding answer: %v", body)
	}
	// Asking again reuses the account.
	_, again := apiCall(t, a, "POST", prov+"/stripe-onboarding", tok, nil)
	if again["account_id"] != acct {
		t.Fatalf("second onboarding made account %v, want %s", again["account_id"], acct)
	}
	stripeOf := func() map[string]any {
		_, p := apiCall(t, a, "GET", prov, tok, nil)
		return p["stripe"].(map[string]any)
	}
	if s := stripeOf(); s["ready"] != false || s["account_id"] != acct {
		t.Fatalf("status before any event: %v", s)
	}

	secret := a.Config.StripeConnectWebhookSecret
	now := time.Now()
	payload, _ := signedEvent(t, secret, "evt_new", acct, true, now)
	for name, sig := range map[string]string{"the platform endpoint's secret": a.Config.StripeWebhookSecret, "someone else's": "whsec_someone_else"} {
		_, wrongSig := signedEvent(t, sig, "evt_new", acct, true, now)
		if st := postWebhook(t, a, payload, wrongSig); st != 400 {
			t.Fatalf("signed with %s secret: answered %d", name, st)
		}
	}
	stale, staleSig := signedEvent(t, secret, "evt_stale", acct, true, now.Add(-10*time.Minute))
	if st := postWebhook(t, a, stale, staleSig); st != 400 {
		t.Fatalf("stale signature answered %d", st)
	}
	tampered := bytes.Replace(payload, []byte(`"payouts_enabled":true`), []byte(`"payouts_enabled":false`), 1)
	_, sig := signedEvent(t, secret, "evt_new", acct, true, now)
	if st := postWebhook(t, a, tampered, sig); st != 400 {
		t.Fatalf("tampered payload answered %d", st)
	}
	var stored int
	if a.DB.Get(&stored, `SELECT count(*) FROM stripe_events`); stored != 0 {
		t.Fatalf("refused deliveries stored %d events", stored)
	}
	if s := stripeOf(); s["payouts_enabled"] != false || s["details_submitted"] != false {
		t.Fatalf("refused events changed the status: %v", s)
	}

	payload, sig = signedEvent(t, secret, "evt_new", acct, true, now)
	if st := postWebhook(t, a, payload, sig); st != 200 {
		t.Fatalf("valid event answered %d", st)
	}
	waitHandled(t, a, "evt_new")
	if s := stripeOf(); s["payouts_enabled"] != true || s["details_submitted"] != true || s["ready"] != true {
		t.Fatalf("valid event did not update the status: %v", s)
	}
	// An older event delivered late does not undo a newer one.
	old, oldSig := signedEvent(t, secret, "evt_old", acct, false, now.Add(-2*time.Minute))
	if st := postWebhook(t, a, old, oldSig); st != 200 {
		t.Fatalf("late event answered %d", st)
	}
	waitHandled(t, a, "evt_old")
	if s := stripeOf(); s["payouts_enabled"] != true {
		t.Fatalf("a late, older event overwrote the status: %v", s)
	}
	// Within one second neither event is the later: a flag once set stays set.
	same, sameSig := signedEvent(t, secret, "evt_same_second", acct, false, now)
	postWebhook(t, a, same, sameSig)
	waitHandled(t, a, "evt_same_second")
	if s := stripeOf(); s["payouts_enabled"] != true {
		t.Fatalf("an event of the same second took a flag back: %v", s)
	}
	newer, newerSig := signedEvent(t, secret, "evt_newer", acct, false, now.Add(2*time.Second))
	postWebhook(t, a, newer, newerSig)
	waitHandled(t, a, "evt_newer")
	if s := stripeOf(); s["payouts_enabled"] != false || s["ready"] != false {
		t.Fatalf("a newer event that disables payouts was not applied: %v", s)
	}
}
