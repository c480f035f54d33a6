package redemption_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/redemption"
)

// onRequest creates a service of category arranged with the provider (no
// slots) and books it once, so the provider's payable exists and later
// bookings of it take the one-statement path.
func (f *fixture) onRequest(category string, price int64) uuid.UUID {
	f.t.Helper()
	o, err := f.cat.CreateOffering(f.ctx, f.staff, f.staff.OrgID, catalog.OfferingInput{Title: "Ripetizioni", Description: "Di prova",
		Category: category, PriceCents: price, Unit: "hour", PlaceCode: lecco, Availability: catalog.AvailabilityOnRequest}, "")
	f.ok(err)
	_, err = f.book(f.employee(price, nil), o.ID, 1, nil)
	f.ok(err)
	return o.ID
}

// bookKeyed books as the API's clients do, with an idempotency key.
func (f *fixture) bookKeyed(p *auth.Principal, offering uuid.UUID, qty int, slot *uuid.UUID) (redemption.Voucher, error) {
	return f.svc.Book(f.ctx, p, redemption.BookInput{OfferingID: offering, Quantity: qty, SlotID: slot}, uuid.NewString())
}

// A booking of a service without slots, with an idempotency key: the
// retry answers the same voucher and holds nothing more, the same key for
// another request is refused, a short wallet holds nothing, and the
// voucher validates once.
func TestBookingWithoutSlotsIsOneWriteOnce(t *testing.T) {
	f := newFixture(t)
	offering := f.onRequest("sport", 15_00)
	emp := f.employee(40_00, nil)
	wallet := redemption.WalletPath(emp.UserID)
	in := redemption.BookInput{OfferingID: offering, Quantity: 2}
	before := f.aloneNow()
	v, err := f.svc.Book(f.ctx, emp, in, "k1")
	f.ok(err)
	if v.Status != redemption.Booked || v.AmountCents != 30_00 || v.HoldID == 0 || v.CreatedAt.IsZero() || f.available(wallet) != 10_00 {
		t.Fatalf("booked %+v, wallet %d", v, f.available(wallet))
	}
	again, err := f.svc.Book(f.ctx, emp, in, "k1")
	if err != nil || again.ID != v.ID || again.Code != v.Code || again.HoldID != v.HoldID || !again.CreatedAt.Equal(v.CreatedAt) ||
		f.available(wallet) != 10_00 {
		t.Fatalf("retry = %+v, %v; wallet %d", again, err, f.available(wallet))
	}
	_, err = f.svc.Book(f.ctx, emp, redemption.BookInput{OfferingID: offering, Quantity: 1}, "k1")
	if ae := wantCode(t, err, apperr.Conflict); !db.KeyReused(ae) {
		t.Fatalf("the key for another request: %v", err)
	}
	_, err = f.svc.Book(f.ctx, emp, in, "k2")
	if ae := wantCode(t, err, apperr.InsufficientFunds); ae.Fields["available"] != int64(10_00) || ae.Fields["required"] != int64(30_00) {
		t.Fatalf("short wallet: %v %v", err, ae.Fields)
	}
	if f.available(wallet) != 10_00 {
		t.Fatalf("a refused booking held something: wallet %d", f.available(wallet))
	}
	got, err := f.svc.Validate(f.ctx, f.staff, v.Code)
	if err != nil || got.Status != redemption.Validated || got.ProviderCents == nil || *got.ProviderCents+*got.FundCents+*got.FeeCents != 30_00 {
		t.Fatalf("validated %+v, %v", got, err)
	}
	var stored struct {
		Status   string `db:"status"`
		Provider int64  `db:"provider_cents"`
		Capture  int64  `db:"capture_tx_id"`
	}
	f.ok(f.db.Get(&stored, `SELECT status, provider_cents, capture_tx_id FROM vouchers WHERE id = $1`, v.ID))
	if stored.Status != "validated" || stored.Provider != *got.ProviderCents || stored.Capture != *got.CaptureTxID {
		t.Fatalf("stored %+v, answered %+v", stored, got)
	}
	_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
	if ae := wantCode(t, err, apperr.Conflict); ae.Fields["reason"] != "already_validated" {
		t.Fatalf("second validation: %v", err)
	}
	if after := f.aloneNow(); after != [2]int64{before[0] + 1, before[1] + 1} {
		t.Fatalf("one-statement bookings and validations %v → %v", before, after)
	}
	f.verifyLedger()
}

// A booking whose first voucher code is taken draws another: the voucher
// is booked once, with a free code, and its credits held once.
func TestBookingCodeClash(t *testing.T) {
	eachKind(t, func(t *testing.T, f *fixture, k kind) {
		offering, slot := k.offering(f, 10_00, 5)
		taken, err := f.bookKeyed(f.employee(10_00, nil), offering, 1, slot)
		f.ok(err)
		drawn := 0
		defer redemption.SetCodes(func() string {
			if drawn++; drawn == 1 {
				return taken.Code
			}
			return redemption.NewCode()
		})()
		emp := f.employee(30_00, nil)
		before := f.aloneNow()
		v, err := f.bookKeyed(emp, offering, 1, slot)
		f.ok(err)
		var n int
		f.ok(f.db.Get(&n, `SELECT count(*) FROM vouchers WHERE employee_id = $1 AND code <> $2`, emp.UserID, taken.Code))
		if drawn != 2 || v.Code == taken.Code || n != 1 || f.available(redemption.WalletPath(emp.UserID)) != 20_00 {
			t.Fatalf("%d codes drawn, voucher %s (taken %s), %d vouchers, wallet %d", drawn, v.Code, taken.Code, n,
				f.available(redemption.WalletPath(emp.UserID)))
		}
		f.alone(before, &k.aloneBook, nil)
	})
}

