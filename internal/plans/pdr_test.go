package plans_test

import (
	"sync"
	"testing"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/plans"
)

// pdrPlan creates an open PdR plan of this year whose residual goes to
// the pension fund.
func (f *fixture) pdrPlan(name string) plans.Plan {
	in := thisYear(nil)
	in.Name, in.Kind, in.ResidualPolicy = name, plans.PdR, plans.ResidualPensionFund
	return f.plan(in)
}

// HR records the bonuses (an income above the ceiling is refused), each
// employee chooses how much to convert within the bonus and the year's
// cap across PdR plans, and the allocation credits exactly the choices:
// after which neither the choice nor the bonus can change.
func TestPdRConversionFromChoiceToCredit(t *testing.T) {
	f := newFixture(t)
	f.category("operai")
	anna := f.employee("operai", nil)
	bruno := f.employee("operai", nil)
	carla := f.employee("operai", nil)
	pl := f.pdrPlan("Premio di risultato")
	rules, err := plans.RulesFor(f.ctx, f.db, pl.Year)
	if err != nil {
		t.Fatal(err)
	}
	cap := rules.PdRCap
	save := func(u *plans.PdRBonusInput) error {
		_, err := f.svc.SavePdRBonus(f.ctx, f.hrp(), pl.ID, *u)
		return err
	}
	if err := save(&plans.PdRBonusInput{UserID: anna.ID, BonusCents: cap + 1_000_00, PriorIncomeCents: 40_000_00}); err != nil {
		t.Fatal(err)
	}
	if err := save(&plans.PdRBonusInput{UserID: bruno.ID, BonusCents: 1_000_00, PriorIncomeCents: rules.PdRIncomeCeiling + 1}); apperr.FieldOf(err) != "prior_income_cents" {
		t.Fatalf("an income one cent above the ceiling: %v, want invalid prior_income_cents", err)
	}
	if err := save(&plans.PdRBonusInput{UserID: bruno.ID, BonusCents: 1_000_00, PriorIncomeCents: rules.PdRIncomeCeiling}); err != nil {
		t.Fatalf("an income at the ceiling: %v", err)
	}
	if err := save(&plans.PdRBonusInput{UserID: carla.ID, BonusCents: 500_00}); err != nil {
		t.Fatal(err)
	}
	g := newFixtureSharing(f)
	stranger := g.kit.User(g.company, "employee")
	if err := save(&plans.PdRBonusInput{UserID: stranger.ID, BonusCents: 1_00}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another company's employee: %v, want not_found", err)
	}
	ord := f.plan(thisYear(map[string]int64{"operai": 100}))
	if _, err := f.svc.SavePdRBonus(f.ctx, f.hrp(), ord.ID, plans.PdRBonusInput{UserID: anna.ID, BonusCents: 1_00}); apperr.FieldOf(err) != "plan" {
		t.Fatalf("a bonus on an ordinary plan: %v, want invalid plan", err)
	}

	offers, err := f.svc.MyPdROffers(f.ctx, anna.Principal())
	if err != nil || len(offers) != 1 || offers[0].MaxCents != cap || !offers[0].Open || offers[0].TaxRateBP != rules.PdRTaxRateBP {
		t.Fatalf("Anna's offers %+v, %v; want one of at most the cap %d", offers, err, cap)
	}
	if _, err := f.svc.ChoosePdR(f.ctx, anna.Principal(), pl.ID, cap+1); apperr.FieldOf(err) != "convert_cents" {
		t.Fatalf("converting one cent above the cap: %v", err)
	}
	if _, err := f.svc.ChoosePdR(f.ctx, anna.Principal(), pl.ID, 3_000_00); err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.ChoosePdR(f.ctx, anna.Principal(), pl.ID, 2_000_00) // she changes her mind
	if err != nil || o.ConvertCents == nil || *o.ConvertCents != 2_000_00 {
		t.Fatalf("changing the choice: %+v, %v", o, err)
	}
	if _, err := f.svc.ChoosePdR(f.ctx, bruno.Principal(), pl.ID, 0); err != nil { // all in cash
		t.Fatal(err)
	}
	if _, err := f.svc.ChoosePdR(f.ctx, stranger.Principal(), pl.ID, 1); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a choice without a bonus: %v, want not_found", err)
	}
	// A second PdR plan of the year: the cap counts what she converted
	// on the first.
	second := f.pdrPlan("Premio di produttività")
	if _, err := f.svc.SavePdRBonus(f.ctx, f.hrp(), second.ID, plans.PdRBonusInput{UserID: anna.ID, BonusCents: cap}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ChoosePdR(f.ctx, anna.Principal(), second.ID, cap-2_000_00+1); apperr.FieldOf(err) != "convert_cents" {
		t.Fatalf("the two plans' conversions one cent above the cap: %v", err)
	}

	f.fund(f.company.ID, 10_000_00)
	pv, err := f.svc.PreviewAllocation(f.ctx, f.hrp(), pl.ID)
	if err != nil || len(pv.Lines) != 1 || pv.Lines[0].UserID != anna.ID || pv.TotalCents != 2_000_00 || pv.Lines[0].Basis != "PdR" {
		t.Fatalf("preview %+v, %v; want Anna's 2.000 € only (Bruno chose cash, Carla has not chosen)", pv, err)
	}
	f.allocate(pl)
	lots := f.lots(anna.ID)
	if len(lots) != 1 || lots[0].Amount != 2_000_00 || lots[0].Attrs["plan_kind"] != "pdr" {
		t.Fatalf("Anna's lots %+v, want one PdR lot of 2.000 €", lots)
	}
	if b := f.budget(); b.Posted != 8_000_00 {
		t.Fatalf("budget %+v, want 8.000 € left", b)
	}
	if _, err := f.svc.ChoosePdR(f.ctx, anna.Principal(), pl.ID, 1_000_00); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("changing a credited choice: %v, want conflict", err)
	}
	if _, err := f.svc.SavePdRBonus(f.ctx, f.hrp(), pl.ID, plans.PdRBonusInput{UserID: anna.ID, BonusCents: 1_00}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("changing a credited bonus: %v, want conflict", err)
	}
	if _, err := f.svc.Correct(f.ctx, f.hrp(), pl.ID, plans.CorrectionInput{UserID: carla.ID, AmountCents: 1_00, Reason: "x"}, "c1"); apperr.FieldOf(err) != "plan" {
		t.Fatalf("an HR correction on a PdR plan: %v, want invalid plan", err)
	}
	// Carla chooses late; a second allocation credits her alone.
	if _, err := f.svc.ChoosePdR(f.ctx, carla.Principal(), pl.ID, 500_00); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "late")
	if err != nil || a.TotalCents != 500_00 || a.Employees != 1 {
		t.Fatalf("the late allocation %+v, %v", a, err)
	}
	if err := f.svc.RunAllocation(f.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if lots := f.lots(anna.ID); len(lots) != 1 {
		t.Fatalf("Anna credited twice: %+v", lots)
	}
	f.verify()
}

// Two choices at once on two PdR plans of the year, each within the cap
// but not together: exactly one is taken.
func TestPdRChoicesRacingStayUnderTheCap(t *testing.T) {
	f := newFixture(t)
	f.category("operai")
	anna := f.employee("operai", nil)
	p1, p2 := f.pdrPlan("Primo"), f.pdrPlan("Secondo")
	rules, err := plans.RulesFor(f.ctx, f.db, p1.Year)
	if err != nil {
		t.Fatal(err)
	}
	half := rules.PdRCap/2 + 1
	for _, pl := range []plans.Plan{p1, p2} {
		if _, err := f.svc.SavePdRBonus(f.ctx, f.hrp(), pl.ID, plans.PdRBonusInput{UserID: anna.ID, BonusCents: half}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pl := range []plans.Plan{p1, p2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.ChoosePdR(f.ctx, anna.Principal(), pl.ID, half)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two choices over the cap together: %v, %v; want exactly one refused", errs[0], errs[1])
	}
}
