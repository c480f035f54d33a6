package catalog_test

import (
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

var formKeyRE = regexp.MustCompile(`name="form_key" value="([^"]+)"`)

// newOfferingForm opens "Nuovo servizio" as a browser does and returns the
// fields of the rendered form: its key, and the offering typed into it.
func newOfferingForm(t *testing.T, b *identitytest.Browser, title string) map[string]string {
	t.Helper()
	res, page := b.Get("/erogatore/offerte/nuova")
	m := formKeyRE.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("new offering form: %d, form key found: %v", res.StatusCode, m != nil)
	}
	return map[string]string{"form_key": m[1], "title": title, "category": "sport", "price": "12,00",
		"unit": "session", "town": "Lecco", "status": "active"}
}

// Each "Nuovo servizio" form makes its own offering, even with the same
// title; one rendered form sent twice (one after the other, or both at
// once, as a double click does) makes one. The report this guards against:
// the second new offering of a provider replayed the first and was lost.
func TestNewOfferingFormKeys(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	b := k.Browser(a.URL(), k.As(auth.OrgProvider, auth.RoleProviderStaff))
	profile := url.Values{"legal_name": {"Coop Doppio Clic"}, "legal_form": {"social_cooperative"},
		"vat_number": {catalogtest.VAT(77)}, "fiscal_code": {catalogtest.VAT(77)}, "town": {"Lecco"}}
	if res, _ := b.PostForm("/erogatore/profilo", profile); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("profile: %d", res.StatusCode)
	}
	send := func(form map[string]string) (int, string, string) {
		fields := map[string]string{}
		for k, v := range form {
			fields[k] = v
		}
		return postFile(t, b, a.URL(), "/erogatore/offerte/nuova", fields, "photo", nil)
	}
	submit := func(form map[string]string) {
		t.Helper()
		if st, loc, body := send(form); st != http.StatusSeeOther || loc != "/erogatore?salvato=1" {
			t.Fatalf("submitting the form: %d %s %s", st, loc, body)
		}
	}
	yoga := newOfferingForm(t, b, "Yoga del mattino")
	submit(yoga)
	submit(yoga) // the same rendered form again
	if n := count(t, a.DB, `SELECT count(*) FROM offerings`); n != 1 {
		t.Fatalf("%d offerings after sending one form twice, want 1", n)
	}
	submit(newOfferingForm(t, b, "Pilates"))
	submit(newOfferingForm(t, b, "Yoga del mattino")) // another form, same title: another offering
	if n := count(t, a.DB, `SELECT count(*) FROM offerings`); n != 3 {
		t.Fatalf("%d offerings after three new-offering forms, want 3", n)
	}
	// A double click: both submissions at once, both land on the result.
	twice := newOfferingForm(t, b, "Acquagym")
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, loc, _ := send(twice)
			answers[i] = http.StatusText(st) + " " + loc
		}()
	}
	wg.Wait()
	for _, ans := range answers {
		if ans != "See Other /erogatore?salvato=1" {
			t.Fatalf("double click answered %q, want both to land on the saved dashboard", answers)
		}
	}
	if n := count(t, a.DB, `SELECT count(*) FROM offerings WHERE title = 'Acquagym'`); n != 1 {
		t.Fatalf("%d offerings after a double click, want 1", n)
	}
	// The form used for another offering afterwards is refused, in Italian.
	yoga["title"] = "Tai chi"
	st, _, body := send(yoga)
	if st != http.StatusConflict || !regexp.MustCompile(`già stato inviato`).MatchString(body) {
		t.Fatalf("an old form sent with other data: %d, want 409 with the message", st)
	}
}
