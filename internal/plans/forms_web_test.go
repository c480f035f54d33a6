package plans_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/plans"
)

// wantFieldErrors fails unless body marks each field as at fault, next to
// it.
func wantFieldErrors(t *testing.T, what, body string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if !strings.Contains(body, `id="`+id+`-error"`) {
			t.Fatalf("%s: no message next to %s:\n%s", what, id, body)
		}
	}
}

// HR creates and edits a plan on the web, with every field at fault told
// at once; once credits are allocated only the name may change; a
// correction needs an employee, an amount and a reason, all told at
// once; a closed plan takes no more corrections.
func TestPlanFormsTellEveryFaultAtOnce(t *testing.T) {
	a := apptest.Start(t)
	ctx := t.Context()
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Acme")
	hrUser := k.User(company, auth.RoleCompanyAdmin)
	emp := k.User(company, auth.RoleEmployee)
	if _, err := a.Plans.SaveCategory(ctx, hrUser.Principal(), "impiegati", "Impiegati"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Plans.SaveEmployee(ctx, hrUser.Principal(), plans.EmployeeInput{UserID: emp.ID, Category: "impiegati"}); err != nil {
		t.Fatal(err)
	}
	hr := k.Browser(a.URL(), hrUser)
	y := time.Now().Year()
	res, body := hr.PostForm("/azienda/piani/nuovo", url.Values{"name": {" "}, "plan_year": {"duemila"}, "starts_on": {fmt.Sprintf("%d-01-01", y)},
		"ends_on": {"domani"}, "residual_policy": {"return"}, "amount_impiegati": {"tanti"}})
	if res.StatusCode != 400 {
		t.Fatalf("a plan with five faults: %d\n%s", res.StatusCode, body)
	}
	wantFieldErrors(t, "a plan with five faults", body, "name", "plan_year", "ends_on", "categories", "rules")
	if !strings.Contains(body, `value="tanti"`) || !strings.Contains(body, `value="duemila"`) {
		t.Fatalf("what was typed is lost:\n%s", body)
	}

	plan := url.Values{"name": {"Welfare"}, "plan_year": {fmt.Sprint(y)}, "starts_on": {fmt.Sprintf("%d-01-01", y)},
		"ends_on": {fmt.Sprintf("%d-12-31", y)}, "categories": {"sport"}, "residual_policy": {"return"}, "amount_impiegati": {"100,00"}}
	res, _ = follow(t, hr, "/azienda/piani/nuovo", plan)
	planPath := res.Request.URL.Path
	_, body = hr.Get(planPath + "/modifica")
	if !strings.Contains(body, `value="100,00"`) || !strings.Contains(body, `value="Welfare"`) {
		t.Fatalf("the edit form is not filled in:\n%s", body)
	}
	plan.Set("name", "Welfare aziendale")
	plan.Set("amount_impiegati", "120,00")
	if res, body := follow(t, hr, planPath+"/modifica", plan); res.StatusCode != 200 || !strings.Contains(body, "Welfare aziendale") ||
		!strings.Contains(body, "Impiegati: € 120,00") {
		t.Fatalf("editing the plan: %d\n%s", res.StatusCode, body)
	}

	// A correction: three faults at once, then one that the budget covers.
	res, body = hr.PostForm(planPath+"/correzioni", url.Values{"user_id": {""}, "amount": {"x"}, "reason": {" "}, "form_key": {"c0"}})
	if res.StatusCode != 400 {
		t.Fatalf("a correction with three faults: %d\n%s", res.StatusCode, body)
	}
	wantFieldErrors(t, "a correction with three faults", body, "correction-user", "correction-amount", "correction-reason")
	fundBudget(t, a, company.ID.String(), 50_00)
	if res, body := follow(t, hr, planPath+"/correzioni", url.Values{"user_id": {emp.ID.String()}, "amount": {"30,00"},
		"reason": {"assunta a fine anno"}, "form_key": {"c1"}}); res.StatusCode != 200 || !strings.Contains(body, "assunta a fine anno") {
		t.Fatalf("a correction: %d\n%s", res.StatusCode, body)
	}
	res, body = hr.PostForm(planPath+"/correzioni", url.Values{"user_id": {emp.ID.String()}, "amount": {"30,00"}, "reason": {"ancora"}, "form_key": {"c2"}})
	if res.StatusCode != 422 || !strings.Contains(body, "Mancano € 10,00") {
		t.Fatalf("a correction the budget does not cover: %d\n%s", res.StatusCode, body)
	}
	// Credits were given: the money rules are frozen, the name is not.
	plan.Set("amount_impiegati", "150,00")
	if res, body := hr.PostForm(planPath+"/modifica", plan); res.StatusCode != 409 || !strings.Contains(body, "puoi cambiare solo il nome") {
		t.Fatalf("changing a locked plan's amounts: %d\n%s", res.StatusCode, body)
	}
	plan.Set("amount_impiegati", "120,00")
	plan.Set("name", "Welfare 2")
	if res, body := follow(t, hr, planPath+"/modifica", plan); res.StatusCode != 200 || !strings.Contains(body, "Welfare 2") {
		t.Fatalf("renaming a locked plan: %d\n%s", res.StatusCode, body)
	}
	if res, body := follow(t, hr, planPath+"/chiudi", url.Values{}); res.StatusCode != 200 || !strings.Contains(body, `id="plan-closed"`) ||
		strings.Contains(body, `id="correction-form"`) {
		t.Fatalf("closing the plan: %d\n%s", res.StatusCode, body)
	}
	if res, _ := k.Browser(a.URL(), emp).PostForm(planPath+"/chiudi", url.Values{}); res.StatusCode != 403 {
		t.Fatalf("an employee closing a plan: %d", res.StatusCode)
	}
}
