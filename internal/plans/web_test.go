package plans_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// HR does it all on the web, in Italian: a category, an employee's HR
// data, a plan, a refused allocation (the budget is short, and the page
// says by how much), then the allocation; the employee's wallet shows it.
func TestHRSetsUpAndAllocatesAPlanOnTheWeb(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Acme")
	hr := k.Browser(a.URL(), k.User(company, auth.RoleCompanyAdmin))
	emp := k.User(company, auth.RoleEmployee)

	if res, body := hr.PostForm("/azienda/dipendenti/categorie", url.Values{"code": {"Impiegati!"}, "name": {"Impiegati"}}); res.StatusCode != 400 ||
		!strings.Contains(body, "lettere minuscole") {
		t.Fatalf("a bad category code: %d\n%s", res.StatusCode, body)
	}
	if res, body := follow(t, hr, "/azienda/dipendenti/categorie", url.Values{"code": {"impiegati"}, "name": {"Impiegati"}}); res.StatusCode != 200 ||
		!strings.Contains(body, "Impiegati") {
		t.Fatalf("adding a category: %d\n%s", res.StatusCode, body)
	}
	if res, body := hr.PostForm("/azienda/dipendenti/"+emp.ID.String(), url.Values{"category": {"impiegati"}, "tax_code": {"RSSMRA80A01F205"},
		"part_time_pct": {"100"}}); res.StatusCode != 400 || !strings.Contains(body, "codice fiscale non è valido") {
		t.Fatalf("a short tax code: %d\n%s", res.StatusCode, body)
	}
	if res, body := follow(t, hr, "/azienda/dipendenti/"+emp.ID.String(), url.Values{"category": {"impiegati"}, "tax_code": {"rssmra80a01f205x"},
		"part_time_pct": {"50"}, "employee_number": {"M-7"}}); res.StatusCode != 200 || !strings.Contains(body, "M-7") {
		t.Fatalf("saving the employee: %d\n%s", res.StatusCode, body)
	}

	y := time.Now().Year()
	plan := url.Values{"name": {"Welfare " + fmt.Sprint(y)}, "plan_year": {fmt.Sprint(y)}, "starts_on": {fmt.Sprintf("%d-06-01", y)},
		"ends_on": {fmt.Sprintf("%d-01-31", y)}, "categories": {"sport", "culture"}, "residual_policy": {"return"}, "amount_impiegati": {"300,00"}}
	if res, body := hr.PostForm("/azienda/piani/nuovo", plan); res.StatusCode != 400 || !strings.Contains(body, "La scadenza non può essere prima") {
		t.Fatalf("a plan ending before it starts: %d\n%s", res.StatusCode, body)
	}
	plan.Set("ends_on", fmt.Sprintf("%d-12-31", y))
	res, body := follow(t, hr, "/azienda/piani/nuovo", plan)
	if res.StatusCode != 200 || !strings.Contains(body, "150,00") || !strings.Contains(body, "12/12 × 50%") {
		t.Fatalf("the new plan's page does not preview 150,00 for the half-time employee: %d\n%s", res.StatusCode, body)
	}
	planPath := res.Request.URL.Path

	if res, body := hr.PostForm(planPath+"/assegna", url.Values{"form_key": {"f1"}}); res.StatusCode != 422 || !strings.Contains(body, "Mancano € 150,00") {
		t.Fatalf("allocating on an empty budget: %d\n%s", res.StatusCode, body)
	}
	fundBudget(t, a, company.ID.String(), 200_00)
	if res, _ := follow(t, hr, planPath+"/assegna", url.Values{"form_key": {"f2"}}); res.StatusCode != 200 {
		t.Fatalf("allocating: %d", res.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = hr.Get(planPath)
		if strings.Contains(body, "1/1") && strings.Contains(body, "Completata") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the allocation does not finish:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, body := hr.Get("/azienda/paghe.csv"); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(body, "codice_fiscale;matricola") {
		t.Fatalf("payroll export: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if _, body := hr.Get("/azienda/dipendenti"); !strings.Contains(body, "150,00") {
		t.Fatalf("the employee list does not show the balance:\n%s", body)
	}
	_, body = k.Browser(a.URL(), emp).Get("/portafoglio")
	if !strings.Contains(body, "150,00") || !strings.Contains(body, fmt.Sprintf("scade il 31/12/%d", y)) || !strings.Contains(body, "Cultura e tempo libero, Sport e benessere") {
		t.Fatalf("the wallet page lacks the credit:\n%s", body)
	}
	if !strings.Contains(body, "1.000,00") {
		t.Fatalf("the wallet page lacks the fringe ceiling:\n%s", body)
	}
	empWeb := k.Browser(a.URL(), emp)
	if res, body := empWeb.PostForm("/portafoglio/figli", url.Values{"tax_codes": {"XYZ"}, "valid_from": {fmt.Sprintf("%d-01-01", y)}}); res.StatusCode != 400 ||
		!strings.Contains(body, "codice fiscale non è valido") {
		t.Fatalf("a bad child's tax code: %d\n%s", res.StatusCode, body)
	}
	if _, body := follow(t, empWeb, "/portafoglio/figli", url.Values{"tax_codes": {"rssmra15a01f205x"}, "valid_from": {fmt.Sprintf("%d-01-01", y)}}); !strings.Contains(body, "2.000,00") ||
		!strings.Contains(body, "con figli a carico") {
		t.Fatalf("after declaring a child the ceiling is not €2.000:\n%s", body)
	}
}

// follow submits a form that answers with a redirect (303) and fetches
// where it leads.
func follow(t *testing.T, b *identitytest.Browser, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, body := b.PostForm(path, form)
	if res.StatusCode != http.StatusSeeOther {
		return res, body
	}
	return b.Get(res.Header.Get("Location"))
}
