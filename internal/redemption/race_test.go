package redemption_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
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

// kind is one way a booking and its validation commit.
type kind struct {
	name                     string
	aloneBook, aloneValidate bool
	// offering returns an offering of f.staff at price with room for n
	// bookings, and its slot (nil: none)
	offering func(f *fixture, price int64, n int) (uuid.UUID, *uuid.UUID)
	pledge   int // bps of the provider's part
}

// kinds are the ways a booking and a validation commit: a booking in a
// slot in Book's transaction, one of a service arranged with the provider
// in one statement (bookAlone, once a booking saw the provider's
// payable); a validation in one statement (captureAlone), or in capture's
// transaction when the provider pledges a share to the fund. The races run
// through each.
var kinds = []kind{
	{"slot, validated in one statement", false, true, func(f *fixture, price int64, n int) (uuid.UUID, *uuid.UUID) {
		o, slot := f.slotOffering(f.staff, "Centro estivo", "sport", price, f.slotAt, n)
		return o, &slot
	}, 0},
	{"both in one statement", true, true, func(f *fixture, price int64, _ int) (uuid.UUID, *uuid.UUID) {
		return f.onRequest("sport", price), nil
	}, 0},
	{"booked in one statement, validated with a pledge", true, false, func(f *fixture, price int64, _ int) (uuid.UUID, *uuid.UUID) {
		o := f.onRequest("sport", price)
		_, err := f.db.Exec(`UPDATE providers SET fund_pledge_bps = 300 WHERE organisation_id = $1`, f.staff.OrgID)
		f.ok(err)
		return o, nil
	}, 300},
}

// eachKind runs test as a subtest for each kind, on a fixture of its
// own, and checks the ledger's invariants after it.
func eachKind(t *testing.T, test func(t *testing.T, f *fixture, k kind)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFixture(t)
			test(t, f, k)
			f.verifyLedger()
		})
	}
}

// aloneNow is how many bookings and validations committed by one
// statement so far (AloneCounts).
func (f *fixture) aloneNow() [2]int64 {
	b, c := redemption.AloneCounts(f.svc)
	return [2]int64{b, c}
}

// alone checks that since before the bookings took the one-statement path
// when books says so (nil: no check), and the validations when validations
// does.
func (f *fixture) alone(before [2]int64, books, validations *bool) {
	f.t.Helper()
	after := f.aloneNow()
	for i, want := range []*bool{books, validations} {
		if want != nil && (after[i] > before[i]) != *want {
			f.t.Fatalf("one-statement bookings, validations %v → %v: want bookings %v, validations %v", before, after, books, validations)
		}
	}
}

// 20 concurrent validations of one voucher: one validates, the others are
// told it was already validated and when; the split is paid once.
func TestRaceValidations(t *testing.T) {
	eachKind(t, func(t *testing.T, f *fixture, k kind) {
		offering, slot := k.offering(f, 25_00, 10)
		v, err := f.bookKeyed(f.employee(25_00, nil), offering, 1, slot)
		f.ok(err)
		f.onSlotDay()
		payable := f.available(redemption.PayablePath(f.staff.OrgID))
		before := f.aloneNow()
		errs := race(20, func(int) error { _, err := f.svc.Validate(f.ctx, f.staff, v.Code); return err })
		if n := winners(t, errs, apperr.Conflict); n != 1 {
			t.Fatalf("%d validations", n)
		}
		for _, err := range errs {
			if ae, _ := err.(*apperr.Error); err != nil && (ae.Fields["reason"] != "already_validated" || ae.Fields["validated_at"] == nil) {
				t.Fatalf("a loser: %v %v", err, ae.Fields)
			}
		}
		if got, want := f.available(redemption.PayablePath(f.staff.OrgID))-payable, int64(21_25-21_25*k.pledge/10000); got != want {
			t.Fatalf("payable grew by %d, want one split's %d", got, want)
		}
		f.alone(before, nil, &k.aloneValidate)
	})
}

// A validation, the employee's cancellation and the expiry worker race for
// one voucher at the last moment all three are possible: exactly one wins,
// the others are conflicts (a deadlock is retried, never an error), and
// the ledger agrees with the voucher.
func TestRaceValidateCancelExpire(t *testing.T) {
	eachKind(t, func(t *testing.T, f *fixture, k kind) {
		// a voucher the employee may still cancel, inside its validation
		// window and past it at once: the clock says both (the service judges
		// each rule on its own), so each racer is allowed to win.
		big, bigSlot := k.offering(f, 25_00, 100)
		before := f.aloneNow()
		validated := 0
		for round := range 10 {
			f.setClock(time.Now())
			emp := f.employee(25_00, nil)
			v, err := f.bookKeyed(emp, big, 1, bigSlot)
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
			if status == "validated" {
				validated++
			}
		}
		want := before
		if k.aloneBook {
			want[0] += 10
		}
		if k.aloneValidate {
			want[1] += int64(validated)
		}
		if after := f.aloneNow(); after != want {
			t.Fatalf("one-statement bookings and validations %v → %v, want %v", before, after, want)
		}
	})
}

// Ten requests with one key at once: one voucher and one hold; every
// answer is that voucher or "in progress"; the same request again answers
// that voucher and holds nothing more.
func TestRaceOneKey(t *testing.T) {
	eachKind(t, func(t *testing.T, f *fixture, k kind) {
		offering, slot := k.offering(f, 10_00, 20)
		emp := f.employee(50_00, nil)
		in := redemption.BookInput{OfferingID: offering, Quantity: 1, SlotID: slot}
		before := f.aloneNow()
		var mu sync.Mutex
		ids := map[uuid.UUID]bool{}
		race(10, func(int) error {
			v, err := f.svc.Book(f.ctx, emp, in, "same")
			if err == nil {
				mu.Lock()
				ids[v.ID] = true
				mu.Unlock()
			} else if !db.KeyInProgress(err) {
				t.Errorf("a racer: %v", err)
			}
			return nil
		})
		wallet := redemption.WalletPath(emp.UserID)
		if len(ids) != 1 || f.available(wallet) != 40_00 {
			t.Fatalf("vouchers %v, wallet %d", ids, f.available(wallet))
		}
		again, err := f.svc.Book(f.ctx, emp, in, "same")
		if err != nil || !ids[again.ID] || f.available(wallet) != 40_00 {
			t.Fatalf("the same request again: %+v, %v; wallet %d", again, err, f.available(wallet))
		}
		f.alone(before, &k.aloneBook, nil)
	})
}
