package identity_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// A person signs in with the web form, sees their name, signs out, and the
// old session no longer opens their profile.
func TestWebSignInAndOut(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	b := k.Browser(a.URL(), nil)

	if res, _ := b.Get("/account"); res.StatusCode != 303 || res.Header.Get("Location") != "/login?next=%2Faccount" {
		t.Fatalf("visitor on /account = %d %s, want redirect to sign-in", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := b.PostForm("/login", url.Values{"email": {u.Email}, "password": {"wrong password!"}, "next": {"/account"}})
	if res.StatusCode != 401 || !strings.Contains(body, "Email o password non corretti.") {
		t.Fatalf("wrong password = %d, body lacks the message", res.StatusCode)
	}
	res, _ = b.PostForm("/login", url.Values{"email": {u.Email}, "password": {identitytest.Password}, "next": {"/account"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/account" {
		t.Fatalf("sign-in = %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var session string
	for _, c := range res.Cookies() {
		if c.Name == a.Identity.SessionCookie() {
			session = c.Value
			if !c.HttpOnly || c.SameSite != 2 /* Lax */ {
				t.Errorf("session cookie must be HttpOnly and SameSite=Lax: %+v", c)
			}
		}
	}
	if session == "" {
		t.Fatal("no session cookie")
	}
	res, body = b.Get("/account")
	if res.StatusCode != 200 || !strings.Contains(body, u.Name) || !strings.Contains(body, u.Org.Name) {
		t.Fatalf("profile = %d, lacks name or organisation", res.StatusCode)
	}
	res, _ = b.PostForm("/logout", nil)
	if res.StatusCode != 303 {
		t.Fatalf("sign-out = %d", res.StatusCode)
	}
	if s, _ := a.Identity.SessionOf(t.Context(), session); s != nil {
		t.Fatal("session still valid after sign-out")
	}
}

// A form posted without the right CSRF token is refused and changes
// nothing: the session survives a forged sign-out.
func TestWebFormsNeedCSRFToken(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	b := k.Browser(a.URL(), u)
	for _, forged := range []url.Values{{}, {"_csrf": {"forged"}}} {
		req, _ := http.NewRequest("POST", a.URL()+"/logout", strings.NewReader(forged.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 && res.StatusCode != 400 {
			t.Fatalf("forged sign-out (%v) = %d, want refused", forged, res.StatusCode)
		}
	}
	if res, body := b.Get("/account"); res.StatusCode != 200 || !strings.Contains(body, u.Name) {
		t.Fatalf("the forged requests signed the person out: /account = %d", res.StatusCode)
	}
}

// The API also accepts the browser's session cookie, and then a request
// that changes something must carry the CSRF token in X-CSRF-Token.
func TestAPIWithSessionCookieNeedsCSRF(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	b := k.Browser(a.URL(), hr)
	if res, body := b.Get("/api/v1/me"); res.StatusCode != 200 || !strings.Contains(body, hr.Email) {
		t.Fatalf("GET /me with the session cookie: %d %s", res.StatusCode, body)
	}
	invite := `{"email":"x@example.com","name":"X","roles":["employee"]}`
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1/users/invitations", strings.NewReader(invite))
	req.Header.Set("Content-Type", "application/json")
	res, err := b.Client.Do(req) // cookies, no token
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 && res.StatusCode != 403 {
		t.Fatalf("cookie-authenticated POST without CSRF token: %d, want refused", res.StatusCode)
	}
	req, _ = http.NewRequest("POST", a.URL()+"/api/v1/users/invitations", strings.NewReader(invite))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.CSRF())
	if res, err = b.Client.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 202 {
		t.Fatalf("with the token: %d, want 202", res.StatusCode)
	}
}

// Platform admins read the security log through the API and the web.
func TestAuditLogForPlatformAdmins(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	e := k.As(auth.OrgCompany, auth.RoleEmployee)
	login(t, a, e.Email, "wrong password!")
	st, body := callList(t, a, "/audit-log?limit=10", k.Token(admin))
	if st != 200 || len(body) == 0 || body[0]["event"] != identity.EventLoginFailed || body[0]["email"] != e.Email {
		t.Fatalf("audit log: %d %v", st, body)
	}
	// The page speaks Italian: the event and its reason by name, the time
	// in Italian time and format; never the stored codes or an empty {}.
	res, page := k.Browser(a.URL(), admin).Get("/admin/audit")
	now := time.Now().In(rome(t)).Format("02/01/2006 15:04")
	if res.StatusCode != 200 || !strings.Contains(page, "Accesso non riuscito") || !strings.Contains(page, "Motivo: password errata") {
		t.Fatalf("audit page: %d, lacks the failed sign-in in Italian", res.StatusCode)
	}
	if !strings.Contains(page, ">"+now+"<") && !strings.Contains(page, ">"+time.Now().Add(-time.Minute).In(rome(t)).Format("02/01/2006 15:04")+"<") {
		t.Fatalf("audit page: no entry at %s (Italian time)", now)
	}
	for _, raw := range []string{identity.EventLoginFailed, ">{}<", "reason"} {
		if strings.Contains(page, raw) {
			t.Errorf("the Italian audit page shows %q", raw)
		}
	}
}

func rome(t *testing.T) *time.Location {
	t.Helper()
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// An HR admin promotes an employee on the web: the change is logged, the
// employee's API sign-ins must be renewed, and their next page knows the
// new role. Roles the organisation cannot hold are refused.
func TestChangeRoleOnTheWeb(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	org := k.Org(auth.OrgCompany, "")
	hr := k.User(org, auth.RoleCompanyAdmin)
	e := k.User(org, auth.RoleEmployee)
	_, tok := login(t, a, e.Email, identitytest.Password)
	emp := k.Browser(a.URL(), e)
	if res, _ := emp.Get("/users"); res.StatusCode != 403 {
		t.Fatalf("employee on /users: %d", res.StatusCode)
	}
	admin := k.Browser(a.URL(), hr)
	if res, _ := admin.PostForm("/users/"+e.ID.String()+"/roles", url.Values{"roles": {"fund_manager"}}); res.StatusCode != 400 {
		t.Fatalf("a fund role in a company: %d, want 400", res.StatusCode)
	}
	res, _ := admin.PostForm("/users/"+e.ID.String()+"/roles", url.Values{"roles": {"employee", "company_admin"}})
	if res.StatusCode != 303 {
		t.Fatalf("change role: %d", res.StatusCode)
	}
	if res, body := emp.Get("/users"); res.StatusCode != 200 || !strings.Contains(body, hr.Email) {
		t.Fatalf("promoted employee on /users: %d", res.StatusCode)
	}
	if st, _ := refresh(t, a, tok["refresh_token"]); st != 401 {
		t.Fatalf("refresh with the old roles: %d, want 401", st)
	}
	var details string
	if err := a.DB.Get(&details, `SELECT details::text FROM audit_log WHERE event = 'role_changed' AND subject_id = $1`, e.ID); err != nil ||
		!strings.Contains(details, `"after": ["employee", "company_admin"]`) {
		t.Fatalf("audit: %q %v", details, err)
	}
}

// On the web, an account with a second factor is asked for the code after
// the password, and signs in with it.
func TestWebSignInWithTOTP(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	b := k.Browser(a.URL(), nil)
	res, body := b.PostForm("/login", url.Values{"email": {u.Email}, "password": {identitytest.Password}})
	// The code is a calm second step, not an error: no alert, the password
	// carried over so only the code is asked for.
	if res.StatusCode != 200 || !strings.Contains(body, `id="totp"`) || strings.Contains(body, `role="alert"`) || !strings.Contains(body, "Password corretta") {
		t.Fatalf("password only: %d, want the calm code step", res.StatusCode)
	}
	res, body = b.PostForm("/login", url.Values{"email": {u.Email}, "password": {identitytest.Password}, "step": {"code"}, "totp": {"000000"}})
	if res.StatusCode != 401 || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "Il codice non è corretto") {
		t.Fatalf("a wrong code: %d, want the code step again with the message next to the code", res.StatusCode)
	}
	res, _ = b.PostForm("/login", url.Values{"email": {u.Email}, "password": {identitytest.Password},
		"totp": {identity.TOTPCode(u.TOTPSecret, time.Now())}, "next": {"/admin/audit"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/admin/audit" {
		t.Fatalf("with the code: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := b.Get("/admin/audit"); res.StatusCode != 200 || !strings.Contains(body, "Accesso riuscito") {
		t.Fatalf("audit page after signing in: %d", res.StatusCode)
	}
}

// Changing one's password needs the current one and ends API sign-ins.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	_, tok := login(t, a, u.Email, identitytest.Password)
	b := k.Browser(a.URL(), u)
	res, body := b.PostForm("/account/password", url.Values{"current_password": {"wrong one!"}, "password": {"nuova password lunga"}})
	if res.StatusCode != 400 || !strings.Contains(body, "La password attuale non è corretta.") {
		t.Fatalf("wrong current password: %d", res.StatusCode)
	}
	res, _ = b.PostForm("/account/password", url.Values{"current_password": {identitytest.Password}, "password": {"corta"}})
	if res.StatusCode != 400 {
		t.Fatalf("short new password: %d", res.StatusCode)
	}
	res, _ = b.PostForm("/account/password", url.Values{"current_password": {identitytest.Password}, "password": {"nuova password lunga"}})
	if res.StatusCode != 303 {
		t.Fatalf("change: %d", res.StatusCode)
	}
	if st, _ := refresh(t, a, tok["refresh_token"]); st != 401 {
		t.Fatalf("API sign-in survived a password change: %d", st)
	}
	if st, _ := login(t, a, u.Email, "nuova password lunga"); st != 200 {
		t.Fatalf("new password: %d", st)
	}
}

// The invite form refused shows every mistake at once, each next to its
// field and marked for screen readers, with what was typed kept.
func TestWebInviteFormShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	b := k.Browser(a.URL(), hr)
	res, body := b.PostForm("/users/invite", url.Values{"email": {"non-una-email"}, "name": {"   "}, "role": {"employee"}})
	if res.StatusCode != 400 {
		t.Fatalf("bad invitation: %d, want 400", res.StatusCode)
	}
	for _, want := range []string{
		`value="non-una-email" aria-invalid="true" aria-describedby="email-error"`,
		`<p class="field-error" id="email-error">L&#39;indirizzo email non è valido.</p>`,
		`aria-invalid="true" aria-describedby="name-error"`,
		`<p class="field-error" id="name-error">Scrivi nome e cognome`,
		`id="invite-errors"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lacks %s", want)
		}
	}
}
