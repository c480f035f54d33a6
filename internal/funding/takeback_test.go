package funding_test

import (
	"context"
	"testing"

	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/ledger"
)

// allocate spends amount of the company's budget as an allocation would
// (to a wallet of the plans domain).
func (e *env) allocate(amount int64) {
	e.t.Helper()
	ctx := context.Background()
	zero := int64(0)
	wallet := "employee:" + e.admin.UserID.String() + ":wallet"
	if _, err := ledger.CreateAccount(ctx, e.db, ledger.AccountSpec{Path: wallet, Kind: ledger.Liability, Floor: &zero, Lots: true}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := ledger.Post(ctx, e.db, ledger.Request{Key: "alloc-" + wallet, Kind: "allocation",
		Postings: []ledger.Posting{{From: funding.BudgetAccount(e.admin.OrgID), To: wallet, Amount: amount}}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) openItems() []funding.OpenItem {
	e.t.Helper()
	items, err := e.svc.OpenItems(context.Background(), e.admin, e.admin.OrgID, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

// Events in any order: a refund that arrives before the payment waits for
// it; each refunded total is booked once; an older total changes nothing.
func TestRefundsInAnyOrder(t *testing.T) {
	e := newEnv(t)
	tu := e.cardTopUp(e.admin, 400_00)
	budget := funding.BudgetAccount(e.admin.OrgID)
	e.deliver(event("charge.refunded", charge(tu, 100_00)))
	e.handle()
	if b := e.balance(funding.StripeAccount); b != 0 {
		t.Fatalf("a refund before the payment moved money: %d", b)
	}
	e.deliver(event("checkout.session.completed", session(tu, "paid")))
	e.handle() // the payment, then the refund retried
	e.handle()
	if b := e.balance(budget); b != 300_00 {
		t.Fatalf("budget %d, want 30000", b)
	}
	// A second refund (total 150), then the first event again, late.
	e.deliver(event("charge.refunded", charge(tu, 150_00)))
	e.deliver(event("charge.refunded", charge(tu, 100_00)))
	e.handle()
	if b, s := e.balance(budget), e.balance(funding.StripeAccount); b != 250_00 || s != 250_00 {
		t.Fatalf("budget %d, stripe %d; want 25000 each", b, s)
	}
	if got := e.topUp(tu.ID).Refunded; got != 150_00 {
		t.Fatalf("refunded %d", got)
	}
	if len(e.openItems()) != 0 {
		t.Fatal("an open item without a shortfall")
	}
	e.verify()
}

// A refund after the money was allocated takes what is left of the
// budget, never below zero; the rest is an open item the company sees and
// a platform admin resolves.
func TestRefundAfterAllocationOpensAnItem(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tu := e.cardTopUp(e.admin, 1000_00)
	budget := funding.BudgetAccount(e.admin.OrgID)
	e.deliver(event("checkout.session.completed", session(tu, "paid")))
	e.handle()
	e.allocate(900_00)
	e.deliver(event("charge.refunded", charge(tu, 1000_00)))
	e.handle()
	if b := e.balance(budget); b != 0 {
		t.Fatalf("budget %d, want 0", b)
	}
	if s, r := e.balance(funding.StripeAccount), e.balance(funding.ReceivableAccount(e.admin.OrgID)); s != 0 || r != 900_00 {
		t.Fatalf("platform:stripe %d (Stripe holds 0), receivable %d (want 90000)", s, r)
	}
	items := e.openItems()
	if len(items) != 1 || items[0].Amount != 900_00 || items[0].Cause != "refund" || items[0].Status != "open" {
		t.Fatalf("open items %+v", items)
	}
	// The company tops up again; the admin takes the item from the budget.
	again := e.cardTopUp(e.admin, 2000_00)
	e.deliver(event("checkout.session.completed", session(again, "paid")))
	e.handle()
	admin := e.platformAdmin()
	if _, err := e.svc.ResolveOpenItem(ctx, admin, items[0].ID, funding.Resolution{How: "budget"}); err != nil {
		t.Fatal(err)
	}
	if b, r := e.balance(budget), e.balance(funding.ReceivableAccount(e.admin.OrgID)); b != 1100_00 || r != 0 {
		t.Fatalf("after resolving: budget %d, receivable %d", b, r)
	}
	if _, err := e.svc.ResolveOpenItem(ctx, admin, items[0].ID, funding.Resolution{How: "budget"}); err == nil {
		t.Fatal("an item resolved twice")
	}
	e.verify()
}

// A dispute: the funds withdrawn (and Stripe's dispute fee) leave, then
// come back when reinstated; the outcome is recorded; repeats and a
// reinstatement before the withdrawal change nothing twice.
func TestDisputeWithdrawnThenReinstated(t *testing.T) {
	e := newEnv(t)
	tu := e.cardTopUp(e.admin, 600_00)
	budget := funding.BudgetAccount(e.admin.OrgID)
	e.deliver(event("checkout.session.completed", session(tu, "paid")))
	e.handle()
	e.allocate(500_00)
	// Reinstated arrives first: it waits for the withdrawal.
	e.deliver(event("charge.dispute.funds_reinstated", dispute(tu, 600_00, 0, "won")))
	e.handle()
	if b := e.balance(budget); b != 100_00 {
		t.Fatalf("a reinstatement before the withdrawal moved money: budget %d", b)
	}
	e.deliver(event("charge.dispute.funds_withdrawn", dispute(tu, 600_00, 15_00, "needs_response")))
	e.deliver(event("charge.dispute.funds_withdrawn", dispute(tu, 600_00, 15_00, "needs_response")))
	e.handle()
	// (The reinstatement retried in the same run may already have applied.)
	tuNow := e.topUp(tu.ID)
	if tuNow.DisputeState == "withdrawn" {
		if b, r := e.balance(budget), e.balance(funding.ReceivableAccount(e.admin.OrgID)); b != 0 || r != 500_00 {
			t.Fatalf("withdrawn: budget %d, receivable %d", b, r)
		}
		if items := e.openItems(); len(items) != 1 || items[0].Amount != 500_00 || items[0].Cause != "dispute" {
			t.Fatalf("open items %+v", items)
		}
		e.handle()
	}
	e.deliver(event("charge.dispute.closed", dispute(tu, 600_00, 0, "won")))
	e.handle()
	final := e.topUp(tu.ID)
	if final.DisputeState != "reinstated" || final.DisputeOutcome == nil || *final.DisputeOutcome != "won" {
		t.Fatalf("dispute %+v", final)
	}
	if b, r := e.balance(budget), e.balance(funding.ReceivableAccount(e.admin.OrgID)); b != 100_00 || r != 0 {
		t.Fatalf("reinstated: budget %d, receivable %d; want 10000, 0", b, r)
	}
	if s, f := e.balance(funding.StripeAccount), e.balance(funding.StripeFeesAccount); s != 600_00-15_00 || f != 15_00 {
		t.Fatalf("platform:stripe %d, stripe-fees %d", s, f)
	}
	items := e.openItems()
	if len(items) != 1 || items[0].Status != "resolved" || items[0].Resolution == nil || *items[0].Resolution != "reinstated" {
		t.Fatalf("the item after reinstatement: %+v", items)
	}
	e.verify()
}
