package plans_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

// After the leaving day an employee's credits can no longer be spent;
// when they expire they follow their plan's rule, a carry-over plan's
// returning to the budget (nobody to carry them over for); HR undoing the
// leaving date gives them back; no correction credits a leaver.
func TestALeaversCreditsFollowTheirPlansRules(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	yesterday := time.Now().In(rome).AddDate(0, 0, -1)
	u := f.employee("impiegati", nil)
	stays := f.employee("impiegati", nil)
	f.fund(f.company.ID, 1_000_00)
	ret := f.plan(thisYear(map[string]int64{"impiegati": 100}))
	until := time.Now().AddDate(1, 0, 0)
	carryIn := thisYear(map[string]int64{"impiegati": 100})
	carryIn.Name, carryIn.ResidualPolicy, carryIn.CarryOverUntil = "Riporto", plans.ResidualCarryOver, &until
	carryIn.EndsOn = until.AddDate(0, -1, 0)
	carry := f.plan(carryIn)
	soon := time.Now().Add(3 * time.Second)
	f.credit(ret, u.ID, 10_00, soon)
	f.credit(carry, u.ID, 20_00, soon)
	f.credit(ret, u.ID, 30_00, time.Now().AddDate(0, 1, 0))
	f.credit(carry, stays.ID, 5_00, soon)
	leave := func(on *time.Time) {
		t.Helper()
		if _, err := f.svc.SaveEmployee(f.ctx, f.hrp(), plans.EmployeeInput{UserID: u.ID, Category: "impiegati", LeavesOn: on}); err != nil {
			t.Fatal(err)
		}
	}
	wallet := "employee:" + u.ID.String() + ":wallet"
	leave(&yesterday)
	if n, err := f.svc.FreezeLeavers(f.ctx, 10); err != nil || n != 1 {
		t.Fatalf("freezing: %d, %v; want the one leaver", n, err)
	}
	if b := f.balance(wallet); b.Available != 0 || b.PendingOut != 60_00 {
		t.Fatalf("the leaver's wallet %+v, want all 60 € reserved", b)
	}
	if n, err := f.svc.FreezeLeavers(f.ctx, 10); err != nil || n != 0 {
		t.Fatalf("freezing again: %d, %v; want nothing more", n, err)
	}
	f.spend0(wallet, 1_00)
	w, err := f.svc.MyWallet(f.ctx, u.Principal())
	if err != nil || w.LeftOn == nil || w.BalanceCents != 0 {
		t.Fatalf("the leaver's wallet %+v, %v", w, err)
	}
	if _, err := f.svc.Correct(f.ctx, f.hrp(), ret.ID, plans.CorrectionInput{UserID: u.ID, AmountCents: 1_00, Reason: "premio"}, "c1"); apperr.FieldOf(err) != "user_id" {
		t.Fatalf("a correction to a leaver: %v, want invalid user_id", err)
	}

	// HR made a mistake: no leaving date; the credits come back. Then
	// the date again.
	leave(nil)
	if b := f.balance(wallet); b.Available != 60_00 || b.PendingOut != 0 {
		t.Fatalf("after clearing the leaving date the wallet is %+v", b)
	}
	leave(&yesterday)
	if n, err := f.svc.FreezeLeavers(f.ctx, 10); err != nil || n != 1 {
		t.Fatalf("freezing after the date is set again: %d, %v", n, err)
	}

	time.Sleep(time.Until(soon) + 100*time.Millisecond)
	budget := f.budget().Posted
	if _, err := ledger.ExpireHolds(f.ctx, f.db, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SweepExpiredLots(f.ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got := f.budget().Posted - budget; got != 30_00 {
		t.Fatalf("the budget got back %d, want the leaver's 30 € that expired (10 returned, 20 not carried over)", got)
	}
	if b := f.balance(wallet); b.Posted != 30_00 || b.PendingOut != 30_00 || b.Available != 0 {
		t.Fatalf("the leaver's wallet %+v, want the later 30 € still reserved", b)
	}
	carried := 0
	for _, l := range f.lots(stays.ID) {
		if l.ParentID != nil && l.Remaining == 5_00 {
			carried++
		}
	}
	for _, l := range f.lots(u.ID) {
		if l.ParentID != nil {
			t.Fatalf("a leaver's credit was carried over: %+v", l)
		}
	}
	if carried != 1 {
		t.Fatalf("the colleague who stays has %d carried-over lots, want 1", carried)
	}
	f.verify()
}

// spend0 tries to spend cents of wallet and expects the ledger to refuse.
func (f *fixture) spend0(wallet string, cents int64) {
	f.t.Helper()
	payable := "provider:test:payable"
	if _, err := ledger.CreateAccount(f.ctx, f.db, ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: ptr(int64(0))}); err != nil {
		f.t.Fatal(err)
	}
	_, err := ledger.Post(f.ctx, f.db, ledger.Request{Key: "spend-frozen-" + wallet, Kind: "redemption",
		Postings: []ledger.Posting{{From: wallet, To: payable, Amount: cents, Category: "sport"}}})
	if apperr.CodeOf(err) != apperr.InsufficientFunds {
		f.t.Fatalf("spending a leaver's credit: %v, want insufficient_funds", err)
	}
}
