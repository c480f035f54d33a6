package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// An HR admin tops up the budget by card in the browser: the form sends
// them to Stripe's page (stripe-mock gives the session), the top-up's page
// waits, and once the signed webhook arrives it resolves by itself; the
// budget page then shows the money. The pages are looked at on a phone and
// a laptop, in Italian and English.
func TestCardTopUpInTheBrowser(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	ctx := Browser(t, 120*time.Second)
	base := a.URL()

	var amountError string
	err := chromedp.Run(ctx,
		signInAs(k, base, hr),
		chromedp.Navigate(base+"/budget"),
		chromedp.WaitVisible("#topup-form", chromedp.ByID),
		checkA11y(t),
		chromedp.SendKeys("#amount", "12,345", chromedp.ByID),
		chromedp.Click("#topup-submit", chromedp.ByID),
		chromedp.WaitVisible("#amount-error", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#amount-error", &amountError, chromedp.ByID),
		chromedp.Clear("#amount", chromedp.ByID),
		chromedp.SendKeys("#amount", "750,00", chromedp.ByID),
		chromedp.Click("#channel-card", chromedp.ByID),
		chromedp.Click("#topup-submit", chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(amountError, "due decimali") {
		t.Errorf("three decimals: %q", amountError)
	}
	// The browser is on its way to Stripe's page (not reachable here).
	var id, checkout string
	deadline := time.Now().Add(20 * time.Second)
	for checkout == "" && time.Now().Before(deadline) {
		_ = a.DB.QueryRow(`SELECT id::text, coalesce(checkout_url, '') FROM funding_topups WHERE company_id = $1`, hr.Org.ID).Scan(&id, &checkout)
		time.Sleep(100 * time.Millisecond)
	}
	if id == "" || !strings.HasPrefix(checkout, "https://") {
		t.Fatalf("no top-up with a Checkout Session: %q %q", id, checkout)
	}

	// Back from Stripe: the page waits, then resolves by itself.
	var waiting, status string
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/budget/ricariche/"+id),
		chromedp.WaitVisible("#topup-waiting", chromedp.ByID),
		chromedp.Text("#topup-status", &waiting, chromedp.ByID),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	deliverPaid(t, base, a.Config.StripeWebhookSecret, id, 750_00)
	err = chromedp.Run(ctx,
		chromedp.WaitVisible("#topup-receipt", chromedp.ByID), // after the page's own refresh
		chromedp.Text("#topup-status", &status, chromedp.ByID),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(waiting, "In attesa del pagamento") || !strings.Contains(status, "Pagata e accreditata") {
		t.Errorf("the top-up page read %q, then %q", waiting, status)
	}

	for _, lang := range []string{"it", "en"} {
		for _, p := range []struct{ name, path, ready string }{
			{"budget", "/budget", "#budget-available"}, {"topup", "/budget/ricariche/" + id, "#topup-receipt"}} {
			for _, width := range []int64{390, 1280} {
				var text string
				err := chromedp.Run(ctx,
					setLang(base, lang),
					chromedp.EmulateViewport(width, 900),
					chromedp.Navigate(base+p.path),
					chromedp.WaitVisible(p.ready, chromedp.ByQuery),
					chromedp.Text("main", &text, chromedp.ByQuery),
					noSidewaysScroll(t, p.name+" "+lang, width),
					screenshot(t, "funding-"+p.name+"-"+lang+"-"+strconv.FormatInt(width, 10)),
					checkA11y(t),
				)
				if err != nil {
					t.Fatalf("%s %s at %d px: %v", p.name, lang, width, err)
				}
				want := map[string]string{"it": "€ 750,00", "en": "€750.00"}[lang]
				if !strings.Contains(text, want) {
					t.Errorf("%s in %s does not show %s:\n%s", p.name, lang, want, text)
				}
				if lang == "it" {
					for _, w := range []string{"Top up", "Available", "Paid", "receipt"} {
						if strings.Contains(text, w) {
							t.Errorf("%s in Italian at %d px shows English %q", p.name, width, w)
						}
					}
				}
			}
		}
	}
}

// deliverPaid sends the checkout.session.completed event Stripe would
// send for top-up id, signed with the app's webhook secret.
func deliverPaid(t *testing.T, base, secret, id string, amount int64) {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"id": "evt_e2e_" + id[:8], "object": "event", "type": "checkout.session.completed",
		"created": time.Now().Unix(), "livemode": false, "api_version": "2023-10-16",
		"data": map[string]any{"object": map[string]any{"id": "cs_e2e", "object": "checkout.session", "client_reference_id": id,
			"payment_status": "paid", "amount_total": amount, "currency": "eur", "payment_intent": "pi_e2e_" + id[:8]}}})
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/stripe", bytes.NewReader(sp.Payload))
	req.Header.Set("Stripe-Signature", sp.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("webhook answered %d", res.StatusCode)
	}
}
