package fund_test

import (
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/fund/fundtest"
)

const landlordIBAN = "IT60X0542811101000000123456"

func grant(amount int64) fund.Proposal {
	return fund.Proposal{Kind: fund.KindEmergencyGrant, Theme: fund.ThemeEmergencies, Amount: amount,
		Purpose: "affitto arretrato di ottobre", Payee: fund.Payee{Name: "Immobiliare Lariana S.r.l.", IBAN: landlordIBAN,
			Reference: "Fattura 2026/118", Street: "Via Cavour", Building: "12", PostCode: "23900", Town: "Lecco"}}
}

// funded gives the fund an emergencies envelope holding fill with a cap.
func (x *kit) funded(t *testing.T, cap, fill int64) {
	t.Helper()
	fundtest.Inflow(t, x.a.DB, x.fund.ID, x.companyA.ID, fund.SourceRedemption, fill/2+fill%2)
	fundtest.Inflow(t, x.a.DB, x.fund.ID, x.companyB.ID, fund.SourceRedemption, fill/2)
	x.envelope(t, fund.ThemeEmergencies, cap, fill)
}

func (x *kit) propose(t *testing.T, c fund.Case, p fund.Proposal) fund.Intervention {
	t.Helper()
	in, err := x.svc().Propose(x.ctx, reader(x.worker), c.ID, p, "")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// Maker ≠ checker; above the threshold two different approvers; the
// threshold counts the case's last 12 months, so two grants just under it
// still need two.
func TestFourEyes(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 1_000_000, 500_000)
	c := x.open(t, mario())
	env := "fund:" + x.fund.ID.String() + ":envelope:emergencies"

	// A case worker who is also an approver cannot approve what they proposed.
	both := x.k.User(x.fund, auth.RoleCaseWorker, auth.RoleFundApprover)
	if err := x.svc().AssignCase(x.ctx, x.manager.Principal(), c.ID, both.ID); err != nil {
		t.Fatal(err)
	}
	own, err := x.svc().Propose(x.ctx, reader(both), c.ID, grant(10000), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.svc().Approve(x.ctx, both.Principal(), own.ID)
	wantCode(t, err, apperr.Forbidden)
	_, err = x.svc().Approve(x.ctx, x.worker.Principal(), own.ID)
	wantCode(t, err, apperr.Forbidden)
	got, err := x.svc().Approve(x.ctx, x.approver.Principal(), own.ID)
	if err != nil || got.Status != fund.StatusApproved || got.ApprovalsNeeded != 1 {
		t.Fatalf("one approval under the threshold: %+v %v", got, err)
	}
	if balance(t, x, env) != 490_000 || balance(t, x, "fund:"+x.fund.ID.String()+":committed:"+own.ID.String()) != 10000 {
		t.Fatal("approval did not move the money to the commitment")
	}
	// Cumulative: 100 + 450 > 500 euro in 12 months → two approvers.
	second := x.propose(t, c, grant(45000))
	got, err = x.svc().Approve(x.ctx, x.approver.Principal(), second.ID)
	if err != nil || got.Status != fund.StatusProposed || got.ApprovalsNeeded != 2 || got.Approvals != 1 {
		t.Fatalf("first of two approvals: %+v %v", got, err)
	}
	if balance(t, x, env) != 490_000 {
		t.Fatal("money moved before the second approval")
	}
	_, err = x.svc().Approve(x.ctx, x.approver.Principal(), second.ID)
	wantCode(t, err, apperr.Conflict) // the same approver twice is not two approvers
	got, err = x.svc().Approve(x.ctx, x.approver2.Principal(), second.ID)
	if err != nil || got.Status != fund.StatusApproved {
		t.Fatalf("second approver: %+v %v", got, err)
	}
	// A rejection needs a reason, and the proposer cannot reject either.
	third := x.propose(t, c, grant(5000))
	_, err = x.svc().Reject(x.ctx, x.approver.Principal(), third.ID, " ")
	if apperr.FieldOf(err) != "reason" {
		t.Fatalf("rejection without reason: %v", err)
	}
	got, err = x.svc().Reject(x.ctx, x.approver.Principal(), third.ID, "il contratto d'affitto è già coperto")
	if err != nil || got.Status != fund.StatusRejected {
		t.Fatalf("rejection: %+v %v", got, err)
	}
	_, err = x.svc().Approve(x.ctx, x.approver2.Principal(), third.ID)
	wantCode(t, err, apperr.Conflict)
	// Every step is in the case's history.
	h, err := x.svc().History(x.ctx, reader(x.worker), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range h {
		events = append(events, e.Event)
	}
	want := []string{"opened", "assigned", "intervention_proposed", "intervention_approved", "intervention_proposed",
		"intervention_approval", "intervention_approved", "intervention_proposed", "intervention_rejected"}
	if len(events) != len(want) {
		t.Fatalf("history %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("history %v, want %v", events, want)
		}
	}
}

// 20 approvals at once on an envelope that covers 5: exactly 5 succeed,
// the others are refused for lack of funds, and the envelope ends at 0.
func TestConcurrentApprovals(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 10_000_000, 5*10000)
	var ids []uuid.UUID
	for i := 0; i < 20; i++ {
		c := x.open(t, &fund.Identity{FirstName: "Persona", LastName: "Numero" + string(rune('A'+i)), BirthDate: "1970-01-01"})
		ids = append(ids, x.propose(t, c, grant(10000)).ID)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			approver := x.approver
			if i%2 == 1 {
				approver = x.approver2
			}
			_, errs[i] = x.svc().Approve(x.ctx, approver.Principal(), id)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case apperr.CodeOf(err) != apperr.InsufficientFunds:
			t.Errorf("unexpected refusal: %v", err)
		}
	}
	if ok != 5 {
		t.Fatalf("%d approvals succeeded, want exactly 5", ok)
	}
	if got := balance(t, x, "fund:"+x.fund.ID.String()+":envelope:emergencies"); got != 0 {
		t.Fatalf("envelope holds %d after the approvals", got)
	}
}

