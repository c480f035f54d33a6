package redemption_test

import (
	"context"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/redemption"
)

// The wallet's movements count each euro once: a used booking shows as
// the service used (not also as its booking), a cancelled one as charging
// nothing, a pending one as credit set aside. The home page says what is
// left to spend and what the bookings set aside; an offering's page what
// the credits can pay there.
func TestWalletShowsEachBookingOnce(t *testing.T) {
	w := newAppWorld(t) // 40 euro; the offering costs 12,50
	ctx := context.Background()
	book := func() redemption.Voucher {
		t.Helper()
		v, err := w.a.Redemption.Book(ctx, w.emp.Principal(), redemption.BookInput{OfferingID: w.offering, Quantity: 1, SlotID: &w.slot}, "")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	web := w.k.Browser(w.a.URL(), w.emp)
	// The offering's page says what the credits can pay there, before booking.
	if _, page := web.Get("/catalogo/" + w.offering.String()); !strings.Contains(between(page, `id="book-available">`, "</p>"), "40,00") {
		t.Errorf("the offering page's credits: %s", excerpt(page, "book-available"))
	}
	used, cancelled, _ := book(), book(), book()
	if _, err := w.a.Redemption.Validate(ctx, w.staff.Principal(), used.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.Redemption.Cancel(ctx, w.staff.Principal(), cancelled.ID, "chiuso per maltempo"); err != nil {
		t.Fatal(err)
	}
	_, home := web.Get("/home")
	if got, held := between(home, `id="figure-available">`, "</dd>"), between(home, `id="figure-held">`, "</dd>"); !strings.Contains(got, "15,00") ||
		!strings.Contains(held, "12,50") {
		t.Errorf("the home page's figures: to spend %q, set aside %q", got, held)
	}
	_, page := web.Get("/portafoglio")
	table := between(page, `id="wallet-movements"`, "</table>")
	for _, c := range []struct {
		text string
		n    int
	}{{"Servizio usato", 1}, {"Prenotazione annullata, nessun addebito", 1}, {"Prenotazione, credito riservato", 1}, {"12,50", 3}} {
		if got := strings.Count(table, c.text); got != c.n {
			t.Errorf("%q appears %d times among the movements, want %d:\n%s", c.text, got, c.n, table)
		}
	}
	if !strings.Contains(page, "15,00") { // 40 less the used and the pending booking
		t.Errorf("the available balance is not 15,00: %s", excerpt(page, "Disponibile"))
	}
}
