package redemption_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// The employee cancels before the cut-off: credits and lots come back and
// the place is free; after the cut-off they cannot, and the provider may
// record a no-show, charged like a use with a note.
func TestCancelAndNoShow(t *testing.T) {
	f := newFixture(t)
	exp := time.Now().Add(90 * 24 * time.Hour)
	emp := f.employee(30_00, &exp, "sport")
	wallet := redemption.WalletPath(emp.UserID)
	v := f.mustBook(emp)
	c, err := f.svc.Cancel(f.ctx, emp, v.ID, "")
	f.ok(err)
	if c.Status != redemption.Cancelled || f.available(wallet) != 30_00 {
		t.Fatalf("cancelled = %s, wallet %d", c.Status, f.available(wallet))
	}
	lots, err := ledger.Lots(f.ctx, f.db, wallet)
	f.ok(err)
	if len(lots) != 1 || lots[0].Remaining != 30_00 || !lots[0].ExpiresAt.Equal(exp.Round(time.Microsecond)) {
		t.Fatalf("lots after cancel = %+v", lots)
	}
	_, err = f.svc.Cancel(f.ctx, emp, v.ID, "")
	wantCode(t, err, apperr.Conflict)
	_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
	wantCode(t, err, apperr.Conflict)

	// Three places again (the cancelled one was released).
	for range 3 {
		f.mustBook(f.employee(25_00, nil))
	}
	// Cut-off: 24 h before the slot.
	f.setClock(f.slotAt.Add(-23 * time.Hour))
	var late redemption.Voucher
	f.ok(f.db.Get(&late.ID, `SELECT id FROM vouchers WHERE status = 'booked' LIMIT 1`))
	var owner uuid.UUID
	f.ok(f.db.Get(&owner, `SELECT employee_id FROM vouchers WHERE id = $1`, late.ID))
	_, err = f.svc.Cancel(f.ctx, emp, late.ID, "")
	wantCode(t, err, apperr.NotFound) // another employee's voucher
	// No-show: needs a note, and is charged like a use.
	_, err = f.svc.NoShow(f.ctx, f.staff, late.ID, " ")
	wantCode(t, err, apperr.Invalid)
	f.onSlotDay()
	ns, err := f.svc.NoShow(f.ctx, f.staff, late.ID, "Non si è presentato")
	f.ok(err)
	if ns.Status != redemption.NoShow || ns.Note != "Non si è presentato" || *ns.FundCents != 2_50 {
		t.Fatalf("no-show = %+v", ns)
	}
	f.verifyLedger()
}

// The provider cancels a booking or a whole slot: every employee gets the
// credits back and a mail.
func TestProviderCancels(t *testing.T) {
	f := newFixture(t)
	a, b := f.employee(25_00, nil), f.employee(25_00, nil)
	va, vb := f.mustBook(a), f.mustBook(b)
	_, err := f.svc.Cancel(f.ctx, f.staff, va.ID, "")
	wantCode(t, err, apperr.Invalid) // a provider says why
	got, err := f.svc.Cancel(f.ctx, f.staff, va.ID, "Istruttore malato")
	f.ok(err)
	if got.Status != redemption.Cancelled || f.available(redemption.WalletPath(a.UserID)) != 25_00 {
		t.Fatalf("provider cancel = %+v", got)
	}
	c := f.employee(25_00, nil)
	f.mustBook(c)
	list, err := f.svc.CancelSlot(f.ctx, f.staff, f.slot, "Piscina chiusa")
	f.ok(err)
	if len(list) != 2 || f.available(redemption.WalletPath(b.UserID)) != 25_00 || f.available(redemption.WalletPath(c.UserID)) != 25_00 {
		t.Fatalf("slot cancel = %d vouchers", len(list))
	}
	var mails int
	f.ok(f.db.Get(&mails, `SELECT count(*) FROM mail_outbox WHERE subject LIKE 'Prenotazione annullata dall''erogatore%'`))
	if mails != 3 {
		t.Fatalf("%d cancellation mails, want 3", mails)
	}
	_ = vb
}

