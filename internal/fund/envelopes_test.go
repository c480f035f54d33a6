package fund_test

import (
	"testing"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/fund/fundtest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Earmarking moves money from the pool to the envelope by a ledger
// posting, and the envelope's lots keep the companies' attribution.
func TestEarmarkKeepsAttribution(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	fundtest.Inflow(t, x.a.DB, x.fund.ID, x.companyA.ID, fund.SourceRedemption, 30000)
	fundtest.Inflow(t, x.a.DB, x.fund.ID, x.companyB.ID, fund.SourceRedemption, 20000)
	x.envelope(t, fund.ThemeEmergencies, 100000, 0)

	e, err := x.svc().Earmark(x.ctx, x.manager.Principal(), fund.ThemeEmergencies, 40000, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if e.Available != 40000 {
		t.Fatalf("envelope shows %d, want 40000", e.Available)
	}
	// The same form sent again earmarks once.
	if _, err := x.svc().Earmark(x.ctx, x.manager.Principal(), fund.ThemeEmergencies, 40000, "k1"); err != nil {
		t.Fatal(err)
	}
	pool := "fund:" + x.fund.ID.String() + ":pool"
	env := "fund:" + x.fund.ID.String() + ":envelope:emergencies"
	if got := balance(t, x, pool); got != 10000 {
		t.Fatalf("pool holds %d after one earmark of 400 of 500 euro, want 10000", got)
	}
	lots, err := ledger.Lots(x.ctx, x.a.DB, env)
	if err != nil {
		t.Fatal(err)
	}
	byCompany := map[string]int64{}
	for _, l := range lots {
		byCompany[l.Attrs["company"].(string)] += l.Remaining
	}
	if byCompany[x.companyA.ID.String()] != 30000 || byCompany[x.companyB.ID.String()] != 10000 {
		t.Fatalf("envelope lots by company %v, want A 30000 and B 10000 (oldest first)", byCompany)
	}

	// More than the pool holds: refused with what is available, nothing moves.
	_, err = x.svc().Earmark(x.ctx, x.manager.Principal(), fund.ThemeEmergencies, 10001, "")
	wantCode(t, err, apperr.InsufficientFunds)
	if got := balance(t, x, pool); got != 10000 {
		t.Fatalf("a refused earmark moved money: pool %d", got)
	}
	// Bad input names the field.
	_, err = x.svc().Earmark(x.ctx, x.manager.Principal(), fund.ThemeEmergencies, 0, "")
	if apperr.FieldOf(err) != "amount" {
		t.Fatalf("zero amount: %v", err)
	}
	_, err = x.svc().Earmark(x.ctx, x.manager.Principal(), fund.Theme("holidays"), 100, "")
	if apperr.FieldOf(err) != "theme" {
		t.Fatalf("unknown theme: %v", err)
	}
}

// Only a fund manager earmarks or sets caps; another fund sees only its own.
func TestEnvelopeRoles(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.envelope(t, fund.ThemeTraining, 5000, 0)
	_, err := x.svc().SetEnvelope(x.ctx, x.approver.Principal(), fund.ThemeTraining, 1)
	wantCode(t, err, apperr.Forbidden)
	_, err = x.svc().Earmark(x.ctx, x.worker.Principal(), fund.ThemeTraining, 1, "")
	wantCode(t, err, apperr.Forbidden)
	_, err = x.svc().Earmark(x.ctx, x.hr.Principal(), fund.ThemeTraining, 1, "")
	wantCode(t, err, apperr.Forbidden)
	list, err := x.svc().Envelopes(x.ctx, x.otherManager.Principal())
	if err != nil || len(list) != 0 {
		t.Fatalf("another fund sees %v, %v", list, err)
	}
	list, err = x.svc().Envelopes(x.ctx, x.worker.Principal())
	if err != nil || len(list) != 1 || list[0].YearlyCap != 5000 {
		t.Fatalf("the fund's case worker sees %v, %v", list, err)
	}
}

// A company admin gives from the budget: the pool gets a lot attributed
// to the company; a budget that holds less is refused with what it holds.
func TestDonation(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.envelope(t, fund.ThemeEmergencies, 1000, 0) // makes the fund known
	fundtest.Budget(t, x.a.DB, x.companyA.ID, 50000)

	d, err := x.svc().Donate(x.ctx, x.hr.Principal(), x.fund.ID, 20000, "gift-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := x.svc().Donate(x.ctx, x.hr.Principal(), x.fund.ID, 20000, "gift-1")
	if err != nil || again.ID != d.ID {
		t.Fatalf("retry gave %v, %v; want the first donation", again, err)
	}
	pool := "fund:" + x.fund.ID.String() + ":pool"
	lots, err := ledger.Lots(x.ctx, x.a.DB, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(lots) != 1 || lots[0].Amount != 20000 || lots[0].Attrs["company"] != x.companyA.ID.String() || lots[0].Attrs["source"] != fund.SourceDonation {
		t.Fatalf("pool lots after a donation: %+v", lots)
	}
	_, err = x.svc().Donate(x.ctx, x.hr.Principal(), x.fund.ID, 30001, "")
	wantCode(t, err, apperr.InsufficientFunds)
	var ae *apperr.Error
	if !errorsAs(err, &ae) || toInt(ae.Fields["available"]) != 30000 {
		t.Fatalf("refusal does not say what is available: %#v", err)
	}
	// A fund's staff cannot give from a company budget; an unknown fund is not found.
	_, err = x.svc().Donate(x.ctx, x.manager.Principal(), x.fund.ID, 100, "")
	wantCode(t, err, apperr.Forbidden)
	_, err = x.svc().Donate(x.ctx, x.hr.Principal(), x.companyB.ID, 100, "")
	wantCode(t, err, apperr.NotFound)
	list, err := x.svc().Donations(x.ctx, x.hr.Principal())
	if err != nil || len(list) != 1 {
		t.Fatalf("donations list %v, %v", list, err)
	}
	pl, err := x.svc().Pool(x.ctx, x.manager.Principal())
	if err != nil || pl.Available != 20000 || len(pl.Inflows) != 1 || pl.Inflows[0].Source != fund.SourceDonation || pl.Inflows[0].CompanyName != "Azienda A" {
		t.Fatalf("pool %+v, %v", pl, err)
	}
}
