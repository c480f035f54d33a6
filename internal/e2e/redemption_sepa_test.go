package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/redemption"
)

// A provider without Stripe is paid by SEPA transfer: the platform admin
// creates the CBI file on the payouts desk, marks it executed once the
// bank has paid, and the provider's payouts page shows the payout paid.
// Every page (and the treasury page next to the desk) is checked with axe
// on a phone and a laptop.
func TestSEPAPayoutInTheBrowser(t *testing.T) {
	a := apptest.Start(t)
	m := newMarket(t, a, "Associazione La Rondine", catalog.FormAssociation, "0391827364")
	k, staff, admin, emp := m.k, m.staff, m.admin, m.emp
	bg := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	o, err := a.Catalog.CreateOffering(bg, staff.Principal(), staff.Org.ID, catalog.OfferingInput{Title: "Assistenza domiciliare",
		Description: "Una settimana di visite.", Category: "elder_care", PriceCents: 80_00, Unit: "week", PlaceCode: "097042",
		Availability: catalog.AvailabilityOnRequest}, "")
	must(err)
	m.credit(t, a, 80_00)
	v, err := a.Redemption.Book(bg, emp.Principal(), redemption.BookInput{OfferingID: o.ID, Quantity: 1}, "")
	must(err)
	_, err = a.Redemption.Validate(bg, staff.Principal(), v.Code)
	must(err)
	_, err = a.Redemption.SetBankAccount(bg, staff.Principal(), "Associazione La Rondine", "IT60X0542811101000000123456")
	must(err)
	po, err := a.Redemption.RequestPayout(bg, staff.Principal())
	must(err)
	if po.Method != redemption.PayoutSEPA {
		t.Fatalf("a provider without Stripe is paid by %s", po.Method)
	}

	// axe on a phone and on a laptop, ending on the laptop
	bothWidths := func() chromedp.Tasks {
		return chromedp.Tasks{chromedp.EmulateViewport(390, 900), checkA11y(t), chromedp.EmulateViewport(1280, 900), checkA11y(t)}
	}
	ctx := Browser(t, 150*time.Second)
	base := a.URL()
	var waiting, status, paid string
	err = chromedp.Run(ctx,
		signInAs(k, base, admin),
		chromedp.Navigate(base+"/admin/pagamenti-erogatori"),
		chromedp.WaitVisible("#sepa-waiting", chromedp.ByID),
		chromedp.Text("#sepa-waiting", &waiting, chromedp.ByID),
		bothWidths(),
		chromedp.Click("#sepa-export-submit", chromedp.ByID),
		chromedp.WaitVisible("#sepa-executed", chromedp.ByID),
		bothWidths(),
		chromedp.Click("#sepa-executed", chromedp.ByID),
		chromedp.WaitVisible("#sepa-done", chromedp.ByID),
		chromedp.Text("#sepa-batch-status", &status, chromedp.ByID),
		bothWidths(),
		chromedp.Navigate(base+"/admin/tesoreria"), // the treasury page, new with the same desk
		chromedp.WaitVisible("#treasury-form", chromedp.ByID),
		bothWidths(),

		signInAs(k, base, staff),
		chromedp.Navigate(base+"/erogatore/pagamenti"),
		chromedp.WaitVisible("#payout-list", chromedp.ByID),
		chromedp.Text("#payout-list", &paid, chromedp.ByID),
		bothWidths(),
	)
	must(err)
	if !strings.Contains(waiting, "Associazione La Rondine") || !strings.Contains(waiting, "68,00") {
		t.Errorf("the desk's waiting payouts: %q", waiting)
	}
	if !strings.Contains(status, "Eseguito") {
		t.Errorf("the file after it was marked executed: %q", status)
	}
	if !strings.Contains(paid, "Pagato") || !strings.Contains(paid, "Bonifico SEPA") {
		t.Errorf("the provider's payouts: %q", paid)
	}
	var got string
	must(a.DB.Get(&got, `SELECT status FROM provider_payouts WHERE id = $1`, po.ID))
	if got != redemption.PayoutPaid {
		t.Errorf("the payout is %s, want paid", got)
	}
}
