package plans_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

// HR reads the report on the web (a chart with its table, small groups
// withheld) and downloads it as CSV; the API gives the same figures; an
// employee may not read it, nor may another company's HR name this
// company's plan.
func TestWelfareReportOnTheWebAndTheAPI(t *testing.T) {
	a := apptest.Start(t)
	ctx := t.Context()
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Acme")
	hrUser := k.User(company, auth.RoleCompanyAdmin)
	hr := hrUser.Principal()
	if _, err := a.Plans.SaveCategory(ctx, hr, "impiegati", "Impiegati"); err != nil {
		t.Fatal(err)
	}
	var emps []*identitytest.User
	for range 10 {
		e := k.User(company, auth.RoleEmployee)
		if _, err := a.Plans.SaveEmployee(ctx, hr, plans.EmployeeInput{UserID: e.ID, Category: "impiegati"}); err != nil {
			t.Fatal(err)
		}
		emps = append(emps, e)
	}
	fundBudget(t, a, company.ID.String(), 1_000_00)
	y := time.Now().Year()
	in := thisYear(map[string]int64{"impiegati": 50_00})
	in.Categories = append(in.Categories, "laundry")
	pl, err := a.Plans.CreatePlan(ctx, hr, in)
	if err != nil {
		t.Fatal(err)
	}
	al, err := a.Plans.Allocate(ctx, hr, pl.ID, "report-alloc")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); al.Status != plans.Done; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("allocation %+v does not finish", al)
		}
		if al, err = a.Plans.GetAllocation(ctx, hr, al.ID); err != nil {
			t.Fatal(err)
		}
	}
	payable := "provider:test:payable"
	if _, err := ledger.CreateAccount(ctx, a.DB, ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: ptr(int64(0))}); err != nil {
		t.Fatal(err)
	}
	// Five of ten use sport services; one of them also a laundry service
	// (a fringe benefit), a group of one: withheld.
	spend := func(key string, e *identitytest.User, cat string) {
		if _, err := ledger.Post(ctx, a.DB, ledger.Request{Key: key, Kind: "redemption",
			Postings: []ledger.Posting{{From: "employee:" + e.ID.String() + ":wallet", To: payable, Amount: 12_00, Category: cat}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range emps[:5] {
		spend(fmt.Sprint("sport-", i), e, "sport")
	}
	spend("laundry", emps[0], "laundry")

	web := k.Browser(a.URL(), hrUser)
	res, body := web.Get(fmt.Sprintf("/azienda/report?anno=%d", y))
	if res.StatusCode != 200 {
		t.Fatalf("report page: %d\n%s", res.StatusCode, body)
	}
	for _, want := range []string{`id="chart-participation"`, "<title id=\"chart-participation-title\">Partecipazione", ">50%<", `Dipendenti con credito">10</td><td data-label="Di cui l&#39;hanno usato">5</td>`,
		`id="chart-spend"`, `art. 51 c.2 lett. f</th><td data-label="Persone">5</td><td data-label="Importo">€ 60,00</td>`, "fringe benefit, art. 51 c.3</th><td colspan=\"2\" class=\"suppressed\">Meno di 5 persone",
		"/azienda/report.csv?anno=" + fmt.Sprint(y)} {
		if !strings.Contains(body, want) {
			t.Fatalf("the report page lacks %q:\n%s", want, body)
		}
	}
	// nothing expired yet: no chart of residuals, only its table saying so
	if strings.Contains(body, `id="chart-residuals"`) {
		t.Fatalf("the report draws an empty chart of residuals:\n%s", body)
	}
	if strings.Contains(body, "12,00") || strings.Contains(body, "Sport") || strings.Contains(body, "Lavanderia") {
		t.Fatalf("the report page shows a withheld figure or a service category:\n%s", body)
	}
	res, csv := web.Get(fmt.Sprintf("/azienda/report.csv?anno=%d&piano=%s", y, pl.ID))
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csv, ";art51_c2_f;5;60,00;") ||
		!strings.Contains(csv, ";art51_c3_fringe;<5;;") {
		t.Fatalf("report CSV: %d\n%s", res.StatusCode, csv)
	}
	if res, body := web.Get("/azienda/report?anno=1999"); res.StatusCode != 400 {
		t.Fatalf("year 1999: %d\n%s", res.StatusCode, body)
	}

	tok := k.Token(hrUser)
	var r struct {
		Participation []struct {
			RatePct int `json:"rate_pct"`
		} `json:"participation"`
		Spend []struct {
			TaxBucket  string `json:"tax_bucket"`
			Suppressed bool   `json:"suppressed"`
			Cents      int64  `json:"cents"`
		} `json:"spend"`
	}
	if st := call(t, a, "GET", fmt.Sprintf("/welfare-report?year=%d", y), tok, nil, &r); st != 200 || len(r.Participation) != 1 || r.Participation[0].RatePct != 50 ||
		len(r.Spend) != 2 || r.Spend[1].TaxBucket != "art51_c3_fringe" || !r.Spend[1].Suppressed || r.Spend[1].Cents != 0 {
		t.Fatalf("API report: %d %+v", st, r)
	}
	var e map[string]any
	if st := call(t, a, "GET", fmt.Sprintf("/welfare-report?year=%d", y), k.Token(emps[0]), nil, &e); st != 403 {
		t.Fatalf("an employee reading the report: %d", st)
	}
	if res, _ := k.Browser(a.URL(), emps[0]).Get("/azienda/report"); res.StatusCode != 403 {
		t.Fatalf("an employee opening the report page: %d", res.StatusCode)
	}
	other := k.User(k.Org(auth.OrgCompany, "Other"), auth.RoleCompanyAdmin)
	if st := call(t, a, "GET", fmt.Sprintf("/welfare-report?year=%d&plan_id=%s", y, pl.ID), k.Token(other), nil, &e); st != 404 {
		t.Fatalf("another company's plan: %d %v", st, e)
	}
}
