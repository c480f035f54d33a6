package fund_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/fund/fundtest"
)

// A fund manager creates an envelope and earmarks into it from the web; a
// refusal shows what the pool holds, in Italian, next to the form.
func TestEnvelopesPage(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	fundtest.Inflow(t, x.a.DB, x.fund.ID, x.companyA.ID, fund.SourceRedemption, 100000)
	web := x.k.Browser(x.a.URL(), x.manager)
	res, body := post(t, web, "/fondo/buste/training", url.Values{"yearly_cap": {"2.000,00"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Busta salvata") {
		t.Fatalf("creating an envelope: %d %s", res.StatusCode, body)
	}
	res, body = post(t, web, "/fondo/buste/training/accantona", url.Values{"amount": {"1500"}, "form_key": {"a"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "sono disponibili € 1.000,00") {
		t.Fatalf("earmarking more than the pool: %d %s", res.StatusCode, body)
	}
	res, body = post(t, web, "/fondo/buste/training/accantona", url.Values{"amount": {"400,50"}, "form_key": {"b"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "€ 400,50") || !strings.Contains(body, "€ 599,50") {
		t.Fatalf("earmarking: %d %s", res.StatusCode, body)
	}
	// An approver sees the envelopes but not the forms; a company admin not at all.
	_, body = x.k.Browser(x.a.URL(), x.approver).Get("/fondo/buste")
	if !strings.Contains(body, "envelope-training") || strings.Contains(body, "earmark-training") {
		t.Fatalf("approver's envelopes page: %s", body)
	}
	if res, _ := x.k.Browser(x.a.URL(), x.hr).Get("/fondo/buste"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("company admin reached the envelopes: %d", res.StatusCode)
	}
}

// A company admin gives from the web; the donation is listed.
func TestDonationPage(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.envelope(t, fund.ThemeEmergencies, 1000, 0)
	fundtest.Budget(t, x.a.DB, x.companyA.ID, 10000)
	web := x.k.Browser(x.a.URL(), x.hr)
	res, body := web.Get("/azienda/fondo")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Fondo di prova") {
		t.Fatalf("donation page: %d %s", res.StatusCode, body)
	}
	res, body = post(t, web, "/azienda/fondo", url.Values{"fund": {x.fund.ID.String()}, "amount": {"abc"}, "form_key": {"x"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "donate-amount-error") {
		t.Fatalf("bad amount: %d %s", res.StatusCode, body)
	}
	// a form with no fund and a bad amount names both at once
	res, body = post(t, web, "/azienda/fondo", url.Values{"fund": {""}, "amount": {"abc"}, "form_key": {"z"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="donate-amount-error"`) || !strings.Contains(body, `id="donate-fund-error"`) ||
		!strings.Contains(body, "Scegli un fondo.") || !strings.Contains(body, `value="abc"`) ||
		!strings.Contains(body, `aria-describedby="donate-fund-error" autofocus`) || strings.Contains(body, `aria-describedby="donate-amount-error" autofocus`) {
		t.Fatalf("no fund, bad amount: %d %s", res.StatusCode, body)
	}
	res, body = post(t, web, "/azienda/fondo", url.Values{"fund": {x.fund.ID.String()}, "amount": {"75"}, "form_key": {"y"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "la donazione è arrivata") || !strings.Contains(body, "€ 75,00") {
		t.Fatalf("donating: %d %s", res.StatusCode, body)
	}
	if got := balance(t, x, "company:"+x.companyA.ID.String()+":budget"); got != 2500 {
		t.Fatalf("budget after giving 75 of 100 euro: %d", got)
	}
	// two million euro is an amount, beyond the budget: the page says how much there is
	res, body = post(t, web, "/azienda/fondo", url.Values{"fund": {x.fund.ID.String()}, "amount": {"2.000.000"}, "form_key": {"w"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "€ 25,00") || strings.Contains(body, "maggiore di zero") {
		t.Fatalf("two million euro: %d %s", res.StatusCode, body)
	}
}
