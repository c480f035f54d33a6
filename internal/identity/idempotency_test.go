package identity_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// send posts body to the API with an optional Idempotency-Key and returns
// the status and the raw answer.
func send(t *testing.T, a *app.App, path, token, ctype, body, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func mailsTo(t *testing.T, a *app.App, addr string) int {
	t.Helper()
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM mail_outbox WHERE to_addr = $1`, addr); err != nil {
		t.Fatal(err)
	}
	return n
}

// A retried invitation with the same Idempotency-Key answers exactly what
// the first one did and mails nobody twice; the key with another
// invitation is a conflict; without a key the API behaves as before; a
// refused request does not use up its key.
func TestInvitationIdempotencyKey(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	tok := k.Token(hr)
	const js = "application/json"
	anna := `{"email":"anna.idem@example.com","name":"Anna","roles":["employee"]}`

	st1, body1 := send(t, a, "/users/invitations", tok, js, anna, "invite-anna-1")
	if st1 != 202 || !strings.Contains(body1, "anna.idem@example.com") {
		t.Fatalf("first invitation: %d %s", st1, body1)
	}
	st2, body2 := send(t, a, "/users/invitations", tok, js, anna, "invite-anna-1")
	if st2 != 202 || body2 != body1 {
		t.Fatalf("retry: %d %s, want 202 and the first body %s", st2, body2, body1)
	}
	if n := mailsTo(t, a, "anna.idem@example.com"); n != 1 {
		t.Fatalf("%d mails to the invitee, want 1", n)
	}
	// The same key with another person: 409, nobody invited.
	bruno := `{"email":"bruno.idem@example.com","name":"Bruno","roles":["employee"]}`
	if st, body := send(t, a, "/users/invitations", tok, js, bruno, "invite-anna-1"); st != 409 || !strings.Contains(body, `"conflict"`) {
		t.Fatalf("key reused for another invitation: %d %s, want 409 conflict", st, body)
	}
	if n := mailsTo(t, a, "bruno.idem@example.com"); n != 0 {
		t.Fatalf("a refused request mailed %d times", n)
	}
	// Without a key, a repeat is a new request: the address has an
	// account now, so the answer is the same and its owner is told.
	if st, body := send(t, a, "/users/invitations", tok, js, anna, ""); st != 202 || body != body1 {
		t.Fatalf("repeat without key: %d %s, want 202 and the same answer", st, body)
	}
	if n := mailsTo(t, a, "anna.idem@example.com"); n != 2 {
		t.Fatalf("%d mails to Anna after a repeat without key, want 2 (the invitation, then the neutral note)", n)
	}
	// A failed request records nothing: its key stays free.
	bad := `{"email":"carla.idem@example.com","name":"Carla","roles":["fund_manager"]}`
	if st, _ := send(t, a, "/users/invitations", tok, js, bad, "invite-carla"); st != 400 {
		t.Fatalf("invalid role: %d, want 400", st)
	}
	carla := strings.Replace(bad, "fund_manager", "employee", 1)
	if st, body := send(t, a, "/users/invitations", tok, js, carla, "invite-carla"); st != 202 {
		t.Fatalf("fixed request with the key of a failed one: %d %s", st, body)
	}
	// Another organisation's admin may use the same key for their own.
	hr2 := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	if st, body := send(t, a, "/users/invitations", k.Token(hr2), js, bruno, "invite-anna-1"); st != 202 || !strings.Contains(body, "bruno.idem@example.com") {
		t.Fatalf("same key in another organisation: %d %s, want 202 for Bruno", st, body)
	}
	// Concurrent retries: one invitation, one mail; a retry that arrives
	// while the first is running is told so (409 in progress), the others
	// answer what the first did.
	dario := `{"email":"dario.idem@example.com","name":"Dario","roles":["company_admin"]}`
	var wg sync.WaitGroup
	answers := make([]string, 6)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body := send(t, a, "/users/invitations", tok, js, dario, "invite-dario")
			answers[i] = http.StatusText(st) + " " + body
		}()
	}
	wg.Wait()
	st, created := send(t, a, "/users/invitations", tok, js, dario, "invite-dario")
	if st != 202 {
		t.Fatalf("retry after the concurrent ones: %d %s", st, created)
	}
	for _, ans := range answers {
		if ans != "Accepted "+created && !(strings.HasPrefix(ans, "Conflict ") && strings.Contains(ans, `"reason":"in_progress"`)) {
			t.Fatalf("a concurrent retry answered %q; want the first answer %q or 409 in progress", ans, created)
		}
	}
	if n := mailsTo(t, a, "dario.idem@example.com"); n != 1 {
		t.Fatalf("%d mails after concurrent retries, want 1", n)
	}
	// Over-long keys are refused at the edge.
	if st, _ := send(t, a, "/users/invitations", tok, js, bruno, strings.Repeat("k", 201)); st != 400 {
		t.Fatalf("201-character key: %d, want 400", st)
	}
}

// Two colleagues who send the same Idempotency-Key each get their own
// invitation and their own answer: a key belongs to the person who sent
// it, not to their organisation.
func TestIdempotencyKeyBelongsToTheCaller(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	colleague := k.User(hr.Org, auth.RoleCompanyAdmin)
	const js = "application/json"
	st1, body1 := send(t, a, "/users/invitations", k.Token(hr), js, `{"email":"olga.idem@example.com","name":"Olga","roles":["employee"]}`, "monday-1")
	st2, body2 := send(t, a, "/users/invitations", k.Token(colleague), js, `{"email":"piero.idem@example.com","name":"Piero","roles":["employee"]}`, "monday-1")
	if st1 != 202 || st2 != 202 || !strings.Contains(body1, "olga.idem@") || !strings.Contains(body2, "piero.idem@") || strings.Contains(body2, "olga") {
		t.Fatalf("two colleagues, one key: %d %s / %d %s; want each their own invitation", st1, body1, st2, body2)
	}
	// The colleague sending the first person's request under the key gets
	// an answer of their own (their key went with Piero: a conflict),
	// never the first person's.
	st3, body3 := send(t, a, "/users/invitations", k.Token(colleague), js, `{"email":"olga.idem@example.com","name":"Olga","roles":["employee"]}`, "monday-1")
	if st3 != 409 || strings.Contains(body3, body1) {
		t.Fatalf("colleague resending the first request under the key: %d %s; must not replay the first answer", st3, body3)
	}
	if n, m := mailsTo(t, a, "olga.idem@example.com"), mailsTo(t, a, "piero.idem@example.com"); n != 1 || m != 1 {
		t.Fatalf("%d mails to Olga and %d to Piero, want 1 and 1", n, m)
	}
}

// A CSV upload retried with its Idempotency-Key reports the first count and
// mails nobody again; another file under that key is a conflict.
func TestCSVInvitationIdempotencyKey(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	tok := k.Token(hr)
	file := "email,name\nelena.idem@example.com,Elena\nfabio.idem@example.com,Fabio\n"
	st1, body1 := send(t, a, "/users/invitations/csv", tok, "text/csv", file, "march-hires")
	if st1 != 200 || !strings.Contains(body1, `"invited":2`) {
		t.Fatalf("first upload: %d %s", st1, body1)
	}
	st2, body2 := send(t, a, "/users/invitations/csv", tok, "text/csv", file, "march-hires")
	if st2 != 200 || body2 != body1 {
		t.Fatalf("retried upload: %d %s, want 200 %s", st2, body2, body1)
	}
	if n := mailsTo(t, a, "elena.idem@example.com") + mailsTo(t, a, "fabio.idem@example.com"); n != 2 {
		t.Fatalf("%d mails, want 2", n)
	}
	other := "email,name\ngiulia.idem@example.com,Giulia\n"
	if st, body := send(t, a, "/users/invitations/csv", tok, "text/csv", other, "march-hires"); st != 409 || !strings.Contains(body, `"conflict"`) {
		t.Fatalf("another file under the key: %d %s, want 409", st, body)
	}
	if n := mailsTo(t, a, "giulia.idem@example.com"); n != 0 {
		t.Fatalf("the refused file mailed %d times", n)
	}
	// Without a key the same file is a new request: the same answer, and
	// the addresses (which have accounts now) get the neutral note.
	if st, body := send(t, a, "/users/invitations/csv", tok, "text/csv", file, ""); st != 200 || body != body1 {
		t.Fatalf("repeat without key: %d %s", st, body)
	}
	if n := mailsTo(t, a, "elena.idem@example.com") + mailsTo(t, a, "fabio.idem@example.com"); n != 4 {
		t.Fatalf("%d mails after the repeat without key, want 4", n)
	}
}

var formKeyRE = regexp.MustCompile(`name="form_key" value="([^"]+)"`)

