package identity_test

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/mail/mailtest"
)

// browserFrom is a visitor's browser whose requests reach the app through
// the trusted proxy (127.0.0.1) on behalf of client address ip.
func browserFrom(t *testing.T, k *identitytest.Kit, base, ip string) *identitytest.Browser {
	b := k.Browser(base, nil)
	b.Client.Transport = forwardedFor{ip}
	return b
}

type forwardedFor struct{ ip string }

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.ip)
	return http.DefaultTransport.RoundTrip(r)
}

var unlockLinkRE = regexp.MustCompile(`https?://\S+/login/unlock\?token=\S+`)

// An attacker on another network fails on purpose to keep the owner out.
// Sign-ins with that e-mail are slowed down, not locked; the sign-in page
// says an unlock link was mailed; the owner opens it, and their browser
// signs in while the attack goes on, while other browsers still wait. The
// failures are recorded against the attacker's address, which came from
// X-Forwarded-For because the proxy is configured (TRUSTED_PROXIES).
func TestSlowedDownNotLockedOut(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(dbtest.New(t))
	_, loopback, _ := net.ParseCIDR("127.0.0.1/32")
	cfg.TrustedProxies = []*net.IPNet{loopback}
	a := apptest.StartWith(t, cfg)
	k := identitytest.New(t, a.DB, a.Identity)
	owner := k.As(auth.OrgCompany, auth.RoleEmployee)
	addr := mailtest.Address("owner")
	if _, err := a.DB.Exec(`UPDATE users SET email = $1 WHERE id = $2`, addr, owner.ID); err != nil {
		t.Fatal(err)
	}
	attacker := browserFrom(t, k, a.URL(), "203.0.113.7")
	attack := func(n int) {
		for range n {
			if res, _ := attacker.PostForm("/login", url.Values{"email": {addr}, "password": {"indovino-a-caso"}}); res.StatusCode != 401 && res.StatusCode != 429 {
				t.Fatalf("attacker's attempt = %d", res.StatusCode)
			}
		}
	}
	// The attack's waits grow past what this test could sit through:
	// make the e-mail's wait a long one, as a long attack would.
	longWait := func() {
		t.Helper()
		if _, err := a.DB.Exec(`UPDATE auth_throttle SET locked_until = now() + interval '10 minutes' WHERE key = $1`, "email:"+addr); err != nil {
			t.Fatal(err)
		}
	}
	attack(6)
	longWait()
	ownerBrowser := browserFrom(t, k, a.URL(), "198.51.100.9")
	res, page := ownerBrowser.PostForm("/login", url.Values{"email": {addr}, "password": {identitytest.Password}})
	if res.StatusCode != 429 || !strings.Contains(page, "link per sbloccare") {
		t.Fatalf("owner during the attack = %d, want 429 saying an unlock link was mailed", res.StatusCode)
	}
	var ip string
	if err := a.DB.Get(&ip, `SELECT ip FROM audit_log WHERE event = 'login_failed' AND email = $1 LIMIT 1`, addr); err != nil || ip != "203.0.113.7" {
		t.Fatalf("failures recorded from %q (%v), want the forwarded 203.0.113.7", ip, err)
	}

	mails := mailtest.Wait(t, addr, 1)
	if len(mails) != 1 || !strings.Contains(mails[0].Text, "Sblocca") && !strings.Contains(mails[0].Text, "sbloccato") {
		t.Fatalf("unlock mail:\n%v", mails)
	}
	if !strings.Contains(mails[0].Text, "slowed down") {
		t.Fatalf("the unlock mail has no English part:\n%s", mails[0].Text)
	}
	link, _ := url.Parse(unlockLinkRE.FindString(mails[0].Text))
	if link == nil {
		t.Fatalf("no unlock link in:\n%s", mails[0].Text)
	}
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(a.URL())
	jar.SetCookies(base, []*http.Cookie{{Name: "csrf", Value: ownerBrowser.CSRF(), Path: "/"}})
	ownerBrowser.Client.Jar = jar
	if res, page := ownerBrowser.Get(link.RequestURI()); res.StatusCode != 200 || !strings.Contains(page, `action="/login/unlock"`) {
		t.Fatalf("unlock page = %d", res.StatusCode)
	}
	res, _ = ownerBrowser.PostForm("/login/unlock", url.Values{"token": {link.Query().Get("token")}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/login?unlocked=1" {
		t.Fatalf("unlock = %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := ownerBrowser.PostForm("/login/unlock", url.Values{"token": {link.Query().Get("token")}}); res.StatusCode != 404 {
		t.Fatalf("the unlock link worked twice: %d", res.StatusCode)
	}

	// The attack goes on; the owner's browser still gets in, others wait.
	attack(7)
	longWait()
	if res, _ := browserFrom(t, k, a.URL(), "198.51.100.10").PostForm("/login", url.Values{"email": {addr}, "password": {identitytest.Password}}); res.StatusCode != 429 {
		t.Fatalf("an untrusted browser during the renewed attack = %d, want 429", res.StatusCode)
	}
	res, _ = ownerBrowser.PostForm("/login", url.Values{"email": {addr}, "password": {identitytest.Password}})
	if res.StatusCode != 303 {
		t.Fatalf("the owner's unlocked browser during the attack = %d, want signed in", res.StatusCode)
	}
	if res, _ := ownerBrowser.Get("/account"); res.StatusCode != 200 {
		t.Fatalf("owner's /account = %d", res.StatusCode)
	}
	// One unlock mail an hour, however long the attack.
	if n := mailsTo(t, a, addr); n != 1 {
		t.Fatalf("%d unlock mails, want 1", n)
	}
}

// Without TRUSTED_PROXIES an X-Forwarded-For header is ignored, even from
// loopback or a private address: a client cannot choose the address its
// failures count against.
func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	b := browserFrom(t, k, a.URL(), "203.0.113.99")
	b.PostForm("/login", url.Values{"email": {"chiunque@example.com"}, "password": {"sbagliata-del-tutto"}})
	var ip string
	if err := a.DB.Get(&ip, `SELECT ip FROM audit_log WHERE event = 'login_failed' AND email = 'chiunque@example.com'`); err != nil || ip != "127.0.0.1" {
		t.Fatalf("failure recorded from %q (%v), want the peer 127.0.0.1", ip, err)
	}
	_ = identity.EventLoginFailed
}
