package plans_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

// expiredCredit gives user a lot of plan that has already expired, as an
// allocation made before the deadline leaves it once the deadline passes.
func (f *fixture) expiredCredit(pl plans.Plan, user uuid.UUID, cents int64) {
	f.t.Helper()
	f.credit(pl, user, cents, time.Now().Add(-time.Minute))
}

// credit gives user a lot of plan expiring at exp.
func (f *fixture) credit(pl plans.Plan, user uuid.UUID, cents int64, exp time.Time) {
	f.t.Helper()
	_, err := ledger.Post(f.ctx, f.db, ledger.Request{Key: fmt.Sprintf("test-credit-%s-%d", user, f.n.Add(1)), Kind: "allocation",
		Postings: []ledger.Posting{{From: "company:" + f.company.ID.String() + ":budget", To: "employee:" + user.String() + ":wallet",
			Amount: cents, Lot: &ledger.LotSpec{ExpiresAt: &exp, Categories: pl.Categories,
				Attrs: map[string]any{"plan_id": pl.ID.String(), "company": f.company.ID.String()}}}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

// Expired credits follow their plan's residual policy, checked against
// ledger balances and lots, with the ledger's invariants holding.
func TestExpiredCreditsFollowTheirPlansResidualPolicy(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	u := f.employee("impiegati", nil).ID
	fund := "fund:" + uuid.NewString() + ":pool"
	f.svc.SetFundPool(fund)
	if _, err := ledger.CreateAccount(f.ctx, f.db, ledger.AccountSpec{Path: fund, Kind: ledger.Liability, Floor: ptr(int64(0)), Lots: true, Shards: 4}); err != nil {
		t.Fatal(err)
	}
	f.fund(f.company.ID, 1_000_00)
	byPolicy := func(policy string, edit func(*plans.PlanInput)) plans.Plan {
		in := thisYear(map[string]int64{"impiegati": 100})
		in.Name, in.ResidualPolicy = policy, policy
		if edit != nil {
			edit(&in)
		}
		return f.plan(in)
	}
	ret := byPolicy(plans.ResidualReturn, nil)
	don := byPolicy(plans.ResidualDonate, nil)
	until := time.Now().AddDate(1, 0, 0)
	carry := byPolicy(plans.ResidualCarryOver, func(in *plans.PlanInput) {
		in.EndsOn = until.AddDate(0, -6, 0)
		in.CarryOverUntil = &until
	})
	pdr := byPolicy(plans.ResidualPensionFund, func(in *plans.PlanInput) { in.Kind, in.Rules = plans.PdR, nil })
	f.expiredCredit(ret, u, 10_00)
	f.expiredCredit(don, u, 20_00)
	f.expiredCredit(carry, u, 30_00)
	f.expiredCredit(pdr, u, 40_00)

	n, err := f.svc.SweepExpiredLots(f.ctx, 100)
	if err != nil || n != 4 {
		t.Fatalf("sweep: %d disposed, %v", n, err)
	}
	if b := f.budget(); b.Posted != 1_000_00-100_00+10_00 {
		t.Fatalf("budget %d: only the return plan's 10_00 comes back", b.Posted)
	}
	if b := f.balance(fund); b.Posted != 20_00 {
		t.Fatalf("fund pool %d, want the donated 20_00", b.Posted)
	}
	pool, _ := ledger.Lots(f.ctx, f.db, fund)
	if len(pool) != 1 || pool[0].Attrs["company"] != f.company.ID.String() || pool[0].Attrs["plan_id"] != don.ID.String() {
		t.Fatalf("the donation is not a contributor lot attributed to the company: %+v", pool)
	}
	if b := f.balance("company:" + f.company.ID.String() + ":pdr-residual"); b.Posted != 40_00 {
		t.Fatalf("PdR residual %d, want 40_00 (never the budget, never the fund)", b.Posted)
	}
	lots := f.lots(u)
	if len(lots) != 1 || lots[0].Remaining != 30_00 || lots[0].ExpiresAt == nil ||
		lots[0].ExpiresAt.In(rome).Format(time.DateOnly) != until.AddDate(0, 0, 1).Format(time.DateOnly) {
		t.Fatalf("wallet lots %+v: want only the carried-over 30_00, until the end of %s", lots, until.Format(time.DateOnly))
	}
	if b := f.balance("employee:" + u.String() + ":wallet"); b.Posted != 30_00 {
		t.Fatalf("wallet %d, want 30_00", b.Posted)
	}
	// Nothing left to dispose of: a second sweep does nothing.
	if n, err := f.svc.SweepExpiredLots(f.ctx, 100); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
	f.verify()
}

// Reminders go out 30 and 7 days before credits expire, once each.
func TestExpiryRemindersGoOutOnceAt30And7Days(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	soon := f.employee("impiegati", nil)
	later := f.employee("impiegati", nil)
	far := f.employee("impiegati", nil)
	pl := f.plan(thisYear(map[string]int64{"impiegati": 100}))
	f.fund(f.company.ID, 1_000_00)
	f.credit(pl, soon.ID, 10_00, time.Now().Add(3*24*time.Hour))
	f.credit(pl, soon.ID, 5_00, time.Now().Add(3*24*time.Hour))
	f.credit(pl, later.ID, 20_00, time.Now().Add(20*24*time.Hour))
	f.credit(pl, far.ID, 30_00, time.Now().Add(60*24*time.Hour))
	n, err := f.svc.SendExpiryReminders(f.ctx, 100)
	if err != nil || n != 2 {
		t.Fatalf("reminders: %d, %v; want 2 (the 7-day one and the 30-day one)", n, err)
	}
	var body string
	if err := f.db.Get(&body, `SELECT body FROM mail_outbox WHERE to_addr = $1`, soon.Email); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "15,00") || !strings.Contains(body, "(3 giorni)") && !strings.Contains(body, "(4 giorni)") {
		t.Fatalf("the 7-day reminder does not say 15,00 in 3 days:\n%s", body)
	}
	if f.mails(later.Email) != 1 || f.mails(far.Email) != 0 {
		t.Fatal("the 20-day credit gets its 30-day reminder, the 60-day one nothing yet")
	}
	if n, err := f.svc.SendExpiryReminders(f.ctx, 100); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v; want nothing again", n, err)
	}
}
