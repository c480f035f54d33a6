package catalog_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// "Configura i pagamenti" while Stripe is down: the provider reads that
// the payment service does not answer and to try again later (in Italian,
// or English), the API answers 503 unavailable, never a 500; nothing is
// half-done, and once Stripe is back the same request links an account.
func TestStripeOnboardingWhileStripeIsDown(t *testing.T) {
	dbURL := dbtest.New(t)
	cfg := apptest.Config(dbURL)
	cfg.StripeAPIBase = "http://127.0.0.1:1" // nobody listens there
	a := apptest.StartWith(t, cfg)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	tok := k.Token(staff)
	prov := "/providers/" + staff.Org.ID.String()
	if st, body := apiCall(t, a, "PUT", prov, tok, profileBody(catalogtest.VAT(777))); st != 200 {
		t.Fatalf("profile: %d %v", st, body)
	}

	st, body := apiCall(t, a, "POST", prov+"/stripe-onboarding", tok, nil)
	if st != http.StatusServiceUnavailable || body["code"] != "unavailable" || !strings.Contains(body["message"].(string), "try again later") {
		t.Fatalf("API while Stripe is down: %d %v", st, body)
	}
	b := k.Browser(a.URL(), staff)
	res, page := b.PostForm("/erogatore/stripe", url.Values{})
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "riprova più tardi") {
		t.Fatalf("web page while Stripe is down: %d, no \"riprova più tardi\"", res.StatusCode)
	}
	u, _ := url.Parse(a.URL())
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	res, page = b.PostForm("/erogatore/stripe", url.Values{})
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "try again later") {
		t.Fatalf("English page while Stripe is down: %d, no \"try again later\"", res.StatusCode)
	}
	var linked *string
	if err := a.DB.Get(&linked, `SELECT stripe_account_id FROM providers WHERE organisation_id = $1`, staff.Org.ID); err != nil || linked != nil {
		t.Fatalf("an account was recorded while Stripe was down: %v %v", linked, err)
	}

	// Stripe is back (another app server, same database): the same click works.
	back := apptest.StartWith(t, apptest.Config(dbURL))
	st, body = apiCall(t, back, "POST", prov+"/stripe-onboarding", identitytest.New(t, back.DB, back.Identity).Token(staff), nil)
	if st != 200 || !strings.HasPrefix(body["account_id"].(string), "acct_") {
		t.Fatalf("onboarding once Stripe is back: %d %v", st, body)
	}
}
