package plans_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/plans"
)

// An HR admin allocates a plan: each eligible employee gets the rule's
// amount, pro-rated, as one lot with the plan's categories and expiry;
// the budget pays exactly the total and holds nothing afterwards.
func TestAllocateCreditsEachEligibleEmployeeOnce(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	f.category("operai")
	y := time.Now().Year()
	full := f.employee("impiegati", nil)
	half := f.employee("operai", func(in *plans.EmployeeInput) { in.PartTimePct = 50 })
	late := f.employee("impiegati", func(in *plans.EmployeeInput) { in.HiredOn = ptr(time.Date(y, 10, 20, 0, 0, 0, 0, time.UTC)) })
	left := f.employee("impiegati", func(in *plans.EmployeeInput) { in.LeavesOn = ptr(time.Now().AddDate(0, 0, -1)) })
	pl := f.plan(thisYear(map[string]int64{"impiegati": 600_00, "operai": 400_00}))
	f.fund(f.company.ID, 2_000_00)

	pv, err := f.svc.PreviewAllocation(f.ctx, f.hrp(), pl.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]int64{full.ID: 600_00, half.ID: 200_00, late.ID: 150_00} // late: 3/12 of 600
	got := map[uuid.UUID]int64{}
	for _, l := range pv.Lines {
		got[l.UserID] = l.AmountCents
	}
	if len(got) != 3 || got[full.ID] != want[full.ID] || got[half.ID] != want[half.ID] || got[late.ID] != want[late.ID] {
		t.Fatalf("preview = %v, want %v (and not the one who left, %s)", got, want, left.ID)
	}
	if pv.TotalCents != 950_00 || pv.MissingCents != 0 {
		t.Fatalf("preview total %d missing %d", pv.TotalCents, pv.MissingCents)
	}

	a, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "alloc-1")
	if err != nil {
		t.Fatal(err)
	}
	if b := f.budget(); b.Available != 2_000_00-950_00 || b.Posted != 2_000_00 {
		t.Fatalf("after the hold the budget is %+v", b)
	}
	again, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "alloc-1")
	if err != nil || again.ID != a.ID {
		t.Fatalf("the same key again = %v, %v; want allocation %s", again.ID, err, a.ID)
	}
	if err := f.svc.RunAllocation(f.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if b := f.budget(); b.Posted != 2_000_00-950_00 || b.PendingOut != 0 {
		t.Fatalf("after the credits the budget is %+v", b)
	}
	for u, cents := range want {
		lots := f.lots(u)
		if len(lots) != 1 || lots[0].Amount != cents || !slices.Equal(lots[0].Categories, []string{"culture", "sport"}) {
			t.Fatalf("lots of %s = %+v, want one of %d for culture, sport", u, lots, cents)
		}
		if exp := lots[0].ExpiresAt; exp == nil || !exp.Equal(time.Date(y+1, 1, 1, 0, 0, 0, 0, rome)) {
			t.Fatalf("lot expires at %v, want the end of 31/12/%d in Italy", exp, y)
		}
	}
	if f.mails(full.Email) != 1 || f.mails(half.Email) != 1 || f.mails(left.Email) != 0 {
		t.Fatal("each credited employee gets one mail, nobody else")
	}
	got2, err := f.svc.GetAllocation(f.ctx, f.hrp(), a.ID)
	if err != nil || got2.Status != plans.Done || got2.Credited != 3 {
		t.Fatalf("allocation = %+v, %v", got2, err)
	}
	// Allocating the plan again finds nobody left to credit.
	if _, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "alloc-2"); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("second allocation of the plan: %v, want invalid (nobody eligible)", err)
	}
	f.verify()
}