// The yearly cap bounds what approvals commit, whatever the envelope holds.
func TestYearlyCap(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 25000, 100000)
	c := x.open(t, mario())
	first := x.propose(t, c, grant(20000))
	if _, err := x.svc().Approve(x.ctx, x.approver.Principal(), first.ID); err != nil {
		t.Fatal(err)
	}
	other := x.open(t, &fund.Identity{FirstName: "Anna", LastName: "Neri", BirthDate: "1985-04-04"})
	second := x.propose(t, other, grant(10000))
	_, err := x.svc().Approve(x.ctx, x.approver.Principal(), second.ID)
	wantCode(t, err, apperr.InsufficientFunds)
	var ae *apperr.Error
	if !errorsAs(err, &ae) || toInt(ae.Fields["available"]) != 5000 || ae.Fields["limit"] != "yearly_cap" {
		t.Fatalf("cap refusal does not say what is left: %#v", err)
	}
	// A cancelled approval frees its part of the cap and returns the money.
	if _, err := x.svc().Cancel(x.ctx, x.manager.Principal(), first.ID, "il padrone di casa ha rinunciato"); err != nil {
		t.Fatal(err)
	}
	if _, err := x.svc().Approve(x.ctx, x.approver.Principal(), second.ID); err != nil {
		t.Fatalf("after the cancellation: %v", err)
	}
	if got := balance(t, x, "fund:"+x.fund.ID.String()+":envelope:emergencies"); got != 90000 {
		t.Fatalf("envelope after cancel and approval: %d, want 90000", got)
	}
}

// A bad IBAN or missing payee details name the field; a proposal on a
// case the worker does not hold is not found.
func TestProposalValidation(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 100000, 100000)
	c := x.open(t, mario())
	bad := grant(1000)
	bad.Payee.IBAN = "IT60X0542811101000000123457"
	_, err := x.svc().Propose(x.ctx, reader(x.worker), c.ID, bad, "")
	if apperr.FieldOf(err) != "iban" {
		t.Fatalf("bad IBAN: %v", err)
	}
	noRef := grant(1000)
	noRef.Payee.Reference = ""
	if _, err := x.svc().Propose(x.ctx, reader(x.worker), c.ID, noRef, ""); apperr.FieldOf(err) != "reference" {
		t.Fatalf("no reference: %v", err)
	}
	if _, err := x.svc().Propose(x.ctx, reader(x.worker2), c.ID, grant(1000), ""); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unassigned worker proposed: %v", err)
	}
	svc := grant(1000)
	svc.Kind = fund.KindCatalogueService
	if _, err := x.svc().Propose(x.ctx, reader(x.worker), c.ID, svc, ""); apperr.FieldOf(err) != "provider_id" {
		t.Fatalf("catalogue service to a creditor: %v", err)
	}
}
