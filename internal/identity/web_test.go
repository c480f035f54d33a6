package identity_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// A person signs in with the web form, sees their name, signs out, and the
// old session no longer opens their profile.
func TestWebSignInAndOut(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	u := k.As(identity.OrgProvider, identity.RoleProviderStaff)
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
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	u := k.As(identity.OrgCompany, identity.RoleEmployee)
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
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(identity.OrgCompany, identity.RoleCompanyAdmin)
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
	if res.StatusCode != 201 {
		t.Fatalf("with the token: %d, want 201", res.StatusCode)
	}
}

// Platform admins read the security log through the API and the web.
func TestAuditLogForPlatformAdmins(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	admin := k.As(identity.OrgPlatform, identity.RolePlatformAdmin)
	e := k.As(identity.OrgCompany, identity.RoleEmployee)
	login(t, a, e.Email, "wrong password!")
	st, body := callList(t, a, "/audit-log?limit=10", k.Token(admin))
	if st != 200 || len(body) == 0 || body[0]["event"] != identity.EventLoginFailed || body[0]["email"] != e.Email {
		t.Fatalf("audit log: %d %v", st, body)
	}
	if res, page := k.Browser(a.URL(), admin).Get("/admin/audit"); res.StatusCode != 200 || !strings.Contains(page, identity.EventLoginFailed) {
		t.Fatalf("audit page: %d", res.StatusCode)
	}
}
