package plans_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

// spend pays cents of user's wallet for a service of category, as a
// redemption does.
func (f *fixture) spend(user uuid.UUID, category string, cents int64) {
	f.t.Helper()
	payable := "provider:test:payable"
	if _, err := ledger.CreateAccount(f.ctx, f.db, ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: ptr(int64(0))}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := ledger.Post(f.ctx, f.db, ledger.Request{Key: fmt.Sprintf("test-spend-%d", f.n.Add(1)), Kind: "redemption",
		Postings: []ledger.Posting{{From: "employee:" + user.String() + ":wallet", To: payable, Amount: cents, Category: category}}}); err != nil {
		f.t.Fatal(err)
	}
}

// allocate allocates pl and runs the allocation to the end.
func (f *fixture) allocate(pl plans.Plan) {
	f.t.Helper()
	a, err := f.svc.Allocate(f.ctx, f.hrp(), pl.ID, "alloc-"+pl.ID.String())
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.RunAllocation(f.ctx, a.ID); err != nil {
		f.t.Fatal(err)
	}
}

// The report counts who used their credits, what they spent by tax
// bucket and where the residuals went; every figure about fewer than five
// people is withheld, in the data as in the CSV, and another company's
// plan is not found.
func TestWelfareReportSuppressesSmallGroups(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	var emps []uuid.UUID
	for range 12 {
		emps = append(emps, f.employee("impiegati", nil).ID)
	}
	f.fund(f.company.ID, 10_000_00)
	y := time.Now().Year()
	ord := f.plan(thisYear(map[string]int64{"impiegati": 100_00}))
	ordIn := thisYear(map[string]int64{"impiegati": 100_00})
	ordIn.Categories = []string{"childcare", "sport"}
	ordIn.Name = "Secondo piano"
	small := f.plan(ordIn)
	f.allocate(ord)
	// Six of twelve use the plan: 30 € of sport each; two of them also
	// 10 € of culture (same bucket), three others a childcare service
	// of another plan: a group of three, withheld.
	for _, u := range emps[:6] {
		f.spend(u, "sport", 30_00)
	}
	for _, u := range emps[:2] {
		f.spend(u, "culture", 10_00)
	}
	for _, u := range emps[6:9] {
		f.credit(small, u, 20_00, time.Now().AddDate(0, 1, 0))
		f.spend(u, "childcare", 15_00)
	}
	// Residuals: five people's expired credit of the first plan returns
	// to the budget; one person's of the second too (another group, the
	// same outcome: counted together in the year's scope).
	for _, u := range emps[:5] {
		f.expiredCredit(ord, u, 7_00)
	}
	f.expiredCredit(small, emps[6], 4_00)
	if _, err := f.svc.SweepExpiredLots(f.ctx, 100); err != nil {
		t.Fatal(err)
	}

	r, err := f.svc.WelfareReport(f.ctx, f.hrp(), plans.ReportFilter{Year: y})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Participation) != 2 {
		t.Fatalf("participation rows %+v, want one per plan", r.Participation)
	}
	p0, p1 := r.Participation[0], r.Participation[1]
	if p0.Plan.ID != ord.ID {
		p0, p1 = p1, p0
	}
	if p0.Plan.ID != ord.ID || p0.Suppressed || p0.Credited != 12 || p0.Users != 6 || p0.RatePct != 50 {
		t.Fatalf("participation of the first plan %+v, want 6 of 12 (50%%)", p0)
	}
	if !p1.Suppressed || p1.Credited != 0 || p1.Users != 0 {
		t.Fatalf("the second plan credited nobody through an allocation: %+v, want suppressed", p1)
	}
	wantSpend := []plans.SpendRow{{TaxBucket: "art51_c2_f", People: 6, Cents: 200_00}, {TaxBucket: "art51_c2_f_bis", Suppressed: true}}
	if fmt.Sprint(r.Spend) != fmt.Sprint(wantSpend) {
		t.Fatalf("spend %+v, want %+v", r.Spend, wantSpend)
	}
	wantRes := []plans.ResidualRow{{Outcome: "return", People: 6, Cents: 39_00}}
	if fmt.Sprint(r.Residuals) != fmt.Sprint(wantRes) {
		t.Fatalf("residuals %+v, want %+v", r.Residuals, wantRes)
	}

	// One plan alone: the second plan's spending is three people's.
	r2, err := f.svc.WelfareReport(f.ctx, f.hrp(), plans.ReportFilter{Year: y, PlanID: &small.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Participation) != 1 || len(r2.Spend) != 1 || !r2.Spend[0].Suppressed || r2.Spend[0].Cents != 0 ||
		len(r2.Residuals) != 1 || !r2.Residuals[0].Suppressed {
		t.Fatalf("the second plan's report %+v", r2)
	}

	var b bytes.Buffer
	if err := f.svc.WriteReportCSV(f.ctx, f.hrp(), plans.ReportFilter{Year: y}, &b); err != nil {
		t.Fatal(err)
	}
	csv := b.String()
	for _, want := range []string{"sezione;piano;voce;persone;importo;percentuale", ";utilizzatori;6 su 12;;50", "spesa;tutti i piani " + fmt.Sprint(y) + ";art51_c2_f;6;200,00;",
		";art51_c2_f_bis;<5;;", "residui;tutti i piani " + fmt.Sprint(y) + ";return;6;39,00;"} {
		if !strings.Contains(csv, want) {
			t.Fatalf("the CSV lacks %q:\n%s", want, csv)
		}
	}
	if strings.Contains(csv, "45,00") || strings.Contains(csv, "sport") || strings.Contains(csv, "childcare") {
		t.Fatalf("the CSV shows a withheld figure or a service category:\n%s", csv)
	}

	g := newFixtureSharing(f)
	if _, err := g.svc.WelfareReport(g.ctx, g.hrp(), plans.ReportFilter{Year: y, PlanID: &ord.ID}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another company's plan: %v, want not_found", err)
	}
	if r, err := g.svc.WelfareReport(g.ctx, g.hrp(), plans.ReportFilter{Year: y}); err != nil || len(r.Plans) != 0 || len(r.Spend) != 0 {
		t.Fatalf("another company's report: %+v, %v; want empty", r, err)
	}
	if _, err := f.svc.WelfareReport(f.ctx, f.hrp(), plans.ReportFilter{Year: 1999}); apperr.FieldOf(err) != "year" {
		t.Fatalf("year 1999: %v, want invalid year", err)
	}
}
