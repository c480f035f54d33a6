package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// An employee books a service from its page and opens the voucher; the
// provider opens the QR code's link on a phone and validates; the
// employee then sees the voucher validated, and the inclusion fund's pool
// grew by the split's share. The new pages are looked at on a phone and a
// laptop, in Italian and English.
func TestBookValidateInTheBrowser(t *testing.T) {
	a := apptest.Start(t)
	m := newMarket(t, a, "Cooperativa Il Faro", catalog.FormSocialCooperative, "0284713017")
	k, staff, emp := m.k, m.staff, m.emp
	bg := context.Background()
	at := catalogtest.SoonToday(10 * time.Minute).Truncate(time.Minute)
	o, err := a.Catalog.CreateOffering(bg, staff.Principal(), staff.Org.ID, catalog.OfferingInput{Title: "Laboratorio di ceramica",
		Description: "Due ore al tornio.", Category: "courses", PriceCents: 18_00, Unit: "session", PlaceCode: "097042",
		Availability: catalog.AvailabilitySlots, Slots: []catalog.SlotInput{{StartsAt: at, EndsAt: at.Add(2 * time.Hour), Capacity: 6}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	m.credit(t, a, 100_00, "courses")
	fundOrg := k.Org(auth.OrgFund, "Fondo Inclusione Lario")
	pool := func() int64 {
		b, err := ledger.GetBalance(bg, a.DB, "fund:"+fundOrg.ID.String()+":pool")
		if err != nil {
			return 0 // not created before the first validation
		}
		return b.Available
	}
	poolBefore := pool()

	ctx := Browser(t, 150*time.Second)
	base := a.URL()
	var code, qr, found, done, status, fund string
	err = chromedp.Run(ctx,
		signInAs(k, base, emp),
		chromedp.EmulateViewport(390, 900),
		chromedp.Navigate(base+"/catalogo/"+o.ID.String()),
		chromedp.WaitVisible("#book-form", chromedp.ByID),
		checkA11y(t),
		chromedp.SetValue("#quantity", "2", chromedp.ByID),
		chromedp.Click("#book-submit", chromedp.ByID),
		chromedp.WaitVisible("#voucher-code", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#voucher-code", &code, chromedp.ByID),
		chromedp.OuterHTML("#voucher-qr svg", &qr, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Redemption.FindForProvider(bg, staff.Principal(), code)
	if err != nil || v.AmountCents != 36_00 || !strings.Contains(qr, "<path") {
		t.Fatalf("the voucher page shows %q (%v, %d cents), QR %.80q", code, err, v.AmountCents, qr)
	}
	err = chromedp.Run(ctx,
		signInAs(k, base, staff),
		chromedp.Navigate(a.Redemption.ValidationURL(v)), // what the QR code carries
		chromedp.WaitVisible("#validate-found", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#validate-found", &found, chromedp.ByID),
		chromedp.Click("#validate-confirm", chromedp.ByID),
		chromedp.WaitVisible("#validate-done", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#validate-done", &done, chromedp.ByID),

		signInAs(k, base, emp),
		chromedp.Navigate(base+"/buoni/"+v.ID.String()),
		chromedp.WaitVisible("#voucher-status", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#voucher-status", &status, chromedp.ByID),
		chromedp.Text("#voucher-fund", &fund, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(found, emp.Name) || !strings.Contains(found, "Laboratorio di ceramica") {
		t.Errorf("before confirming the provider reads %q", found)
	}
	if !strings.Contains(done, "Buono convalidato") || status != "Convalidato" || !strings.Contains(fund, "3,60") {
		t.Errorf("after validation: provider %q, employee %q, fund share %q", done, status, fund)
	}
	if grew := pool() - poolBefore; grew != 3_60 {
		t.Errorf("the fund's pool grew by %d cents, want the split's 3_60", grew)
	}

	// A second booking stays booked, for the pages below.
	second, err := a.Redemption.Book(bg, emp.Principal(), redemption.BookInput{OfferingID: o.ID, Quantity: 1, SlotID: &o.Slots[0].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	pages := []pageCheck{
		{"book", "/catalogo/" + o.ID.String() + "/prenota", "#book-form", emp},
		{"voucher", "/buoni/" + second.ID.String(), "#voucher-qr", emp},
		{"mine", "/buoni", "#voucher-list", emp},
		{"validate", "/erogatore/convalida", "#codice", staff},
		{"day", "/erogatore/prenotazioni", "#bookings", staff},
	}
	lookAtPages(t, ctx, k, base, "redemption", pages, []string{"Book", "Voucher", "Validate", "booking", "Quantity", "Cancel"})
}
