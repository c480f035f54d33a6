package redemption_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// An employee books, the provider validates on the slot's day: the wallet
// pays the full price, the split goes to provider, fund and fee, and the
// voucher validates once, only for its own provider.
func TestBookAndValidate(t *testing.T) {
	f := newFixture(t)
	emp := f.employee(100_00, nil)
	wallet := redemption.WalletPath(emp.UserID)

	v, err := f.svc.Book(f.ctx, emp, redemption.BookInput{OfferingID: f.offering, Quantity: 2, SlotID: &f.slot}, "k1")
	f.ok(err)
	if v.Status != redemption.Booked || v.AmountCents != 50_00 || v.Category != "sport" || v.TaxBucket != "art51_c2_f" ||
		v.StartsAt == nil || !v.StartsAt.Equal(f.slotAt) {
		t.Fatalf("voucher = %+v", v)
	}
	if _, err := redemption.ParseCode(v.Code); err != nil {
		t.Fatalf("issued code %q does not check: %v", v.Code, err)
	}
	if got := f.available(wallet); got != 50_00 {
		t.Fatalf("wallet available after booking = %d, want 50_00", got)
	}
	// The same key again answers the same voucher and holds nothing more.
	again, err := f.svc.Book(f.ctx, emp, redemption.BookInput{OfferingID: f.offering, Quantity: 2, SlotID: &f.slot}, "k1")
	f.ok(err)
	if again.ID != v.ID || f.available(wallet) != 50_00 {
		t.Fatalf("retry booked again: %v vs %v, wallet %d", again.ID, v.ID, f.available(wallet))
	}
	// A later price change does not touch the voucher.
	_, err = f.db.Exec(`UPDATE offerings SET price_cents = 9900 WHERE id = $1`, f.offering)
	f.ok(err)

	// Mails: the employee's confirmation with the code, the provider's notice.
	var subjects []string
	f.ok(f.db.Select(&subjects, `SELECT subject FROM mail_outbox ORDER BY created_at, subject`))
	if len(subjects) != 2 || !strings.Contains(strings.Join(subjects, "|"), "Prenotazione confermata") ||
		!strings.Contains(strings.Join(subjects, "|"), "Nuova prenotazione") {
		t.Fatalf("mails = %q", subjects)
	}

	// Too early: the day before the slot.
	f.setClock(f.slotAt.Add(-24 * time.Hour))
	ae := wantCode(t, validate(f, v.Code), apperr.Conflict)
	if ae.Fields["reason"] != "too_early" {
		t.Fatalf("too early = %v", ae)
	}
	f.onSlotDay()
	// A mistyped code is refused before any lookup; another provider's is not found.
	typo := []byte(v.Code)
	typo[2] = map[bool]byte{true: 'A', false: 'B'}[typo[2] != 'A']
	wantCode(t, validate(f, string(typo)), apperr.Invalid)
	other := catalogtest.Provider(t, f.db, f.cat, f.admin, "Altro Erogatore", lecco, true)
	_, err = f.svc.Validate(f.ctx, other, v.Code)
	wantCode(t, err, apperr.NotFound)

	fundBefore := f.available(f.pool())
	got, err := f.svc.Validate(f.ctx, f.staff, strings.ToLower(redemption.FormatCode(v.Code)))
	f.ok(err)
	if got.Status != redemption.Validated || *got.ProviderCents != 42_50 || *got.FundCents != 5_00 || *got.FeeCents != 2_50 ||
		got.AmountCents != 50_00 || *got.PolicyVersion != 1 {
		t.Fatalf("validated = %+v", got)
	}
	if f.available(wallet) != 50_00 || f.available(redemption.PayablePath(f.staff.OrgID)) != 42_50 ||
		f.available(f.pool())-fundBefore != 5_00 {
		t.Fatal("balances after validation are wrong")
	}
	ae = wantCode(t, validate(f, v.Code), apperr.Conflict)
	if ae.Fields["reason"] != "already_validated" || ae.Fields["validated_at"] == nil || !strings.Contains(ae.Message, "validated on") {
		t.Fatalf("second validation = %v", ae)
	}
	f.verifyLedger()
}

func validate(f *fixture, code string) error {
	_, err := f.svc.Validate(f.ctx, f.staff, code)
	return err
}

// Credits that are short, or in lots that do not allow the category, are
// refused with what is available for it, and nothing is held.
func TestBookRefusals(t *testing.T) {
	f := newFixture(t)
	emp := f.employee(20_00, nil, "sport")
	f.fund(emp, 50_00, nil, "childcare")
	wallet := redemption.WalletPath(emp.UserID)

	_, err := f.book(emp, f.offering, 1, &f.slot)
	ae := wantCode(t, err, apperr.InsufficientFunds)
	if ae.Fields["available"] != int64(20_00) || ae.Fields["required"] != int64(25_00) || ae.Fields["category"] != "sport" {
		t.Fatalf("insufficient = %v", ae.Fields)
	}
	if f.available(wallet) != 70_00 {
		t.Fatalf("wallet after a refused booking = %d", f.available(wallet))
	}
	var n int
	f.ok(f.db.Get(&n, `SELECT count(*) FROM vouchers`))
	if n != 0 {
		t.Fatalf("%d vouchers after a refusal", n)
	}
	// Without any wallet.
	_, err = f.book(catalogtest.Employee(t, f.db), f.offering, 1, &f.slot)
	if ae := wantCode(t, err, apperr.InsufficientFunds); ae.Fields["available"] != int64(0) {
		t.Fatalf("no wallet = %v", ae.Fields)
	}
	rich := f.employee(500_00, nil)
	for _, c := range []struct {
		name string
		qty  int
		slot bool
		code apperr.Code
	}{{"no quantity", 0, true, apperr.Invalid}, {"too many", 101, true, apperr.Invalid}, {"no slot", 1, false, apperr.Invalid}} {
		var err error
		if c.slot {
			_, err = f.book(rich, f.offering, c.qty, &f.slot)
		} else {
			_, err = f.book(rich, f.offering, c.qty, nil)
		}
		if apperr.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// Only employees book.
	_, err = f.book(f.staff, f.offering, 1, &f.slot)
	wantCode(t, err, apperr.Forbidden)
	// A full slot is a conflict.
	for range 3 {
		f.mustBook(f.employee(25_00, nil))
	}
	_, err = f.book(rich, f.offering, 1, &f.slot)
	if ae := wantCode(t, err, apperr.Conflict); ae.Fields["reason"] != "slot_full" {
		t.Fatalf("full slot = %v", ae)
	}
	if f.available(redemption.WalletPath(rich.UserID)) != 500_00 {
		t.Fatal("a refused booking held credits")
	}
}

// The booking's lot consumption records the category and the tax bucket
// the voucher was booked under.
func TestBookingRecordsTaxBucket(t *testing.T) {
	f := newFixture(t)
	v := f.mustBook(f.employee(25_00, nil))
	moves, err := ledger.LotMoves(f.ctx, f.db, v.HoldID)
	f.ok(err)
	if len(moves) == 0 || moves[0].Category != "sport" || moves[0].TaxBucket != "art51_c2_f" {
		t.Fatalf("lot moves of the booking: %+v", moves)
	}
}
