package fund_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
)

// The API: the purpose header, the 404 for a colleague's case, maker ≠
// checker, 400 naming the IBAN, the batch file twice the same, executed
// twice a conflict.
func TestFundAPI(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 1_000_000, 100_000)
	x.settings(t)
	w, w2, ap, m := x.k.Token(x.worker), x.k.Token(x.worker2), x.k.Token(x.approver), x.k.Token(x.manager)
	purpose := []string{"X-Access-Purpose", "case_management"}
	intake := map[string]any{"identity": map[string]any{"first_name": "Mario", "last_name": "Rossi", "birth_date": "1980-01-01",
		"fiscal_code": marioCF}, "referral": "caritas", "consent_scope": "gestione", "consent_on": time.Now().Format(time.RFC3339)}
	if st, body := apptest.Call(t, x.a, "POST", "/fund/cases", w, intake); st != http.StatusBadRequest {
		t.Fatalf("a case read without a purpose: %d %v", st, body)
	}
	st, c := apptest.Call(t, x.a, "POST", "/fund/cases", w, intake, purpose...)
	if st != http.StatusCreated || c["pseudonym"] == nil {
		t.Fatalf("opening: %d %v", st, c)
	}
	caseID := c["id"].(string)
	if st, _ := apptest.Call(t, x.a, "GET", "/fund/cases/"+caseID, w2, nil, purpose...); st != http.StatusNotFound {
		t.Fatalf("a colleague read the case: %d", st)
	}
	if st, body := apptest.Call(t, x.a, "POST", "/fund/cases", w, intake, purpose...); st != http.StatusConflict || body["details"] == nil {
		t.Fatalf("duplicate: %d %v", st, body)
	}
	prop := map[string]any{"kind": "emergency_grant", "theme": "emergencies", "amount": 45000, "purpose": "affitto",
		"payee": map[string]any{"name": "Immobiliare Lariana S.r.l.", "iban": "IT60X0542811101000000123457", "reference": "Fattura 1"}}
	st, body := apptest.Call(t, x.a, "POST", "/fund/cases/"+caseID+"/interventions", w, prop, purpose...)
	if st != http.StatusBadRequest || body["details"].(map[string]any)["field"] != "iban" {
		t.Fatalf("bad IBAN: %d %v", st, body)
	}
	prop["payee"].(map[string]any)["iban"] = landlordIBAN
	st, in := apptest.Call(t, x.a, "POST", "/fund/cases/"+caseID+"/interventions", w, prop, purpose...)
	if st != http.StatusCreated {
		t.Fatalf("proposing: %d %v", st, in)
	}
	iid := in["id"].(string)
	if st, _ := apptest.Call(t, x.a, "POST", "/fund/interventions/"+iid+"/approval", w, nil); st != http.StatusForbidden {
		t.Fatalf("a case worker approved: %d", st)
	}
	if st, body := apptest.Call(t, x.a, "POST", "/fund/interventions/"+iid+"/approval", ap, nil); st != http.StatusOK || body["status"] != "approved" {
		t.Fatalf("approving: %d %v", st, body)
	}
	st, b := apptest.Call(t, x.a, "POST", "/fund/batches", m, map[string]any{"execution_on": time.Now().AddDate(0, 0, 2).Format(time.DateOnly)})
	if st != http.StatusCreated {
		t.Fatalf("batch: %d %v", st, b)
	}
	file := func() string {
		req, _ := http.NewRequest("GET", x.a.URL()+"/api/v1/fund/batches/"+b["id"].(string)+"/file", nil)
		req.Header.Set("Authorization", "Bearer "+m)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return string(raw)
	}
	if f1, f2 := file(), file(); f1 != f2 || len(f1) < 500 {
		t.Fatal("the API's file differs between downloads")
	}
	if st, _ := apptest.Call(t, x.a, "POST", "/fund/batches/"+b["id"].(string)+"/execution", m, nil); st != http.StatusOK {
		t.Fatalf("executing: %d", st)
	}
	if st, _ := apptest.Call(t, x.a, "POST", "/fund/batches/"+b["id"].(string)+"/execution", m, nil); st != http.StatusConflict {
		t.Fatalf("executing twice: %d", st)
	}
	st, attr := apptest.Call(t, x.a, "GET", "/fund/interventions/"+iid+"/attribution", m, nil)
	var sum float64
	for _, a := range attr["list"].([]any) {
		sum += a.(map[string]any)["amount"].(float64)
	}
	if st != http.StatusOK || sum != 45000 {
		t.Fatalf("attribution %d sums to %v", st, sum)
	}
	if st, body := apptest.Call(t, x.a, "GET", "/fund/dashboard", ap, nil); st != http.StatusOK || body["pool"] == nil {
		t.Fatalf("dashboard: %d %v", st, body)
	}
	if st, _ := apptest.Call(t, x.a, "GET", "/fund/access-log", w, nil); st != http.StatusForbidden {
		t.Fatalf("a case worker read the access log: %d", st)
	}
}