// Vouchers nobody validated expire after the grace period: the hold is
// voided and the credits come back; before, they are left alone.
func TestExpiry(t *testing.T) {
	f := newFixture(t)
	emp := f.employee(25_00, nil)
	v := f.mustBook(emp)
	f.setClock(v.ValidateUntil.Add(-time.Minute))
	n, err := f.svc.ExpireVouchers(f.ctx, 10)
	f.ok(err)
	if n != 0 {
		t.Fatalf("expired %d vouchers within the grace period", n)
	}
	if days := v.ValidateUntil.Sub(v.ValidateFrom).Hours() / 24; days < 7.9 || days > 8.1 {
		t.Fatalf("validation window %v days, want the slot's day and 7 more", days)
	}
	f.setClock(v.ValidateUntil)
	_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
	wantCode(t, err, apperr.Conflict)
	n, err = f.svc.ExpireVouchers(f.ctx, 10)
	f.ok(err)
	if n != 1 || f.available(redemption.WalletPath(emp.UserID)) != 25_00 {
		t.Fatalf("expired %d, wallet %d", n, f.available(redemption.WalletPath(emp.UserID)))
	}
	f.verifyLedger()
}

// A booking made before its lot expired is validated after.
func TestHoldOutlivesItsLot(t *testing.T) {
	f := newFixture(t)
	exp := time.Now().Add(2 * time.Second)
	emp := f.employee(25_00, &exp, "sport")
	v := f.mustBook(emp)
	time.Sleep(time.Until(exp) + 200*time.Millisecond)
	// The lot has expired: a new booking cannot use it…
	other, otherSlot := f.slotOffering(f.staff, "Acquagym", "sport", 1_00, f.slotAt, 5)
	_, err := f.book(emp, other, 1, &otherSlot)
	if ae := wantCode(t, err, apperr.InsufficientFunds); ae.Fields["available"] != int64(0) {
		t.Fatalf("booking on an expired lot: %v", ae.Fields)
	}
	// …but the hold placed in time is captured.
	f.onSlotDay()
	got, err := f.svc.Validate(f.ctx, f.staff, v.Code)
	f.ok(err)
	if got.Status != redemption.Validated {
		t.Fatalf("status %s", got.Status)
	}
	f.verifyLedger()
}

