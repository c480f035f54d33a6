package plans_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

// call sends a JSON request to the API and decodes the answer into out.
func call(t testing.TB, a *app.App, method, path, token string, body, out any, headers ...string) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.URL()+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %q", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode
}

// HR sets up employees and a plan through the API and allocates it; the
// worker credits everyone; the employee reads the credits and their expiry
// through the API and on the wallet page.
func TestAllocationThroughTheAPIAndTheWalletPage(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Acme")
	hr := k.User(company, auth.RoleCompanyAdmin)
	tok := k.Token(hr)
	var emps []*identitytest.User
	for range 3 {
		emps = append(emps, k.User(company, auth.RoleEmployee))
	}
	if st := call(t, a, "POST", "/employee-categories", tok, map[string]any{"code": "impiegati", "name": "Impiegati"}, nil); st != 200 {
		t.Fatalf("category: %d", st)
	}
	for _, e := range emps {
		var got map[string]any
		if st := call(t, a, "PUT", "/employees/"+e.ID.String(), tok, map[string]any{"category": "impiegati", "tax_code": "RSSMRA80A01F205X"}, &got); st != 200 {
			t.Fatalf("employee: %d %v", st, got)
		}
	}
	y := time.Now().Year()
	var pl map[string]any
	st := call(t, a, "POST", "/plans", tok, map[string]any{"name": "Welfare", "plan_year": y, "starts_on": fmt.Sprintf("%d-01-01", y),
		"ends_on": fmt.Sprintf("%d-12-31", y), "categories": []string{"sport"}, "residual_policy": "return",
		"rules": []map[string]any{{"category": "impiegati", "amount_cents": 120_00}}}, &pl)
	if st != 201 {
		t.Fatalf("plan: %d %v", st, pl)
	}
	planID := pl["id"].(string)
	var bad map[string]any
	if st := call(t, a, "POST", "/plans", tok, map[string]any{"name": "x", "plan_year": y, "starts_on": fmt.Sprintf("%d-06-01", y),
		"ends_on": fmt.Sprintf("%d-01-01", y), "categories": []string{"sport"}, "residual_policy": "return",
		"rules": []map[string]any{{"category": "impiegati", "amount_cents": 1}}}, &bad); st != 400 || bad["details"].(map[string]any)["field"] != "ends_on" {
		t.Fatalf("plan ending before it starts: %d %v", st, bad)
	}

	var short map[string]any
	if st := call(t, a, "POST", "/plans/"+planID+"/allocations", tok, nil, &short, "Idempotency-Key", "k1"); st != 422 ||
		short["details"].(map[string]any)["missing_cents"] != float64(360_00) {
		t.Fatalf("allocation on an empty budget: %d %v", st, short)
	}
	fundBudget(t, a, company.ID.String(), 400_00)
	var alloc, again map[string]any
	if st := call(t, a, "POST", "/plans/"+planID+"/allocations", tok, nil, &alloc, "Idempotency-Key", "k1"); st != 202 {
		t.Fatalf("allocation: %d %v", st, alloc)
	}
	if st := call(t, a, "POST", "/plans/"+planID+"/allocations", tok, nil, &again, "Idempotency-Key", "k1"); st != 202 || again["id"] != alloc["id"] {
		t.Fatalf("the same key again: %d %v, want allocation %v", st, again, alloc["id"])
	}
	started := time.Now()
	deadline := started.Add(10 * time.Second)
	for alloc["status"] != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("allocation still %v", alloc)
		}
		time.Sleep(50 * time.Millisecond)
		call(t, a, "GET", "/allocations/"+alloc["id"].(string), tok, nil, &alloc)
	}
	t.Logf("credited in %v", time.Since(started))

	var w struct {
		BalanceCents int64 `json:"balance_cents"`
		Lots         []struct {
			LastDay string `json:"last_day"`
		} `json:"lots"`
	}
	if st := call(t, a, "GET", "/me/wallet", k.Token(emps[0]), nil, &w); st != 200 || w.BalanceCents != 120_00 || len(w.Lots) != 1 || w.Lots[0].LastDay != fmt.Sprintf("%d-12-31", y) {
		t.Fatalf("wallet: %d %+v", st, w)
	}
	req, _ := http.NewRequest("GET", a.URL()+fmt.Sprintf("/api/v1/payroll-export?year=%d", y), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(raw), "codice_fiscale;matricola;anno") {
		t.Fatalf("payroll export: %d %q", res.StatusCode, raw)
	}
	var room map[string]any
	if st := call(t, a, "POST", "/employees/"+emps[1].ID.String()+"/fringe-outside", tok, map[string]any{"tax_year": y, "kind": "fuel", "amount_cents": 250_00}, &room); st != 201 ||
		room["remaining_cents"] != float64(750_00) {
		t.Fatalf("recording an outside benefit: %d %v", st, room)
	}
	if st := call(t, a, "GET", fmt.Sprintf("/me/fringe-room?year=%d", y), k.Token(emps[1]), nil, &room); st != 200 || room["outside_cents"] != float64(250_00) ||
		room["ceiling_cents"] != float64(1_000_00) {
		t.Fatalf("the employee's fringe room: %d %v", st, room)
	}
	var forbidden map[string]any
	if st := call(t, a, "GET", "/plans", k.Token(emps[0]), nil, &forbidden); st != 403 {
		t.Fatalf("an employee listing plans: %d", st)
	}
	// Another company's HR admin sees none of it.
	other := k.User(k.Org(auth.OrgCompany, "Other"), auth.RoleCompanyAdmin)
	if st := call(t, a, "GET", "/plans/"+planID, k.Token(other), nil, &forbidden); st != 404 {
		t.Fatalf("another company's plan: %d", st)
	}
	if st := call(t, a, "PUT", "/employees/"+emps[0].ID.String(), k.Token(other), map[string]any{"category": "impiegati"}, &forbidden); st != 404 {
		t.Fatalf("another company's employee: %d", st)
	}

	res, body := k.Browser(a.URL(), emps[0]).Get(plans.WalletPath)
	want := fmt.Sprintf("scade il 31/12/%d", y)
	if res.StatusCode != 200 || !strings.Contains(body, "Sport e benessere") || !strings.Contains(body, want) || !strings.Contains(body, "120,00") {
		t.Fatalf("wallet page (%d) lacks the credit, its category or %q:\n%s", res.StatusCode, want, body)
	}
	res, body = k.Browser(a.URL(), hr).Get("/azienda/piani/" + planID)
	if res.StatusCode != 200 || !strings.Contains(body, "3/3") {
		t.Fatalf("plan page (%d) does not show the finished allocation:\n%s", res.StatusCode, body)
	}
}

// fundBudget tops up a company's budget from the bank account.
func fundBudget(t testing.TB, a *app.App, company string, cents int64) {
	t.Helper()
	ctx := t.Context()
	if _, err := ledger.CreateAccount(ctx, a.DB, ledger.AccountSpec{Path: "platform:bank", Kind: ledger.Asset}); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.CreateAccount(ctx, a.DB, ledger.AccountSpec{Path: "company:" + company + ":budget", Kind: ledger.Liability, Floor: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Post(ctx, a.DB, ledger.Request{Key: "test-topup-" + company + fmt.Sprint(cents), Kind: "topup",
		Postings: []ledger.Posting{{From: "platform:bank", To: "company:" + company + ":budget", Amount: cents}}}); err != nil {
		t.Fatal(err)
	}
}
