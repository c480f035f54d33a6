package redemption_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/plans"
	"github.com/reciproca/reciproca/internal/redemption"
)

// meter is p's fringe meter (what the platform counted) this year.
func (f *fixture) meter(p *auth.Principal) int64 {
	f.t.Helper()
	r, err := plans.Room(f.ctx, f.db, p.UserID, f.clock().Year())
	f.ok(err)
	return r.Platform
}

// A fringe-type booking moves the employee's meter at issue; one that
// would cross the €1,000 ceiling is refused with the room left and holds
// nothing; cancellation (twice), expiry and refunds (part, then the rest)
// bring it back down, each exactly once.
func TestFringeMeter(t *testing.T) {
	f := newFixture(t)
	laundry, slot := f.slotOffering(f.staff, "Lavanderia a domicilio", "laundry", 100_00, f.slotAt, 20)
	emp := f.employee(3000_00, nil)
	wallet := redemption.WalletPath(emp.UserID)
	book := func(qty int) (redemption.Voucher, error) { return f.book(emp, laundry, qty, &slot) }

	big, err := book(8)
	f.ok(err)
	if f.meter(emp) != 800_00 {
		t.Fatalf("meter after an €800 booking = %d", f.meter(emp))
	}
	// A non-fringe service does not count.
	f.mustBook(emp)
	if f.meter(emp) != 800_00 {
		t.Fatalf("a sport booking moved the meter to %d", f.meter(emp))
	}
	before := f.available(wallet)
	_, err = book(3)
	ae := wantCode(t, err, apperr.Conflict)
	if ae.Fields["reason"] != "fringe_ceiling" || ae.Fields["remaining_cents"] != int64(200_00) {
		t.Fatalf("crossing the ceiling = %v %v", ae, ae.Fields)
	}
	if f.available(wallet) != before || f.meter(emp) != 800_00 {
		t.Fatal("a refused booking held credits or moved the meter")
	}

	// Two bookings at once for the last €200 of room, €100 each and €200:
	// whatever the order, the meter never passes the ceiling.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = book(1 + i%2)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("concurrent booking: %v", err)
		}
	}
	if f.meter(emp) != 1000_00 {
		t.Fatalf("meter after the race = %d, want exactly the ceiling", f.meter(emp))
	}
	if got := 3000_00 - 25_00 - f.available(wallet); got != 1000_00 {
		t.Fatalf("held on the wallet for laundry = %d, want what the meter counted", got)
	}

	// Cancelling gives the room back, once.
	_, err = f.svc.Cancel(f.ctx, emp, big.ID, "")
	f.ok(err)
	_, err = f.svc.Cancel(f.ctx, emp, big.ID, "")
	wantCode(t, err, apperr.Conflict)
	if f.meter(emp) != 200_00 {
		t.Fatalf("meter after cancelling €800 (twice) = %d", f.meter(emp))
	}

	// Expiry gives it back too (the race's €200 expires with it).
	toExpire, err := book(2)
	f.ok(err)
	used, err := book(3)
	f.ok(err)
	f.onSlotDay()
	_, err = f.svc.Validate(f.ctx, f.staff, used.Code)
	f.ok(err)
	if f.meter(emp) != 700_00 {
		t.Fatalf("meter with €700 booked = %d", f.meter(emp))
	}
	f.setClock(toExpire.ValidateUntil.Add(time.Minute))
	_, err = f.svc.ExpireVouchers(f.ctx, 100)
	f.ok(err)
	if f.meter(emp) != 300_00 {
		t.Fatalf("meter after €400 of vouchers expired = %d", f.meter(emp))
	}

	// A partial refund takes off what came back, the rest the remainder.
	f.setClock(f.slotAt)
	_, err = f.svc.Refund(f.ctx, f.staff, used.ID, redemption.RefundInput{AmountCents: 33_33, Reason: "Un capo rovinato"}, "r1")
	f.ok(err)
	_, err = f.svc.Refund(f.ctx, f.staff, used.ID, redemption.RefundInput{AmountCents: 33_33, Reason: "Un capo rovinato"}, "r1")
	f.ok(err) // the same key: the same refund
	if f.meter(emp) != 300_00-33_33 {
		t.Fatalf("meter after a €33.33 refund = %d", f.meter(emp))
	}
	_, err = f.svc.Refund(f.ctx, f.staff, used.ID, redemption.RefundInput{AmountCents: 300_00 - 33_33, Reason: "Servizio non reso"}, "r2")
	f.ok(err)
	if f.meter(emp) != 0 {
		t.Fatalf("meter after refunding the rest = %d", f.meter(emp))
	}
	f.verifyLedger()
}

// Over the API and on the booking page, a booking past the ceiling is
// refused with a stable code and the room left, in Italian first.
func TestFringeCeilingRefusal(t *testing.T) {
	w := newAppWorld(t)
	ctx := context.Background()
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	o, err := w.a.Catalog.CreateOffering(ctx, w.staff.Principal(), w.staff.Principal().OrgID, catalog.OfferingInput{Title: "Stireria",
		Description: "Camicie", Category: "concierge", PriceCents: 400_00, Unit: "session", PlaceCode: lecco,
		Availability: catalog.AvailabilitySlots, Slots: []catalog.SlotInput{{StartsAt: at, EndsAt: at.Add(time.Hour), Capacity: 10}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	emp := w.k.As(auth.OrgCompany, auth.RoleEmployee)
	w.fund(t, emp, 2000_00)
	tok := w.k.Token(emp)
	book := map[string]any{"offering_id": o.ID, "quantity": 2, "slot_id": o.Slots[0].ID}
	if st, body := apptest.Call(t, w.a, "POST", "/vouchers", tok, book); st != 201 {
		t.Fatalf("booking €800: %d %v", st, body)
	}
	book["quantity"] = 1
	st, body := apptest.Call(t, w.a, "POST", "/vouchers", tok, book)
	if d, _ := body["details"].(map[string]any); st != 409 || body["code"] != "conflict" || d["reason"] != "fringe_ceiling" ||
		d["remaining_cents"] != 200_00.0 {
		t.Fatalf("booking past the ceiling: %d %v", st, body)
	}
	browser := w.k.Browser(w.a.URL(), emp)
	_, page := browser.Get("/catalogo/" + o.ID.String() + "/prenota")
	if !strings.Contains(excerpt(page, `id="book-fringe"`), "€ 200,00") {
		t.Fatalf("booking page without the fringe room: %s", excerpt(page, "book-available"))
	}
	res, page := browser.PostForm("/catalogo/"+o.ID.String()+"/prenota",
		url.Values{"quantity": {"1"}, "slot_id": {o.Slots[0].ID.String()}, "form_key": {"f-1"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(excerpt(page, `id="book-error"`), "tetto annuo dei fringe benefit") ||
		!strings.Contains(excerpt(page, `id="book-error"`), "€ 200,00") {
		t.Fatalf("booking page past the ceiling: %d %s", res.StatusCode, excerpt(page, `id="book-error"`))
	}
}