// A budget short of the total: nothing is recorded or held, and the error
// says how much is missing.
func TestAllocateShortBudgetChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	for range 3 {
		f.employee("impiegati", nil)
	}
	pl := f.plan(thisYear(map[string]int64{"impiegati": 100_00}))
	f.fund(f.company.ID, 120_00)
	_, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "short")
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.InsufficientFunds || ae.Fields["missing_cents"] != int64(180_00) {
		t.Fatalf("allocation on a short budget: %v (%+v), want insufficient_funds missing 180_00", err, ae)
	}
	if b := f.budget(); b.Available != 120_00 || b.PendingOut != 0 {
		t.Fatalf("budget after the refusal: %+v", b)
	}
	if list, _ := f.svc.Allocations(f.ctx, f.hrp(), pl.ID); len(list) != 0 {
		t.Fatalf("a refused allocation left %d rows", len(list))
	}
	// Once the money is there, the same key goes through.
	f.fund(f.company.ID, 180_00)
	if _, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "short"); err != nil {
		t.Fatal(err)
	}
}

// A bulk allocation and a single correction race for a budget that covers
// only one of them: exactly one succeeds, the other is refused, and the
// budget never goes below zero.
func TestAllocationRacingCorrectionOnlyOneWins(t *testing.T) {
	for round := range 5 {
		f := newFixture(t)
		f.category("impiegati")
		var first *uuid.UUID
		for range 4 {
			u := f.employee("impiegati", nil)
			if first == nil {
				first = &u.ID
			}
		}
		pl := f.plan(thisYear(map[string]int64{"impiegati": 50_00}))
		f.fund(f.company.ID, 200_00) // the allocation's 200, or the correction's 150: not both
		var wg sync.WaitGroup
		var allocErr, corrErr error
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, allocErr = f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "bulk")
		}()
		go func() {
			defer wg.Done()
			<-start
			_, corrErr = f.svc.Correct(f.ctx, f.hrp(), pl.ID, plans.CorrectionInput{UserID: *first, AmountCents: 150_00, Reason: "premio"}, "one")
		}()
		close(start)
		wg.Wait()
		if (allocErr == nil) == (corrErr == nil) {
			t.Fatalf("round %d: allocation %v, correction %v: want exactly one to succeed", round, allocErr, corrErr)
		}
		for _, err := range []error{allocErr, corrErr} {
			if err != nil && apperr.CodeOf(err) != apperr.InsufficientFunds {
				t.Fatalf("round %d: the loser got %v, want insufficient_funds", round, err)
			}
		}
		if _, err := f.svc.RunAllocations(f.ctx, 10); err != nil {
			t.Fatal(err)
		}
		b := f.budget()
		spent := int64(150_00)
		if allocErr == nil {
			spent = 200_00
		}
		if b.Posted != 200_00-spent || b.PendingOut != 0 {
			t.Fatalf("round %d: budget %+v after spending %d", round, b, spent)
		}
		f.verify()
	}
}

// An allocation that crashes mid-way (a chunk rolled back after its credits
// were posted) resumes: every employee is credited exactly once, and at
// every step what is held plus what is credited is the total.
func TestAllocationKilledMidwayResumesCreditingEachOnce(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	var users []uuid.UUID
	for range 7 {
		users = append(users, f.employee("impiegati", nil).ID)
	}
	pl := f.plan(thisYear(map[string]int64{"impiegati": 10_00}))
	f.fund(f.company.ID, 100_00)
	f.svc.SetChunk(2)
	crash := errors.New("killed")
	f.svc.SetAfterChunk(func(_ uuid.UUID, credited int) error {
		if credited == 4 {
			return crash // dies inside the second chunk, after posting it
		}
		return nil
	})
	a, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RunAllocation(f.ctx, a.ID); !errors.Is(err, crash) {
		t.Fatalf("run = %v, want the crash", err)
	}
	got, _ := f.svc.GetAllocation(f.ctx, f.hrp(), a.ID)
	b := f.budget()
	credited := 0
	for _, u := range users {
		for _, l := range f.lots(u) {
			credited += int(l.Amount)
		}
	}
	if got.Status != plans.Running || got.Credited != 2 || credited != 2*10_00 || b.PendingOut != 5*10_00 || b.Posted != 100_00-2*10_00 {
		t.Fatalf("after the crash: allocation %+v, credited %d, budget %+v", got, credited, b)
	}
	f.verify()

	f.svc.SetAfterChunk(nil)
	// Two workers resume it at once.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.RunAllocations(f.ctx, 5); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, u := range users {
		if lots := f.lots(u); len(lots) != 1 || lots[0].Amount != 10_00 {
			t.Fatalf("lots of %s = %+v, want exactly one credit of 10_00", u, lots)
		}
	}
	if b := f.budget(); b.Posted != 100_00-70_00 || b.PendingOut != 0 {
		t.Fatalf("budget at the end: %+v", b)
	}
	var mails int
	if err := f.db.Get(&mails, `SELECT count(*) FROM mail_outbox WHERE subject LIKE 'Hai ricevuto%'`); err != nil || mails != 7 {
		t.Fatalf("%d credit mails (%v), want 7", mails, err)
	}
	f.verify()
}