// Refunds, full and partial, reverse the split in proportion: after each,
// the provider, fund and fee reversals sum to the refund to the cent, no
// party gives back more than it got, and a full refund reverses it all.
func TestRefundExactness(t *testing.T) {
	f := newFixture(t)
	// a provider who pledges 3% of its part to the fund
	_, err := f.db.Exec(`UPDATE providers SET fund_pledge_bps = 300 WHERE organisation_id = $1`, f.staff.OrgID)
	f.ok(err)
	odd, oddSlot := f.slotOffering(f.staff, "Lezione privata", "sport", 33_33, f.slotAt, 10)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	for round := range 4 {
		emp := f.employee(100_00, nil)
		wallet := redemption.WalletPath(emp.UserID)
		f.setClock(time.Now())
		v, err := f.book(emp, odd, 1, &oddSlot)
		f.ok(err)
		f.onSlotDay()
		v, err = f.svc.Validate(f.ctx, f.staff, v.Code)
		f.ok(err)
		if v.PledgeCents != *v.ProviderCents*300/10000 || v.PledgeCents == 0 {
			t.Fatalf("pledge %d of provider part %d", v.PledgeCents, *v.ProviderCents)
		}
		payable, pool, fees := f.available(redemption.PayablePath(f.staff.OrgID)), f.available(f.pool()),
			f.available(f.svc.Config().Fees)
		var sum redemption.Refund
		left := v.AmountCents
		for step := 0; left > 0; step++ {
			amount := 1 + rng.Int64N(left)
			if round == 0 {
				amount = left // one full refund
			} else if step < 3 && left > 3 {
				amount = 1 + rng.Int64N(3) // tiny refunds, where rounding bites
			}
			r, err := f.svc.Refund(f.ctx, f.staff, v.ID, redemption.RefundInput{AmountCents: amount, Reason: "Servizio non reso"}, "")
			if err != nil {
				t.Fatalf("round %d step %d: refund of %d (left %d, so far %+v, split %d/%d/%d): %v", round, step, amount, left, sum,
					*v.ProviderCents, *v.FundCents, *v.FeeCents, err)
			}
			if r.ProviderCents+r.FundCents+r.FeeCents != amount || r.ProviderCents < 0 || r.FundCents < 0 || r.FeeCents < 0 {
				t.Fatalf("round %d: refund of %d split %+v", round, amount, r)
			}
			sum.ProviderCents += r.ProviderCents
			sum.FundCents += r.FundCents
			sum.FeeCents += r.FeeCents
			sum.PledgeCents += r.PledgeCents
			left -= amount
		}
		if sum.ProviderCents != *v.ProviderCents || sum.FundCents != *v.FundCents || sum.FeeCents != *v.FeeCents ||
			sum.PledgeCents != v.PledgeCents {
			t.Fatalf("round %d: reversals %+v of a split %d/%d/%d pledge %d", round, sum, *v.ProviderCents, *v.FundCents,
				*v.FeeCents, v.PledgeCents)
		}
		// Ledger side: what the parties lost is what the wallet got back.
		dPayable := payable - f.available(redemption.PayablePath(f.staff.OrgID))
		dPool := pool - f.available(f.pool())
		dFees := fees - f.available(f.svc.Config().Fees)
		if dPayable+dPool+dFees != v.AmountCents || f.available(wallet) != 100_00 {
			t.Fatalf("round %d: ledger reversals %d+%d+%d, wallet %d", round, dPayable, dPool, dFees, f.available(wallet))
		}
		_, err = f.svc.Refund(f.ctx, f.staff, v.ID, redemption.RefundInput{AmountCents: 1, Reason: "ancora"}, "")
		wantCode(t, err, apperr.Conflict)
	}
	f.verifyLedger()
}

// A refund asks for a reason and an amount within what is left; only the
// provider or a platform admin refunds, and a retry with the key refunds once.
func TestRefundRules(t *testing.T) {
	f := newFixture(t)
	emp := f.employee(25_00, nil)
	v := f.mustBook(emp)
	_, err := f.svc.Refund(f.ctx, f.staff, v.ID, redemption.RefundInput{AmountCents: 5_00, Reason: "x"}, "")
	wantCode(t, err, apperr.Conflict) // not validated yet
	f.onSlotDay()
	_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
	f.ok(err)
	for _, in := range []redemption.RefundInput{{AmountCents: 0, Reason: "x"}, {AmountCents: 25_01, Reason: "x"}, {AmountCents: 1, Reason: " "}} {
		_, err = f.svc.Refund(f.ctx, f.staff, v.ID, in, "")
		wantCode(t, err, apperr.Invalid)
	}
	_, err = f.svc.Refund(f.ctx, emp, v.ID, redemption.RefundInput{AmountCents: 1, Reason: "x"}, "")
	wantCode(t, err, apperr.Forbidden)
	r1, err := f.svc.Refund(f.ctx, f.admin, v.ID, redemption.RefundInput{AmountCents: 10_00, Reason: "reclamo"}, "r1")
	f.ok(err)
	r2, err := f.svc.Refund(f.ctx, f.admin, v.ID, redemption.RefundInput{AmountCents: 10_00, Reason: "reclamo"}, "r1")
	f.ok(err)
	if r1.ID != r2.ID || f.available(redemption.WalletPath(emp.UserID)) != 10_00 {
		t.Fatalf("retried refund: %v %v, wallet %d", r1.ID, r2.ID, f.available(redemption.WalletPath(emp.UserID)))
	}
	var status string
	f.ok(f.db.Get(&status, `SELECT status FROM vouchers WHERE id = $1`, v.ID))
	if status != string(redemption.PartlyRefunded) {
		t.Fatalf("status %s", status)
	}
}
