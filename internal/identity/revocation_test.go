package identity_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// webSignIn signs a fresh browser (a cookie jar of its own) in through
// the sign-in form, as a person would.
func webSignIn(t *testing.T, a *app.App, k *identitytest.Kit, email, password string) *identitytest.Browser {
	t.Helper()
	b := k.Browser(a.URL(), nil)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(a.URL())
	jar.SetCookies(u, []*http.Cookie{{Name: "csrf", Value: b.CSRF(), Path: "/"}})
	b.Client.Jar = jar
	res, _ := b.PostForm("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("web sign-in = %d", res.StatusCode)
	}
	return b
}

// signedIn reports whether browser b still opens the profile page.
func signedIn(t *testing.T, b *identitytest.Browser) bool {
	t.Helper()
	res, _ := b.Get("/account")
	return res.StatusCode == http.StatusOK
}

// refusedWithin polls until do reports a refusal, failing the test when
// that takes longer than limit; it returns how long it took.
func refusedWithin(t *testing.T, what string, limit time.Duration, do func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !do() {
		if time.Since(start) > limit {
			t.Fatalf("%s still works %v later", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// Two cookie jars and an API client are signed in as one person. The
// person changes their password in the first browser: the second browser
// is signed out, the API sign-in can no longer refresh and its access
// token stops within 5 s; the first browser stays signed in.
func TestChangingPasswordEndsEveryOtherSession(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	here := webSignIn(t, a, k, u.Email, identitytest.Password)
	there := webSignIn(t, a, k, u.Email, identitytest.Password)
	st, tok := login(t, a, u.Email, identitytest.Password)
	if st != 200 || !signedIn(t, here) || !signedIn(t, there) {
		t.Fatalf("signing in: API %d, browsers %v %v", st, signedIn(t, here), signedIn(t, there))
	}
	access := tok["access_token"].(string)
	if st, _ := call(t, a, "GET", "/me", access, nil); st != 200 {
		t.Fatalf("API /me before = %d", st)
	}
	const next = "Un'altra-password-lunga-9"
	if res, _ := here.PostForm("/account/password", url.Values{"current_password": {identitytest.Password}, "password": {next}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change = %d", res.StatusCode)
	}
	if !signedIn(t, here) {
		t.Fatal("the browser that changed the password was signed out")
	}
	if signedIn(t, there) {
		t.Fatal("the other browser is still signed in after the password change")
	}
	if st, _ := refresh(t, a, tok["refresh_token"]); st != 401 {
		t.Fatalf("API refresh after the password change = %d, want 401", st)
	}
	refusedWithin(t, "the API access token", 5*time.Second, func() bool {
		st, _ := call(t, a, "GET", "/me", access, nil)
		return st == 401
	})
	if st, _ := login(t, a, u.Email, next); st != 200 {
		t.Fatalf("sign-in with the new password = %d", st)
	}
}

// Two app servers share one database and signing key. A token that
// server B has just accepted (so B cached its user) stops working on B
// within 5 s of a change made through server A: a deactivation, a sign-out
// of that API sign-in, a removed role — for writes and personal data.
func TestRevocationReachesEveryServerWithin5s(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	key := privPEM(t, identity.GenerateKey())
	servers := make([]*app.App, 2)
	for i := range servers {
		cfg := apptest.Config(url)
		cfg.Auth.JWTSigningKey = key
		cfg.Auth.Issuer = testIssuer
		servers[i] = apptest.StartWith(t, cfg)
	}
	a, b := servers[0], servers[1]
	k := identitytest.New(t, a.DB, a.Identity)
	acme := k.Org(auth.OrgCompany, "")
	boss := k.User(acme, auth.RoleCompanyAdmin)
	bossToken := k.Token(boss)

	// Deactivated: personal data (the colleagues' list) stops.
	gone := k.User(acme, auth.RoleCompanyAdmin)
	_, tok := login(t, a, gone.Email, identitytest.Password)
	goneToken := tok["access_token"].(string)
	if st, _ := callList(t, b, "/users", goneToken); st != 200 {
		t.Fatalf("B /users before = %d", st)
	}
	if st, e := call(t, a, "PATCH", "/users/"+gone.ID.String(), bossToken, map[string]any{"status": "deactivated"}); st != 200 {
		t.Fatalf("deactivating on A = %d %v", st, e)
	}
	took := refusedWithin(t, "a deactivated user's token on B", 5*time.Second, func() bool {
		st, _ := callList(t, b, "/users", goneToken)
		return st == 401
	})
	t.Logf("deactivation reached server B after %v", took)

	// Signed out of the API: the access token of that sign-in stops.
	out := k.User(acme, auth.RoleEmployee)
	_, tok = login(t, a, out.Email, identitytest.Password)
	outToken := tok["access_token"].(string)
	if st, _ := call(t, b, "GET", "/me", outToken, nil); st != 200 {
		t.Fatalf("B /me before sign-out = %d", st)
	}
	if st, _ := call(t, a, "POST", "/auth/logout", "", map[string]any{"refresh_token": tok["refresh_token"]}); st != 204 {
		t.Fatalf("sign-out on A = %d", st)
	}
	refusedWithin(t, "a signed-out API token on B", 5*time.Second, func() bool {
		st, _ := call(t, b, "GET", "/me", outToken, nil)
		return st == 401
	})

	// Lost the admin role: writes (an invitation) stop.
	demoted := k.User(acme, auth.RoleCompanyAdmin, auth.RoleEmployee)
	demotedToken := k.Token(demoted)
	invite := func(n int) int {
		st, _ := call(t, b, "POST", "/users/invitations", demotedToken, map[string]any{
			"email": strings.ReplaceAll(demoted.Email, "@", "+"+string(rune('a'+n))+"@"), "name": "Invitata", "roles": []string{"employee"}})
		return st
	}
	if st := invite(0); st != 202 {
		t.Fatalf("invitation on B before the role change = %d", st)
	}
	if st, e := call(t, a, "PATCH", "/users/"+demoted.ID.String(), bossToken, map[string]any{"roles": []string{"employee"}}); st != 200 {
		t.Fatalf("removing the admin role on A = %d %v", st, e)
	}
	n := 1
	refusedWithin(t, "a demoted admin's token on B", 5*time.Second, func() bool {
		n++
		st := invite(n)
		return st == 401 || st == 403
	})
}

// The server that makes a change forgets what it knew of the user, so
// there the change holds on the very next request.
func TestRevocationIsImmediateOnTheSameServer(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	acme := k.Org(auth.OrgCompany, "")
	boss, admin := k.User(acme, auth.RoleCompanyAdmin), k.User(acme, auth.RoleCompanyAdmin)
	tok := k.Token(admin)
	if st, _ := callList(t, a, "/users", tok); st != 200 {
		t.Fatalf("/users before = %d", st)
	}
	if st, _ := call(t, a, "PATCH", "/users/"+admin.ID.String(), k.Token(boss), map[string]any{"roles": []string{"employee"}}); st != 200 {
		t.Fatalf("role change = %d", st)
	}
	if st, _ := callList(t, a, "/users", tok); st != 401 {
		t.Fatalf("/users right after the role change = %d, want 401", st)
	}
}