// Once credits are allocated a plan's money rules are frozen; its name
// may still change.
func TestAllocatedPlanMoneyRulesAreFrozen(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	f.employee("impiegati", nil)
	in := thisYear(map[string]int64{"impiegati": 100_00})
	pl := f.plan(in)
	in.Rules["impiegati"] = 200_00
	if _, err := f.svc.UpdatePlan(f.ctx, f.hrp(), pl.ID, in); err != nil {
		t.Fatalf("changing an unallocated plan: %v", err)
	}
	f.fund(f.company.ID, 500_00)
	a, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RunAllocation(f.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	in.Rules["impiegati"] = 300_00
	if _, err := f.svc.UpdatePlan(f.ctx, f.hrp(), pl.ID, in); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("changing the amount after allocation: %v, want conflict", err)
	}
	in.Rules["impiegati"] = 200_00
	in.EndsOn = in.EndsOn.AddDate(0, 0, -1)
	if _, err := f.svc.UpdatePlan(f.ctx, f.hrp(), pl.ID, in); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("changing the deadline after allocation: %v, want conflict", err)
	}
	in.EndsOn = in.EndsOn.AddDate(0, 0, 1)
	in.Name = "Welfare rinominato"
	if got, err := f.svc.UpdatePlan(f.ctx, f.hrp(), pl.ID, in); err != nil || got.Name != in.Name {
		t.Fatalf("renaming an allocated plan: %v", err)
	}
}

// Another company's plan and employee do not exist for this company.
func TestAnotherCompanysPlanAndEmployeeAreNotFound(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	mine := f.employee("impiegati", nil)
	pl := f.plan(thisYear(map[string]int64{"impiegati": 100_00}))
	other := newFixtureSharing(f)
	other.category("impiegati")
	theirs := other.employee("impiegati", nil)
	f.fund(f.company.ID, 1_000_00)
	if _, err := f.svc.Correct(f.ctx, f.hrp(), pl.ID, plans.CorrectionInput{UserID: theirs.ID, AmountCents: 10_00, Reason: "x"}, ""); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("correction to another company's employee: %v, want not_found", err)
	}
	if _, err := other.svc.Allocate(f.ctx, other.hrp(), pl.ID, ""); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("allocating another company's plan: %v, want not_found", err)
	}
	if _, err := f.svc.SaveEmployee(f.ctx, f.hrp(), plans.EmployeeInput{UserID: theirs.ID, Category: "impiegati"}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("editing another company's employee: %v, want not_found", err)
	}
	if _, err := f.svc.Correct(f.ctx, f.hrp(), pl.ID, plans.CorrectionInput{UserID: mine.ID, AmountCents: 10_00, Reason: "  "}, ""); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("correction without a reason: %v, want invalid", err)
	}
}
