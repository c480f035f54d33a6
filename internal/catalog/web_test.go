package catalog_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// postMultipart submits a multipart form as the signed-in browser b, with
// the CSRF token the browser holds.
func postMultipart(t *testing.T, b *identitytest.Browser, base, path string, fields map[string]string, file []byte) (int, string) {
	t.Helper()
	st, _, body := postFile(t, b, base, path, fields, "photo", file)
	return st, body
}

// postFile is postMultipart with the file in form field fileField.
// It returns the status, where a redirect points and the body.
func postFile(t *testing.T, b *identitytest.Browser, base, path string, fields map[string]string, fileField string, file []byte) (int, string, string) {
	t.Helper()
	u, _ := url.Parse(base)
	var csrf string
	for _, ck := range b.Client.Jar.Cookies(u) {
		if ck.Name == "csrf" {
			csrf = ck.Value
		}
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fields["_csrf"] = csrf
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != nil {
		fw, _ := w.CreateFormFile(fileField, "foto.jpg")
		_, _ = fw.Write(file)
	}
	w.Close()
	req, _ := http.NewRequest("POST", base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(raw)
}

// Through the web pages: a bad VAT number or a file that is not an image
// is refused with a message in Italian and nothing is saved; only provider
// staff reach the dashboard and only platform admins the approval queue.
func TestProviderPages(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	b := k.Browser(a.URL(), staff)

	res, _ := b.Get("/erogatore")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/erogatore/profilo" {
		t.Fatalf("dashboard without a profile: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	form := url.Values{"legal_name": {"Coop Prova"}, "legal_form": {"social_cooperative"}, "vat_number": {"12345678901"},
		"fiscal_code": {"12345678901"}, "town": {"Lecco"}}
	res, body := b.PostForm("/erogatore/profilo", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "La partita IVA non è valida") {
		t.Fatalf("bad VAT: %d, page without the Italian message", res.StatusCode)
	}
	form.Set("vat_number", catalogtest.VAT(31))
	form.Set("fiscal_code", catalogtest.VAT(31))
	form.Set("town", "Comune Che Non Esiste")
	res, body = b.PostForm("/erogatore/profilo", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Non troviamo questo comune") {
		t.Fatalf("unknown town: %d", res.StatusCode)
	}
	if n := count(t, a.DB, `SELECT count(*) FROM providers`); n != 0 {
		t.Fatalf("%d providers saved by refused forms", n)
	}
	form.Set("town", "lecco ") // as people type it
	if res, _ = b.PostForm("/erogatore/profilo", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid profile: %d", res.StatusCode)
	}
	var place string
	if err := a.DB.Get(&place, `SELECT place_code FROM providers`); err != nil || place != lecco {
		t.Fatalf("town resolved to %q (%v), want Lecco", place, err)
	}

	offer := map[string]string{"title": "Corso di yoga", "category": "sport", "price": "12,00", "unit": "session",
		"town": "Lecco", "status": "active"}
	st, body := postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", offer, []byte("%PDF-1.7 not a photo"))
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "La foto non va bene") {
		t.Fatalf("non-image upload: %d", st)
	}
	offer["price"] = "-5"
	st, body = postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", offer, nil)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "Il prezzo deve essere") {
		t.Fatalf("negative price: %d", st)
	}
	if n := count(t, a.DB, `SELECT count(*) FROM offerings`); n != 0 {
		t.Fatalf("%d offerings saved by refused forms", n)
	}
	offer["price"] = "12,00"
	// Times come from date and time pickers, one row each; a wrong row is
	// marked input by input, with what was typed kept.
	for k, v := range map[string]string{"slot_date_0": "2030-12-01", "slot_time_0": "18:00", "slot_minutes_0": "novanta", "slot_places_0": "0",
		"slot_date_1": "", "slot_time_1": "", "slot_minutes_1": "", "slot_places_1": "",
		"slot_date_2": "2030-12-08", "slot_time_2": "18:30", "slot_minutes_2": "60", "slot_places_2": "10"} {
		offer[k] = v
	}
	st, body = postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", offer, nil)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, `name="slot_minutes_0" type="number" min="1" max="1440" inputmode="numeric" value="novanta" aria-invalid="true"`) ||
		!strings.Contains(body, "Scrivi la durata in minuti") || !strings.Contains(body, "Scrivi quanti posti") ||
		!strings.Contains(body, `name="slot_date_1" type="date" value="2030-12-08"`) {
		t.Fatalf("bad slot: %d\n%s", st, body)
	}
	offer["slot_minutes_0"], offer["slot_places_0"] = "90", "8"
	if st, _ = postMultipart(t, b, a.URL(), "/erogatore/offerte/nuova", offer, pngBytes(t, 300, 200)); st != http.StatusSeeOther {
		t.Fatalf("valid offering: %d", st)
	}
	var slots []struct {
		Start    string `db:"s"`
		Capacity int    `db:"capacity"`
	}
	err := a.DB.Select(&slots, `SELECT to_char(starts_at AT TIME ZONE 'Europe/Rome', 'DD/MM HH24:MI') || '-' ||
		to_char(ends_at AT TIME ZONE 'Europe/Rome', 'HH24:MI') AS s, capacity FROM offering_slots ORDER BY starts_at`)
	if err != nil || len(slots) != 2 || slots[0].Start != "01/12 18:00-19:30" || slots[1].Start != "08/12 18:30-19:30" || slots[1].Capacity != 10 {
		t.Fatalf("slots saved: %+v %v", slots, err)
	}
	for k := range offer {
		if strings.HasPrefix(k, "slot_") {
			delete(offer, k)
		}
	}
	res, body = b.Get("/erogatore")
	if res.StatusCode != 200 || !strings.Contains(body, "Corso di yoga") || !strings.Contains(body, "€ 12,00") {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}

	// Another provider can neither open, change nor pause it.
	var id string
	if err := a.DB.Get(&id, `SELECT id FROM offerings`); err != nil {
		t.Fatal(err)
	}
	other := k.Browser(a.URL(), k.As(auth.OrgProvider, auth.RoleProviderStaff))
	if res, _ := other.Get("/erogatore/offerte/" + id); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another provider opening the offering: %d", res.StatusCode)
	}
	offer["title"] = "Rubato"
	if st, _ := postMultipart(t, other, a.URL(), "/erogatore/offerte/"+id, offer, nil); st != http.StatusNotFound {
		t.Fatalf("another provider editing the offering: %d", st)
	}
	if res, _ := other.PostForm("/erogatore/offerte/"+id+"/stato", url.Values{"status": {"paused"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another provider pausing the offering: %d", res.StatusCode)
	}
	var title, status string
	if err := a.DB.QueryRow(`SELECT title, status FROM offerings`).Scan(&title, &status); err != nil || title != "Corso di yoga" || status != "active" {
		t.Fatalf("offering changed by another provider: %q %q %v", title, status, err)
	}

	for _, c := range []struct {
		who  *identitytest.User
		path string
		want int
	}{
		{k.As(auth.OrgCompany, auth.RoleEmployee), "/erogatore", http.StatusForbidden},
		{staff, "/admin/erogatori", http.StatusForbidden},
		{nil, "/erogatore", http.StatusSeeOther},
		{nil, "/catalogo?q=yoga", http.StatusOK},
	} {
		res, _ := k.Browser(a.URL(), c.who).Get(c.path)
		if res.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.path, res.StatusCode, c.want)
		}
	}
}

// A town the search cannot place is named as such, in Italian, not as a
// message key.
func TestSearchPageUnknownTown(t *testing.T) {
	a := apptest.Start(t)
	res, err := http.Get(a.URL() + "/catalogo?q=yoga&vicino=" + url.QueryEscape("Comune Che Non Esiste"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Non troviamo questo comune") {
		t.Fatalf("unknown town: %d, page without the Italian message", res.StatusCode)
	}
}
