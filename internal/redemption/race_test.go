package redemption_test

import (
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// run starts n calls at once and returns their errors.
func race(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = call(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func winners(t *testing.T, errs []error, loser apperr.Code) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		switch {
		case err == nil:
			n++
		case apperr.CodeOf(err) != loser:
			t.Fatalf("a racer failed with %v, want %s", err, loser)
		}
	}
	return n
}

// 50 employees book the last place of a slot: one gets it, the others a
// conflict, and only the winner's credits are held.
func TestRaceLastPlace(t *testing.T) {
	f := newFixture(t)
	f.mustBook(f.employee(25_00, nil))
	f.mustBook(f.employee(25_00, nil))
	emps := make([]*auth.Principal, 50)
	for i := range emps {
		emps[i] = f.employee(25_00, nil)
	}
	errs := race(len(emps), func(i int) error { _, err := f.book(emps[i], f.offering, 1, &f.slot); return err })
	if n := winners(t, errs, apperr.Conflict); n != 1 {
		t.Fatalf("%d bookings of the last place", n)
	}
	held := 0
	for _, e := range emps {
		if f.available(redemption.WalletPath(e.UserID)) == 0 {
			held++
		}
	}
	var taken int
	f.ok(f.db.Get(&taken, `SELECT count(*) FROM vouchers WHERE slot_id = $1 AND status = 'booked'`, f.slot))
	if held != 1 || taken != 3 {
		t.Fatalf("%d wallets held, %d places taken of 3", held, taken)
	}
	f.verifyLedger()
}

// 20 concurrent validations of one voucher: one validates, the others are
// told it was already validated; the split is paid once.
func TestRaceValidations(t *testing.T) {
	f := newFixture(t)
	v := f.mustBook(f.employee(25_00, nil))
	f.onSlotDay()
	errs := race(20, func(int) error { _, err := f.svc.Validate(f.ctx, f.staff, v.Code); return err })
	if n := winners(t, errs, apperr.Conflict); n != 1 {
		t.Fatalf("%d validations", n)
	}
	if got := f.available(redemption.PayablePath(f.staff.OrgID)); got != 21_25 {
		t.Fatalf("payable %d, want one split's 21_25", got)
	}
	f.verifyLedger()
}

// A validation, the employee's cancellation and the expiry worker race for
// one voucher at the last moment all three are possible: exactly one wins,
// and the ledger agrees with the voucher.
func TestRaceValidateCancelExpire(t *testing.T) {
	f := newFixture(t)
	// a voucher the employee may still cancel, inside its validation
	// window and past it at once: the clock says both (the service judges
	// each rule on its own), so each racer is allowed to win.
	big, bigSlot := f.slotOffering(f.staff, "Centro estivo", "sport", 25_00, f.slotAt, 100)
	for round := range 10 {
		f.setClock(time.Now())
		emp := f.employee(25_00, nil)
		v, err := f.book(emp, big, 1, &bigSlot)
		f.ok(err)
		_, err = f.db.Exec(`UPDATE vouchers SET cancel_until = $2, validate_from = $3, validate_until = $4 WHERE id = $1`,
			v.ID, time.Now().Add(time.Hour), time.Now().Add(-time.Hour), time.Now().Add(50*time.Millisecond))
		f.ok(err)
		time.Sleep(40 * time.Millisecond)
		var expired int
		errs := race(3, func(i int) error {
			switch i {
			case 0:
				_, err := f.svc.Validate(f.ctx, f.staff, v.Code)
				return err
			case 1:
				_, err := f.svc.Cancel(f.ctx, emp, v.ID, "")
				return err
			default:
				time.Sleep(10 * time.Millisecond)
				f.setClock(time.Now())
				n, err := f.svc.ExpireVouchers(f.ctx, 5)
				expired = n
				return err
			}
		})
		won := 0
		for i, err := range errs[:2] {
			if err == nil {
				won++
			} else if apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("round %d racer %d: %v", round, i, err)
			}
		}
		f.ok(errs[2])
		if won+expired != 1 {
			t.Fatalf("round %d: %d won, %d expired", round, won, expired)
		}
		var status string
		f.ok(f.db.Get(&status, `SELECT status FROM vouchers WHERE id = $1`, v.ID))
		wallet := f.available(redemption.WalletPath(emp.UserID))
		if (status == "validated") != (wallet == 0) {
			t.Fatalf("round %d: voucher %s but wallet %d", round, status, wallet)
		}
	}
	f.verifyLedger()
}
