package redemption_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The web pages answer a person's mistakes on the page, in Italian: too
// few credits on the booking page, a mistyped code on the validation page,
// a second validation saying when; a double-submitted booking form books
// once; a visitor is sent to sign in.
func TestRedemptionPagesRefuse(t *testing.T) {
	w := newAppWorld(t)
	emp := w.k.Browser(w.a.URL(), w.emp)
	staff := w.k.Browser(w.a.URL(), w.staff)
	form := url.Values{"quantity": {"5"}, "slot_id": {w.slot.String()}, "form_key": {"k-1"}}
	res, body := emp.PostForm("/catalogo/"+w.offering.String()+"/prenota", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Crediti insufficienti") || !strings.Contains(body, "€ 40,00") {
		t.Fatalf("booking beyond the credits: %d %s", res.StatusCode, excerpt(body, "alert"))
	}
	form.Set("quantity", "2")
	res, _ = emp.PostForm("/catalogo/"+w.offering.String()+"/prenota", form)
	again, _ := emp.PostForm("/catalogo/"+w.offering.String()+"/prenota", form)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/buoni/") || again.Header.Get("Location") != loc {
		t.Fatalf("booking: %d %q, resent: %q", res.StatusCode, loc, again.Header.Get("Location"))
	}
	_, page := emp.Get(strings.Split(loc, "?")[0])
	code := between(page, `id="voucher-code">`, "<")
	if !strings.Contains(page, "<svg") || len(code) != 11 {
		t.Fatalf("voucher page: code %q", code)
	}
	res, body = staff.Get("/erogatore/convalida?codice=" + url.QueryEscape(code[:10]+"Z"))
	if code[10] == 'Z' {
		res, body = staff.Get("/erogatore/convalida?codice=" + url.QueryEscape(code[:10]+"Y"))
	}
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Questo non è un codice valido") {
		t.Fatalf("mistyped code: %d %s", res.StatusCode, excerpt(body, "alert"))
	}
	res, body = staff.PostForm("/erogatore/convalida", url.Values{"codice": {code}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Buono convalidato") {
		t.Fatalf("validation: %d %s", res.StatusCode, excerpt(body, "validate"))
	}
	res, body = staff.PostForm("/erogatore/convalida", url.Values{"codice": {code}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "già stato convalidato il") {
		t.Fatalf("second validation: %d %s", res.StatusCode, excerpt(body, "alert"))
	}
	res, body = staff.PostForm("/erogatore/pagamenti", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "sotto il pagamento minimo") {
		t.Fatalf("payout below the minimum: %d %s", res.StatusCode, excerpt(body, "alert"))
	}
	// Below the minimum the page offers no button that can only fail.
	if _, body = staff.Get("/erogatore/pagamenti"); strings.Contains(body, `id="payout-request"`) ||
		!strings.Contains(body, "Potrai chiedere il pagamento quando ti dobbiamo almeno € 50,00") {
		t.Fatalf("the payouts page below the minimum: %s", excerpt(body, "payouts-owed"))
	}
	res, _ = w.k.Browser(w.a.URL(), nil).Get("/buoni")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("a visitor opening the vouchers: %d", res.StatusCode)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	return s[:max(strings.Index(s, to), 0)]
}

func excerpt(body, near string) string {
	i := strings.Index(body, near)
	if i < 0 {
		return "(no " + near + ")"
	}
	return body[i:min(len(body), i+300)]
}
