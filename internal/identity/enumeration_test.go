package identity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/mail/mailtest"
)

// An admin tries to learn who has an account, as the probe did: a CSV of
// addresses with one bad row, then single invitations. The answers never
// tell an address with an account (in another organisation) from one
// without; the account's owner gets a neutral mail in Italian and English
// and stays in their own organisation; the newcomer is invited.
func TestInvitationsDoNotRevealAccounts(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	prober := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	tok := k.Token(prober)
	victim := k.As(auth.OrgCompany, auth.RoleEmployee)
	victimAddr := mailtest.Address("victim")
	if _, err := a.DB.Exec(`UPDATE users SET email = $1 WHERE id = $2`, victimAddr, victim.ID); err != nil {
		t.Fatal(err)
	}
	newcomer := mailtest.Address("newcomer")

	// The CSV with a bad row: only the bad row is named, never an address.
	file := func(existing, fresh string) string {
		return "email,name,role\n" + existing + ",Vittima,provider_staff\n" + fresh + ",Nuova,provider_staff\nnot-an-email,Rotto,provider_staff\n"
	}
	stV, bodyV := send(t, a, "/users/invitations/csv", tok, "text/csv", file(victimAddr, newcomer), "")
	other1, other2 := mailtest.Address("nobody"), mailtest.Address("nobody")
	stN, bodyN := send(t, a, "/users/invitations/csv", tok, "text/csv", file(other1, other2), "")
	if stV != 400 || stN != 400 || strings.Contains(bodyV, victimAddr) || strings.Contains(bodyV, "account") {
		t.Fatalf("CSV with a bad row: %d %s", stV, bodyV)
	}
	if rowsOf(t, bodyV) != rowsOf(t, bodyN) || rowsOf(t, bodyV) != `[{"row":4,"field":"email"}]` {
		t.Fatalf("the row errors differ with an existing address: %s vs %s", rowsOf(t, bodyV), rowsOf(t, bodyN))
	}

	// The corrected CSV: the same answer either way, and the newcomer is in.
	fixed := strings.Replace(file(victimAddr, newcomer), "not-an-email,Rotto,provider_staff\n", "", 1)
	stV, bodyV = send(t, a, "/users/invitations/csv", tok, "text/csv", fixed, "")
	stN, bodyN = send(t, a, "/users/invitations/csv", tok, "text/csv", strings.Replace(file(other1, other2), "not-an-email,Rotto,provider_staff\n", "", 1), "")
	if stV != 200 || bodyV != bodyN || !strings.Contains(bodyV, `"invited":2`) {
		t.Fatalf("corrected CSV: %d %s, with unknown addresses %d %s", stV, bodyV, stN, bodyN)
	}

	// A single invitation: 202 and the same body, whoever the address is.
	invite := func(addr string) (int, string) {
		return send(t, a, "/users/invitations", tok, "application/json",
			`{"email":"`+addr+`","name":"Qualcuno","roles":["provider_staff"]}`, "")
	}
	stV, bodyV = invite(victimAddr)
	fresh := mailtest.Address("fresh")
	stN, bodyN = invite(fresh)
	if stV != 202 || stN != 202 || strings.Replace(bodyV, victimAddr, "X", 1) != strings.Replace(bodyN, fresh, "X", 1) {
		t.Fatalf("single invitation: existing %d %s, new %d %s", stV, bodyV, stN, bodyN)
	}
	// On the web form too: the same confirmation.
	b := k.Browser(a.URL(), prober)
	for _, addr := range []string{victimAddr, mailtest.Address("webfresh")} {
		_, page := b.Get("/users")
		key := formKeyRE.FindStringSubmatch(page)
		res, _ := b.PostForm("/users/invite", url.Values{"email": {addr}, "name": {"Qualcuno"}, "role": {"provider_staff"}, "form_key": {key[1]}})
		if res.StatusCode != 303 || res.Header.Get("Location") != "/users?invited=1" {
			t.Fatalf("web invitation of %s: %d %s", addr, res.StatusCode, res.Header.Get("Location"))
		}
	}

	// The owner was told, three times (two files and one invitation, and
	// the web form), in Italian then English, with no invitation link.
	mails := mailtest.Wait(t, victimAddr, 3)
	for _, m := range mails {
		if !strings.Contains(m.Text, "ha provato a invitarti") || !strings.Contains(m.Text, "tried to invite you") ||
			strings.Index(m.Text, "ha provato") > strings.Index(m.Text, "tried to") || strings.Contains(m.Text, "/invite?token=") ||
			!strings.Contains(m.Text, prober.Org.Name) {
			t.Fatalf("the owner's mail is not the neutral note:\n%s", m.Text)
		}
	}
	if got := mailtest.Wait(t, newcomer, 1); !strings.Contains(got[0].Text, "/invite?token=") {
		t.Fatalf("the newcomer got no invitation link:\n%s", got[0].Text)
	}
	// The owner still belongs to their organisation only, and signs in.
	var orgs []uuid.UUID
	if err := a.DB.Select(&orgs, `SELECT organisation_id FROM users WHERE email = $1`, victimAddr); err != nil || len(orgs) != 1 || orgs[0] != victim.Org.ID {
		t.Fatalf("the owner's organisations: %v %v", orgs, err)
	}
	if _, err := a.Identity.Login(t.Context(), identity.Credentials{Email: victimAddr, Password: identitytest.Password}); err != nil {
		t.Fatalf("the owner can no longer sign in: %v", err)
	}
	if _, list := callList(t, a, "/users", tok); strings.Contains(fmt.Sprint(list), victimAddr) {
		t.Fatal("the owner appears among the prober's people")
	}
}

