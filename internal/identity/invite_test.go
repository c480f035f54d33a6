package identity_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/auth"
)

func postCSV(t *testing.T, a *app.App, token, csv string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1/users/invitations/csv", strings.NewReader(csv))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

func counts(t *testing.T, a *app.App) (users, mails int) {
	t.Helper()
	if err := a.DB.Get(&users, `SELECT count(*) FROM users`); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Get(&mails, `SELECT count(*) FROM mail_outbox`); err != nil {
		t.Fatal(err)
	}
	return
}

// A CSV with one bad row imports nobody and says which row is wrong; the
// corrected file invites everyone, each with a mail.
func TestCSVInvitationIsAllOrNothing(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	tok := k.Token(hr)
	usersBefore, mailsBefore := counts(t, a)

	bad := "email,name,role\n" +
		"anna.rossi@example.com,Anna Rossi,employee\n" +
		"not-an-email,Bruno Bianchi,employee\n" +
		"carla.verdi@example.com,Carla Verdi,\n"
	st, body := postCSV(t, a, tok, bad)
	details, _ := body["details"].(map[string]any)
	rows, _ := details["rows"].([]any)
	if st != 400 || body["code"] != "invalid" || len(rows) != 1 {
		t.Fatalf("bad CSV: %d %v, want 400 with one row error", st, body)
	}
	row := rows[0].(map[string]any)
	if row["row"] != float64(3) || row["field"] != "email" {
		t.Fatalf("row error = %v, want row 3, field email", row)
	}
	if u, m := counts(t, a); u != usersBefore || m != mailsBefore {
		t.Fatalf("a failed import wrote %d users and %d mails", u-usersBefore, m-mailsBefore)
	}

	good := strings.Replace(bad, "not-an-email", "bruno.bianchi@example.com", 1)
	st, body = postCSV(t, a, tok, good)
	if st != 200 || body["invited"] != float64(3) {
		t.Fatalf("good CSV: %d %v", st, body)
	}
	if u, m := counts(t, a); u != usersBefore+3 || m != mailsBefore+3 {
		t.Fatalf("import wrote %d users and %d mails, want 3 and 3", u-usersBefore, m-mailsBefore)
	}
	// The same file again: every address has an account now, which is no
	// error and is never said; nobody new, each owner gets a neutral note.
	st, body = postCSV(t, a, tok, good)
	if st != 200 || body["invited"] != float64(3) {
		t.Fatalf("re-import: %d %v, want the same answer as the first", st, body)
	}
	if u, m := counts(t, a); u != usersBefore+3 || m != mailsBefore+6 {
		t.Fatalf("re-import wrote %d users and %d mails in all, want 3 and 6", u-usersBefore, m-mailsBefore)
	}
	// Semicolons (Italian spreadsheets), a role this kind of organisation
	// cannot hold, a duplicate row.
	st, body = postCSV(t, a, tok, "email;nome;ruolo\nd@example.com;D;employee\ne@example.com;E;fund_manager\nd@example.com;D2;employee\n")
	rows = body["details"].(map[string]any)["rows"].([]any)
	if st != 400 || len(rows) != 2 || rows[0].(map[string]any)["row"] != float64(3) || rows[1].(map[string]any)["row"] != float64(4) {
		t.Fatalf("semicolon CSV: %d %v, want errors on rows 3 and 4", st, body)
	}
}

// On the web, an upload is imported in the background with a progress
// page; a failed one lists the rows to fix.
func TestCSVInvitationOnTheWeb(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	b := k.Browser(a.URL(), hr)
	upload := func(csv string) string {
		st, loc := uploadCSV(t, a.URL(), b, "", csv)
		if st != 303 || !strings.HasPrefix(loc, "/users/import/") {
			t.Fatalf("upload: %d %s", st, loc)
		}
		return loc
	}
	wait := func(loc string) string {
		for i := 0; i < 200; i++ {
			res, body := b.Get(loc)
			if res.StatusCode != 200 {
				t.Fatalf("import page: %d", res.StatusCode)
			}
			if !strings.Contains(body, `id="import-progress"`) {
				return body
			}
			if res.Header.Get("Refresh") == "" {
				t.Fatal("a running import's page does not refresh itself")
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("import never finished")
		return ""
	}
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := 0; i < 240; i++ {
		fmt.Fprintf(&csv, "dip%03d@example.com,Dipendente %d\n", i, i)
	}
	bad := csv.String() + "broken,Rotto\n"
	body := wait(upload(bad))
	if !strings.Contains(body, `id="import-errors"`) || !strings.Contains(body, `<td data-label="Riga">242</td>`) {
		t.Fatalf("failed import page lacks the row to fix (242)")
	}
	body = wait(upload(csv.String()))
	if !strings.Contains(body, `id="import-result"`) || !strings.Contains(body, " 240</p>") {
		t.Fatalf("finished import page: %s", body[strings.Index(body, "<main"):])
	}
	var n int
	_ = a.DB.Get(&n, `SELECT count(*) FROM users WHERE organisation_id = $1 AND status = 'invited'`, hr.Org.ID)
	if n != 240 {
		t.Fatalf("%d invited, want 240", n)
	}
	// Progress is reported as chunks commit inside the one transaction.
	var seen []string
	n2, err := a.Identity.InviteCSV(t.Context(), hr.Principal(), hr.Org.ID, strings.NewReader(strings.ReplaceAll(csv.String(), "dip", "altro")),
		func(done, total int) { seen = append(seen, fmt.Sprintf("%d/%d", done, total)) }, "")
	if err != nil || n2 != 240 || strings.Join(seen, " ") != "200/240 240/240" {
		t.Fatalf("progress: %d %v %v", n2, seen, err)
	}
	// Another organisation's admin cannot see the import.
	other := k.Browser(a.URL(), k.As(auth.OrgCompany, auth.RoleCompanyAdmin))
	var id string
	_ = a.DB.Get(&id, `SELECT id FROM invitation_imports LIMIT 1`)
	if res, _ := other.Get("/users/import/" + id); res.StatusCode != 404 {
		t.Fatalf("another tenant's import: %d, want 404", res.StatusCode)
	}
}

// One invitation through the API, accepted through the API: the invitee
// then signs in; the link works once; roles must fit the organisation.
func TestInviteAndAccept(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	mgr := k.As(auth.OrgFund, auth.RoleFundManager)
	tok := k.Token(mgr)
	st, body := call(t, a, "POST", "/users/invitations", tok, map[string]any{"email": "nuova@example.com", "name": "Nuova Operatrice", "roles": []string{"employee"}})
	if st != 400 || body["details"].(map[string]any)["field"] != "roles" {
		t.Fatalf("employee role in a fund: %d %v, want 400 on roles", st, body)
	}
	st, body = call(t, a, "POST", "/users/invitations", tok, map[string]any{"email": "nuova@example.com", "name": "Nuova Operatrice", "roles": []string{"case_worker"}})
	if st != 202 || body["email"] != "nuova@example.com" || body["organisation_id"] != mgr.Org.ID.String() {
		t.Fatalf("invite: %d %v", st, body)
	}
	token := strings.SplitN(lastLink(t, a.DB, "nuova@example.com"), "token=", 2)[1]
	if st, body := call(t, a, "POST", "/users/invitations", tok, map[string]any{"email": "NUOVA@example.com", "name": "Again", "roles": []string{"case_worker"}}); st != 202 {
		t.Fatalf("second invitation to the same address: %d %v, want 202 as the first", st, body)
	}
	if st, _ := login(t, a, "nuova@example.com", ""); st != 400 && st != 401 {
		t.Fatalf("an invited account signed in: %d", st)
	}
	st, body = call(t, a, "POST", "/auth/invitations/accept", "", map[string]any{"token": token, "password": "la mia password sicura"})
	if st != 200 || body["status"] != "active" || body["name"] != "Nuova Operatrice" {
		t.Fatalf("accept: %d %v", st, body)
	}
	if st, _ := call(t, a, "POST", "/auth/invitations/accept", "", map[string]any{"token": token, "password": "un'altra password"}); st != 404 {
		t.Fatalf("link reused: %d, want 404", st)
	}
	st, body = login(t, a, "nuova@example.com", "la mia password sicura")
	if st != 200 {
		t.Fatalf("sign-in after accepting: %d %v", st, body)
	}
	st, me := call(t, a, "GET", "/me", body["access_token"].(string), nil)
	if st != 200 || me["organisation"].(map[string]any)["id"] != mgr.Org.ID.String() || me["roles"].([]any)[0] != "case_worker" {
		t.Fatalf("me: %d %v", st, me)
	}
}
