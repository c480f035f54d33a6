package plans_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/plans"
)

// HR records a bonus on the plan page (every unreadable field told at
// once, next to it), the employee converts part of it on their wallet
// page (a choice above the cap told next to the amount), and the API
// shows the same choice to both.
func TestPdRBonusAndChoiceOnTheWebAndTheAPI(t *testing.T) {
	a := apptest.Start(t)
	ctx := t.Context()
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Acme")
	hrUser := k.User(company, auth.RoleCompanyAdmin)
	emp := k.User(company, auth.RoleEmployee)
	if _, err := a.Plans.SaveCategory(ctx, hrUser.Principal(), "operai", "Operai"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Plans.SaveEmployee(ctx, hrUser.Principal(), plans.EmployeeInput{UserID: emp.ID, Category: "operai"}); err != nil {
		t.Fatal(err)
	}
	in := thisYear(nil)
	in.Name, in.Kind, in.ResidualPolicy = "Premio di risultato", plans.PdR, plans.ResidualPayroll
	pl, err := a.Plans.CreatePlan(ctx, hrUser.Principal(), in)
	if err != nil {
		t.Fatal(err)
	}
	planPath := "/azienda/piani/" + pl.ID.String()
	hr := k.Browser(a.URL(), hrUser)
	res, body := hr.PostForm(planPath+"/premi", url.Values{"user_id": {""}, "bonus": {"tanti"}, "prior_income": {"-3"}})
	if res.StatusCode != 400 || !strings.Contains(body, `id="bonus-user-error"`) || !strings.Contains(body, `id="bonus-amount-error"`) ||
		!strings.Contains(body, `id="bonus-income-error"`) || !strings.Contains(body, `value="tanti"`) {
		t.Fatalf("three unreadable fields are not all told at once: %d\n%s", res.StatusCode, body)
	}
	res, body = hr.PostForm(planPath+"/premi", url.Values{"user_id": {emp.ID.String()}, "bonus": {"2.000,00"}, "prior_income": {"95.000"}})
	if res.StatusCode != 400 || !strings.Contains(body, "oltre il limite di legge") {
		t.Fatalf("an income above the ceiling: %d\n%s", res.StatusCode, body)
	}
	if res, body := follow(t, hr, planPath+"/premi", url.Values{"user_id": {emp.ID.String()}, "bonus": {"7.000,00"}, "prior_income": {"40.000"}}); res.StatusCode != 200 ||
		!strings.Contains(body, "7.000,00") || !strings.Contains(body, "non ha ancora scelto") {
		t.Fatalf("recording the bonus: %d\n%s", res.StatusCode, body)
	}

	web := k.Browser(a.URL(), emp)
	_, body = web.Get(plans.WalletPath)
	if !strings.Contains(body, "Premio di risultato: convertilo in welfare") || !strings.Contains(body, "7.000,00") || !strings.Contains(body, "5.000,00") {
		t.Fatalf("the wallet does not offer the bonus with the 2026 cap of 5.000 €:\n%s", body)
	}
	choose := plans.WalletPath + "/premio/" + pl.ID.String()
	res, body = web.PostForm(choose, url.Values{"convert": {"6.000,00"}})
	if res.StatusCode != 400 || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "Indica un importo tra 0") || !strings.Contains(body, `value="6.000,00"`) {
		t.Fatalf("converting above the cap: %d\n%s", res.StatusCode, body)
	}
	if res, body := follow(t, web, choose, url.Values{"convert": {"1.500,00"}}); res.StatusCode != 200 || !strings.Contains(body, "Hai scelto di convertire <strong>€ 1.500,00</strong>") {
		t.Fatalf("converting 1.500 €: %d\n%s", res.StatusCode, body)
	}

	var offers []map[string]any
	if st := call(t, a, "GET", "/me/pdr-offers", k.Token(emp), nil, &offers); st != 200 || len(offers) != 1 || offers[0]["convert_cents"] != float64(1_500_00) {
		t.Fatalf("the employee's offers through the API: %d %v", st, offers)
	}
	var o map[string]any
	if st := call(t, a, "PUT", "/me/pdr-offers/"+pl.ID.String(), k.Token(emp), map[string]any{"convert_cents": 0}, &o); st != 200 || o["convert_cents"] != float64(0) {
		t.Fatalf("choosing all in cash through the API: %d %v", st, o)
	}
	var bonuses []map[string]any
	if st := call(t, a, "GET", "/plans/"+pl.ID.String()+"/pdr-bonuses", k.Token(hrUser), nil, &bonuses); st != 200 || len(bonuses) != 1 || bonuses[0]["convert_cents"] != float64(0) {
		t.Fatalf("HR's list of bonuses: %d %v", st, bonuses)
	}
	if st := call(t, a, "PUT", "/plans/"+pl.ID.String()+"/pdr-bonuses/"+emp.ID.String(), k.Token(emp), map[string]any{"bonus_cents": 1, "prior_income_cents": 0}, &o); st != 403 {
		t.Fatalf("an employee recording their own bonus: %d", st)
	}
	other := k.User(k.Org(auth.OrgCompany, "Other"), auth.RoleCompanyAdmin)
	if st := call(t, a, "PUT", "/plans/"+pl.ID.String()+"/pdr-bonuses/"+emp.ID.String(), k.Token(other), map[string]any{"bonus_cents": 1, "prior_income_cents": 0}, &o); st != 404 {
		t.Fatalf("another company's HR on this plan: %d %v", st, o)
	}
}