// usersPage opens the users page as a company admin's browser and returns
// the app, the admin, the browser and the form key the page carries (m[1]).
func usersPage(t *testing.T) (*app.App, *identitytest.User, *identitytest.Browser, []string) {
	t.Helper()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	b := k.Browser(a.URL(), hr)
	_, page := b.Get("/users")
	m := formKeyRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the users page has no form key")
	}
	return a, hr, b, m
}

// uploadCSV sends the users page's import form as browser b, with the form
// key formKey (none when empty), and returns the status and where it
// redirects.
func uploadCSV(t *testing.T, base string, b *identitytest.Browser, formKey, csv string) (int, string) {
	t.Helper()
	res, _ := uploadCSVPage(t, base, b, formKey, csv)
	return res.StatusCode, res.Header.Get("Location")
}

// uploadCSVPage is uploadCSV answering the response and the page.
func uploadCSVPage(t *testing.T, base string, b *identitytest.Browser, formKey, csv string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("_csrf", b.CSRF())
	if formKey != "" {
		_ = mw.WriteField("form_key", formKey)
	}
	fw, _ := mw.CreateFormFile("file", "dipendenti.csv")
	_, _ = fw.Write([]byte(csv))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/users/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// Submitting the web invite form twice (a double click) invites once and
// both submissions land on the confirmation; a new render has a new key.
func TestWebInviteFormDoubleSubmission(t *testing.T) {
	t.Parallel()
	a, _, b, m := usersPage(t)
	form := url.Values{"email": {"ugo.idem@example.com"}, "name": {"Ugo"}, "role": {"employee"}, "form_key": {m[1]}}
	for i := 0; i < 2; i++ {
		res, body := b.PostForm("/users/invite", form)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/users?invited=1" {
			t.Fatalf("submission %d: %d %s %s", i+1, res.StatusCode, res.Header.Get("Location"), body)
		}
	}
	if n := mailsTo(t, a, "ugo.idem@example.com"); n != 1 {
		t.Fatalf("%d mails after a double submission, want 1", n)
	}
	_, page := b.Get("/users?invited=1")
	if m2 := formKeyRE.FindStringSubmatch(page); m2 == nil || m2[1] == m[1] {
		t.Fatal("a new page must carry a new form key")
	}
	// A fresh form (new key) with the same person is a new request: the
	// same confirmation, and Ugo (who has an account now) gets the neutral
	// note rather than a second invitation.
	form.Set("form_key", "another-form")
	if res, _ := b.PostForm("/users/invite", form); res.StatusCode != 303 || res.Header.Get("Location") != "/users?invited=1" {
		t.Fatalf("inviting again from a new form: %d, want the same confirmation", res.StatusCode)
	}
	if n := mailsTo(t, a, "ugo.idem@example.com"); n != 2 {
		t.Fatalf("%d mails after inviting again, want 2", n)
	}
}

