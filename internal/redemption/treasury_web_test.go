package redemption_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
)

// The treasury through the API and the admin's page: a move recorded
// twice with one key is one move; more than the bank holds is refused on
// the page, in Italian, with what it holds; a provider cannot see it.
func TestTreasuryAPIAndPage(t *testing.T) {
	w := newAppWorld(t) // the employee's 40 euro reached platform:bank
	adminTok := w.k.Token(w.admin)
	move := map[string]any{"direction": "to_stripe", "amount_cents": 30_00, "reference": "CRO 42"}
	st, m := apptest.Call(t, w.a, "POST", "/treasury-moves", adminTok, move, "Idempotency-Key", "t1")
	st2, again := apptest.Call(t, w.a, "POST", "/treasury-moves", adminTok, move, "Idempotency-Key", "t1")
	if st != 201 || st2 != 201 || again["id"] != m["id"] || m["transaction_id"] == nil {
		t.Fatalf("move: %d %v, again: %d %v", st, m, st2, again)
	}
	st, body := apptest.Call(t, w.a, "GET", "/treasury", adminTok, nil)
	if st != 200 || body["stripe_cents"] != 30_00.0 || body["bank_cents"] != 10_00.0 || len(body["moves"].([]any)) != 1 {
		t.Fatalf("treasury: %d %v", st, body)
	}
	if st, _ := apptest.Call(t, w.a, "GET", "/treasury", w.k.Token(w.staff), nil); st != 403 {
		t.Fatalf("a provider reading the treasury: %d", st)
	}

	admin := w.k.Browser(w.a.URL(), w.admin)
	res, page := admin.Get("/admin/tesoreria")
	if res.StatusCode != http.StatusOK || !strings.Contains(between(page, `id="treasury-stripe">`, "<"), "30,00") {
		t.Fatalf("treasury page: %d %s", res.StatusCode, excerpt(page, "treasury-balances"))
	}
	form := url.Values{"direction": {"to_stripe"}, "amount": {"10,01"}, "reference": {"CRO 43"}, "form_key": {"w-1"}}
	res, page = admin.PostForm("/admin/tesoreria", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "supera quanto il registro contabile") ||
		!strings.Contains(page, "€ 10,00") || !strings.Contains(page, `value="10,01"`) {
		t.Fatalf("a move beyond the bank's money: %d %s", res.StatusCode, excerpt(page, "treasury-error"))
	}
	// Next to the amount, not above the form; a well-written amount too
	// large for the ledger is told as such, not as a typo.
	if i, j := strings.Index(page, `id="amount"`), strings.Index(page, `id="treasury-error"`); i < 0 || j < i {
		t.Fatalf("the amount's error is not next to it: %s", excerpt(page, "treasury-form"))
	}
	form.Set("amount", "99.999.999.999")
	if res, page = admin.PostForm("/admin/tesoreria", form); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "al massimo di 10.000.000.000,00 euro") {
		t.Fatalf("an amount beyond the ledger's: %d %s", res.StatusCode, excerpt(page, "treasury-error"))
	}
	form.Set("amount", "zero")
	if res, page = admin.PostForm("/admin/tesoreria", form); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Scrivi un importo maggiore di zero") {
		t.Fatalf("a bad amount: %d %s", res.StatusCode, excerpt(page, "treasury-error"))
	}
	form.Set("amount", "10,00")
	res, _ = admin.PostForm("/admin/tesoreria", form)
	again2, _ := admin.PostForm("/admin/tesoreria", form) // sent twice: one move
	if res.StatusCode != http.StatusSeeOther || again2.StatusCode != http.StatusSeeOther {
		t.Fatalf("a move from the page: %d, resent %d", res.StatusCode, again2.StatusCode)
	}
	_, page = admin.Get(res.Header.Get("Location"))
	if !strings.Contains(page, "Movimento registrato") || strings.Count(page, "CRO 4") != 2 ||
		!strings.Contains(between(page, `id="treasury-bank">`, "<"), "0,00") {
		t.Fatalf("after the move: %s", excerpt(page, "treasury"))
	}
}