// rowsOf returns a refused import's row errors as JSON, without messages.
func rowsOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Details struct {
			Rows []struct {
				Row   int    `json:"row"`
				Field string `json:"field"`
			} `json:"rows"`
		} `json:"details"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	out, _ := json.Marshal(e.Details.Rows)
	return string(out)
}

// Invitations are throttled: the 21st in a minute from one person is
// refused (429 rate_limited, with when to retry) and mails nobody; a CSV
// counts every row against the organisation's day, so a file of more than
// 500 rows is refused whole.
func TestInvitationsAreThrottled(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	tok := k.Token(hr)
	js := func(n int) string {
		return fmt.Sprintf(`{"email":"throttle%d.%s@example.com","name":"N","roles":["employee"]}`, n, hr.ID.String()[:8])
	}
	// The minute is a calendar minute: start early in one, so all 21
	// requests fall in the same minute.
	if sec := time.Now().UTC().Second(); sec > 25 {
		time.Sleep(time.Duration(61-sec) * time.Second)
	}
	for i := range 20 {
		if st, body := send(t, a, "/users/invitations", tok, "application/json", js(i), ""); st != 202 {
			t.Fatalf("invitation %d: %d %s", i+1, st, body)
		}
	}
	st, body := send(t, a, "/users/invitations", tok, "application/json", js(20), "")
	if st != 429 || !strings.Contains(body, `"rate_limited"`) || !strings.Contains(body, "retry_after_seconds") {
		t.Fatalf("the 21st invitation in a minute: %d %s, want 429 rate_limited", st, body)
	}
	if n := mailsTo(t, a, fmt.Sprintf("throttle20.%s@example.com", hr.ID.String()[:8])); n != 0 {
		t.Fatalf("a refused invitation mailed %d times", n)
	}
	// A colleague has their own minute, but the organisation's day is shared.
	colleague := k.User(hr.Org, auth.RoleCompanyAdmin)
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range 481 { // 20 + 481 = 501 > 500
		fmt.Fprintf(&csv, "riga%d.%s@example.com,Riga %d\n", i, hr.ID.String()[:8], i)
	}
	st, body = send(t, a, "/users/invitations/csv", k.Token(colleague), "text/csv", csv.String(), "")
	if st != 429 || !strings.Contains(body, `"rate_limited"`) {
		t.Fatalf("a CSV past the organisation's day: %d %s, want 429", st, body)
	}
	var users int
	_ = a.DB.Get(&users, `SELECT count(*) FROM users WHERE organisation_id = $1`, hr.Org.ID)
	if users != 22 {
		t.Fatalf("%d users in the organisation after a refused CSV, want 22", users)
	}
}

// The quotas are configuration: a smaller day refuses sooner.
func TestInvitationQuotaIsConfigured(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(dbtest.New(t))
	cfg.Auth.InvitesPerDay = 3
	a := apptest.StartWith(t, cfg)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	csv := "email,name\nq1." + hr.ID.String()[:8] + "@example.com,A\nq2." + hr.ID.String()[:8] + "@example.com,B\n"
	if st, body := send(t, a, "/users/invitations/csv", k.Token(hr), "text/csv", csv, ""); st != 200 {
		t.Fatalf("2 of 3: %d %s", st, body)
	}
	if st, _ := send(t, a, "/users/invitations/csv", k.Token(hr), "text/csv", strings.ReplaceAll(csv, "@", "x@"), ""); st != 429 {
		t.Fatalf("4 of 3: %d, want 429", st)
	}
	// On the web, a file the quota cannot take is refused on the form, in
	// the person's language, before any import starts.
	b := k.Browser(a.URL(), hr)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("_csrf", b.CSRF())
	fw, _ := mw.CreateFormFile("file", "dipendenti.csv")
	_, _ = fw.Write([]byte(strings.ReplaceAll(csv, "@", "y@")))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.URL()+"/users/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if page := string(raw); res.StatusCode != 429 || !strings.Contains(page, "limite degli inviti") {
		t.Fatalf("web upload past the quota: %d", res.StatusCode)
	}
	var imports int
	_ = a.DB.Get(&imports, `SELECT count(*) FROM invitation_imports WHERE organisation_id = $1`, hr.Org.ID)
	if imports != 0 {
		t.Fatalf("%d imports started past the quota", imports)
	}
}
