package funding_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The budget page in Italian: a bad amount is refused next to its field;
// a card top-up goes to Stripe; a bank top-up shows the IBAN and the RF
// reference; the platform admin records the transfer on the desk, and the
// company sees it credited.
func TestBudgetPages(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	web := k.Browser(a.URL(), hr)
	res, body := web.Get("/budget")
	if res.StatusCode != 200 || !strings.Contains(body, "Budget welfare") || !strings.Contains(body, `id="budget-available">€ 0,00`) {
		t.Fatalf("budget page: %d\n%s", res.StatusCode, body)
	}
	for _, amount := range []string{"10,005", "abc", "0", "-5", "999.999,00"} {
		res, body = web.PostForm("/budget/ricariche", url.Values{"amount": {amount}, "channel": {"card"}, "form_key": {amount}})
		if res.StatusCode != 422 || !strings.Contains(body, `id="amount-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("amount %q: %d", amount, res.StatusCode)
		}
	}
	res, _ = web.PostForm("/budget/ricariche", url.Values{"amount": {"500,00"}, "channel": {"card"}, "form_key": {"k1"}})
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "https://") {
		t.Fatalf("card top-up: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = web.PostForm("/budget/ricariche", url.Values{"amount": {"1.500,00"}, "channel": {"bank"}, "form_key": {"k2"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.HasPrefix(loc, "/budget/ricariche/") {
		t.Fatalf("bank top-up: %d %s", res.StatusCode, loc)
	}
	res, body = web.Get(loc)
	if res.StatusCode != 200 || !strings.Contains(body, "IT60X0542811101000000123456") || !strings.Contains(body, `id="bank-reference">RF`) {
		t.Fatalf("bank top-up page: %d\n%s", res.StatusCode, body)
	}
	i := strings.Index(body, `id="bank-reference">`) + len(`id="bank-reference">`)
	ref := body[i : i+20]

	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	desk := k.Browser(a.URL(), admin)
	if res, body := desk.Get("/admin/ricariche"); res.StatusCode != 200 || !strings.Contains(body, ref) {
		t.Fatalf("desk: %d (reference %s listed?)", res.StatusCode, ref)
	}
	today := time.Now().Format(time.DateOnly)
	res, body = desk.PostForm("/admin/ricariche/bonifici", url.Values{"reference": {ref}, "amount": {"1.000,00"}, "cro": {"CRO-WEB-1"}, "value_date": {"2001-01-01"}})
	if res.StatusCode != 422 || !strings.Contains(body, `id="value_date-error"`) {
		t.Fatalf("old value date: %d", res.StatusCode)
	}
	res, _ = desk.PostForm("/admin/ricariche/bonifici", url.Values{"reference": {ref}, "amount": {"1.000,00"}, "cro": {"CRO-WEB-1"}, "value_date": {today}})
	if res.StatusCode != 303 {
		t.Fatalf("record: %d", res.StatusCode)
	}
	res, body = desk.PostForm("/admin/ricariche/bonifici", url.Values{"reference": {ref}, "amount": {"2,00"}, "cro": {"cro-web-1"}, "value_date": {today}})
	if res.StatusCode != 422 || !strings.Contains(body, `id="cro-error"`) {
		t.Fatalf("same CRO: %d", res.StatusCode)
	}
	_, body = web.Get(loc)
	if !strings.Contains(body, "€ 1.000,00") || !strings.Contains(body, "Mancano") || !strings.Contains(body, "€ 500,00") || !strings.Contains(body, `id="topup-receipt"`) {
		t.Fatalf("the company's page after the transfer:\n%s", body)
	}
	if res, body := web.Get("/budget"); !strings.Contains(body, `id="budget-available">€ 1.000,00`) {
		t.Fatalf("budget after the transfer: %d", res.StatusCode)
	}
	if res, _ := web.Get(loc + "/ricevuta"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("receipt: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	other := k.Browser(a.URL(), k.As(auth.OrgCompany, auth.RoleCompanyAdmin))
	if res, _ := other.Get(loc); res.StatusCode != 404 {
		t.Fatalf("another company's top-up page: %d", res.StatusCode)
	}
}