// Uploading the same file twice from one rendered form (a double click)
// shows the first import instead of starting a second; another file from
// that form is refused.
func TestWebImportFormDoubleSubmission(t *testing.T) {
	t.Parallel()
	a, hr, b, m := usersPage(t)
	upload := func(csv string) (int, string) { return uploadCSV(t, a.URL(), b, m[1], csv) }
	file := "email,name\nivo.idem@example.com,Ivo\n"
	st1, loc1 := upload(file)
	st2, loc2 := upload(file)
	if st1 != 303 || st2 != 303 || loc1 != loc2 || !strings.HasPrefix(loc1, "/users/import/") {
		t.Fatalf("double upload: %d %s, %d %s, want the same import twice", st1, loc1, st2, loc2)
	}
	var imports int
	_ = a.DB.Get(&imports, `SELECT count(*) FROM invitation_imports WHERE organisation_id = $1`, hr.Org.ID)
	if imports != 1 {
		t.Fatalf("%d imports, want 1", imports)
	}
	if st, _ := upload("email,name\nlea.idem@example.com,Lea\n"); st != 409 {
		t.Fatalf("another file from the same form: %d, want 409", st)
	}
}

// The new-organisation form sent twice makes one organisation; a second
// rendering of the form makes another.
func TestWebNewOrganisationFormDoubleSubmission(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	b := k.Browser(a.URL(), k.As(auth.OrgPlatform, auth.RolePlatformAdmin))
	newForm := func(name string) url.Values {
		t.Helper()
		_, page := b.Get("/admin/organisations")
		m := formKeyRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("the organisations page has no form key")
		}
		return url.Values{"name": {name}, "kind": {"company"}, "form_key": {m[1]}}
	}
	orgs := func() int {
		var n int
		_ = a.DB.Get(&n, `SELECT count(*) FROM organisations WHERE name = 'Ditta Doppia'`)
		return n
	}
	form := newForm("Ditta Doppia")
	res1, _ := b.PostForm("/admin/organisations", form)
	res2, _ := b.PostForm("/admin/organisations", form)
	if res1.StatusCode != 303 || res2.Header.Get("Location") != res1.Header.Get("Location") {
		t.Fatalf("double submission: %d %s / %d %s, want the same organisation twice", res1.StatusCode,
			res1.Header.Get("Location"), res2.StatusCode, res2.Header.Get("Location"))
	}
	if n := orgs(); n != 1 {
		t.Fatalf("%d organisations after one form sent twice, want 1", n)
	}
	if res, _ := b.PostForm("/admin/organisations", newForm("Ditta Doppia")); res.StatusCode != 303 || orgs() != 2 {
		t.Fatalf("a second form: %d, %d organisations, want 2", res.StatusCode, orgs())
	}
}