// A booking whose connection dies after its hold is placed, while its
// voucher waits for a lock, leaves nothing behind: no voucher, no hold,
// the key free; the retry books once.
func TestBookingCrashLeavesNothing(t *testing.T) {
	eachKind(t, func(t *testing.T, f *fixture, k kind) {
		offering, slot := k.offering(f, 10_00, 5)
		emp := f.employee(30_00, nil)
		wallet := redemption.WalletPath(emp.UserID)
		in := redemption.BookInput{OfferingID: offering, Quantity: 1, SlotID: slot}
		// Another transaction locks the offering: the voucher's
		// foreign-key check, the last thing a booking does, waits for it.
		blocker, err := f.db.BeginTxx(f.ctx, nil)
		f.ok(err)
		defer blocker.Rollback()
		_, err = blocker.Exec(`SELECT 1 FROM offerings WHERE id = $1 FOR UPDATE`, offering)
		f.ok(err)
		done := make(chan error, 1)
		go func() { _, err := f.svc.Book(context.Background(), emp, in, "crash"); done <- err }()
		var pid int
		for {
			err := f.db.Get(&pid, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
				AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO vouchers%' LIMIT 1`)
			if err == nil {
				break
			}
			if !errors.Is(err, sql.ErrNoRows) {
				f.ok(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		var killed bool
		f.ok(f.db.Get(&killed, `SELECT pg_terminate_backend($1)`, pid))
		f.ok(blocker.Rollback())
		crashErr := <-done
		var n int
		f.ok(f.db.Get(&n, `SELECT count(*) FROM vouchers WHERE employee_id = $1`, emp.UserID))
		if !killed || (crashErr != nil) != (n == 0) || f.available(wallet) != 30_00-int64(n)*10_00 {
			t.Fatalf("killed %t, booking %v, %d vouchers, wallet %d", killed, crashErr, n, f.available(wallet))
		}
		f.verifyLedger()
		v, err := f.svc.Book(f.ctx, emp, in, "crash")
		f.ok(err)
		f.ok(f.db.Get(&n, `SELECT count(*) FROM vouchers WHERE employee_id = $1`, emp.UserID))
		if n != 1 || v.EmployeeID != emp.UserID || f.available(wallet) != 20_00 {
			t.Fatalf("after the retry: %d vouchers, wallet %d", n, f.available(wallet))
		}
	})
}

// What the one-statement paths leave to the transactions still works: a
// booking without a key is booked once; a fringe-type service arranged
// with the provider counts on the meter; a
// provider that pledges gets its pledge posted with the validation; a
// retry of a booking whose offering was paused since answers the voucher.
func TestOneStatementFallbacks(t *testing.T) {
	f := newFixture(t)
	laundry := f.onRequest("laundry", 100_00)
	emp := f.employee(600_00, nil)
	no := false
	before := f.aloneNow()
	keyless, err := f.book(emp, f.onRequest("sport", 50_00), 2, nil)
	f.ok(err)
	if keyless.Status != redemption.Booked || f.available(redemption.WalletPath(emp.UserID)) != 500_00 {
		t.Fatalf("booked without a key: %+v, wallet %d", keyless, f.available(redemption.WalletPath(emp.UserID)))
	}
	f.alone(before, &no, nil)
	_, err = f.bookKeyed(emp, laundry, 2, nil)
	f.ok(err)
	if f.meter(emp) != 200_00 {
		t.Fatalf("meter after a €200 fringe booking = %d", f.meter(emp))
	}
	f.alone(before, &no, nil)

	sport := f.onRequest("sport", 20_00)
	_, err = f.db.Exec(`UPDATE providers SET fund_pledge_bps = 300 WHERE organisation_id = $1`, f.staff.OrgID)
	f.ok(err)
	v, err := f.bookKeyed(emp, sport, 1, nil)
	f.ok(err)
	before = f.aloneNow()
	got, err := f.svc.Validate(f.ctx, f.staff, v.Code)
	f.ok(err)
	if got.PledgeTxID == nil || got.PledgeCents != *got.ProviderCents*300/10000 || got.PledgeCents == 0 {
		t.Fatalf("validated %+v", got)
	}
	if _, c := redemption.AloneCounts(f.svc); c != before[1] {
		t.Fatal("a pledging provider's validation took the one-statement path")
	}

	in := redemption.BookInput{OfferingID: sport, Quantity: 1}
	first, err := f.svc.Book(f.ctx, emp, in, "before-pause")
	f.ok(err)
	_, err = f.db.Exec(`UPDATE offerings SET status = 'paused' WHERE id = $1`, sport)
	f.ok(err)
	again, err := f.svc.Book(f.ctx, emp, in, "before-pause")
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry after the pause: %+v, %v", again, err)
	}
	_, err = f.svc.Book(f.ctx, emp, in, "after-pause")
	wantCode(t, err, apperr.NotFound)
	f.verifyLedger()
}
