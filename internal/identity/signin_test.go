package identity_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

func auditCount(t *testing.T, a interface {
	Get(dest any, q string, args ...any) error
}, event string) int {
	t.Helper()
	var n int
	if err := a.Get(&n, `SELECT count(*) FROM audit_log WHERE event = $1`, event); err != nil {
		t.Fatal(err)
	}
	return n
}

// Using a refresh token twice is theft: the second use fails and revokes
// the whole sign-in, including the token that replaced it.
func TestRefreshTokenReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	_, first := login(t, a, u.Email, identitytest.Password)
	_, other := login(t, a, u.Email, identitytest.Password) // another device: a separate family

	st, second := refresh(t, a, first["refresh_token"])
	if st != 200 {
		t.Fatalf("first refresh = %d", st)
	}
	st, body := refresh(t, a, first["refresh_token"])
	if st != 401 || body["code"] != "unauthorized" {
		t.Fatalf("reuse = %d %v, want 401", st, body)
	}
	if st, _ := refresh(t, a, second["refresh_token"]); st != 401 {
		t.Fatalf("the successor of a reused token still works: %d", st)
	}
	if st, _ := refresh(t, a, other["refresh_token"]); st != 200 {
		t.Fatalf("another device's sign-in was revoked too: %d", st)
	}
	if n := auditCount(t, a.DB, identity.EventRefreshReuse); n != 1 {
		t.Fatalf("audit log has %d refresh_token_reuse events, want 1", n)
	}
}

// An unknown e-mail and a wrong password get byte-for-byte the same answer
// (apart from the request id); past five failures both must wait alike,
// longer after each further failure, and even the right password is
// refused until the wait ends — a wait, never a lock that outlasts it.
func TestLockoutAndNoEmailEnumeration(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	strip := func(m map[string]any) map[string]any {
		delete(m, "request_id")
		return m
	}
	st1, wrong := login(t, a, u.Email, "not the password")
	st2, unknown := login(t, a, "nobody@nowhere.example", "not the password")
	if st1 != 401 || st2 != 401 || !equalJSON(strip(wrong), strip(unknown)) {
		t.Fatalf("wrong password %d %v vs unknown e-mail %d %v: must be identical", st1, wrong, st2, unknown)
	}
	var waits []int
	for i := 2; i <= 8; i++ { // failures 2..5 are free; 6, 7, 8 wait 1, 2, 4 s
		login(t, a, u.Email, "not the password")
		login(t, a, "nobody@nowhere.example", "not the password")
		var secs float64 // the wait this failure set (locked_until and window_start share its transaction's now())
		_ = a.DB.Get(&secs, `SELECT GREATEST(COALESCE(extract(epoch FROM locked_until - window_start), 0), 0) FROM auth_throttle WHERE key = $1`,
			"email:"+strings.ToLower(u.Email))
		waits = append(waits, int(secs+0.5))
		if i < 8 { // let the wait pass, so the next failure counts
			if _, err := a.DB.Exec(`UPDATE auth_throttle SET locked_until = now() - interval '1 second' WHERE key LIKE 'email:%'`); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(waits) != "[0 0 0 0 1 2 4]" {
		t.Fatalf("waits after failures 2..8: %v, want [0 0 0 0 1 2 4] seconds", waits)
	}
	// Hold both waits while the answers are compared (a loaded machine
	// could outlast 4 s between two sign-ins).
	if _, err := a.DB.Exec(`UPDATE auth_throttle SET locked_until = now() + interval '1 minute' WHERE key LIKE 'email:%'`); err != nil {
		t.Fatal(err)
	}
	st1, lockedKnown := login(t, a, u.Email, identitytest.Password)
	st2, lockedUnknown := login(t, a, "nobody@nowhere.example", identitytest.Password)
	if st1 != 429 || st2 != 429 || lockedKnown["code"] != "rate_limited" {
		t.Fatalf("after 8 failures: known %d %v, unknown %d %v, want 429 for both", st1, lockedKnown, st2, lockedUnknown)
	}
	if strip(lockedKnown)["message"] != strip(lockedUnknown)["message"] {
		t.Fatalf("locked answers differ: %v vs %v", lockedKnown, lockedUnknown)
	}
	if n := auditCount(t, a.DB, identity.EventLockout); n != 2 {
		t.Fatalf("%d lockout events, want 2 (one per address)", n)
	}
	// Someone else from the same address is not locked out by these.
	v := k.As(auth.OrgCompany, auth.RoleEmployee)
	if st, _ := login(t, a, v.Email, identitytest.Password); st != 200 {
		t.Fatalf("another account was locked too: %d", st)
	}
	// The lock ends: simulate the time passing.
	if _, err := a.DB.Exec(`UPDATE auth_throttle SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if st, _ := login(t, a, u.Email, identitytest.Password); st != 200 {
		t.Fatalf("after the lock: %d, want 200", st)
	}
}

func equalJSON(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A malformed body gets 400 in the error shape and nothing alarming in the
// logs (no stack trace, no error level).
func TestMalformedLoginBody(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	a := apptest.Start(t)
	for _, body := range []string{`{"email": "a@b.example", "password": `, `not json`, `[]`, `{"email": 1, "password": "x"}`, `{"email":"a@b.example"}`, ``} {
		st, e := call(t, a, "POST", "/auth/login", "", body)
		if st != 400 || e["code"] != "invalid" || e["message"] == "" || e["request_id"] == nil {
			t.Errorf("body %q: %d %v, want 400 invalid in the error shape", body, st, e)
		}
	}
	for _, bad := range []string{"stack", "panic", `"level":"ERROR"`, "goroutine"} {
		if strings.Contains(logs.String(), bad) {
			t.Fatalf("logs contain %q:\n%s", bad, logs.String())
		}
	}
}

// Roles that require a second factor: the password alone is not enough;
// the current code is; a recovery code works once.
func TestTOTPSignIn(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	m := k.As(auth.OrgFund, auth.RoleFundManager)
	st, body := login(t, a, m.Email, identitytest.Password)
	details, _ := body["details"].(map[string]any)
	if st != 401 || details["totp_required"] != true {
		t.Fatalf("password only: %d %v, want 401 totp_required", st, body)
	}
	st, _ = call(t, a, "POST", "/auth/login", "", map[string]any{"email": m.Email, "password": identitytest.Password, "totp_code": "000000"})
	if st != 401 {
		t.Fatalf("wrong code: %d", st)
	}
	code := identity.TOTPCode(m.TOTPSecret, time.Now())
	st, body = call(t, a, "POST", "/auth/login", "", map[string]any{"email": m.Email, "password": identitytest.Password, "totp_code": code})
	if st != 200 {
		t.Fatalf("right code: %d %v", st, body)
	}
	st, _ = call(t, a, "POST", "/auth/login", "", map[string]any{"email": m.Email, "password": identitytest.Password, "totp_code": code})
	if st != 401 {
		t.Fatalf("the same code worked twice: %d", st)
	}
	// Recovery codes: made when the factor is confirmed.
	codes, err := a.Identity.ConfirmTOTP(t.Context(), m.Principal(), code)
	if err == nil || len(codes) != 0 {
		t.Fatalf("confirming an already enabled factor: %v %v, want conflict", codes, err)
	}
	e := k.As(auth.OrgCompany, auth.RoleEmployee) // optional for employees
	setup, err := a.Identity.BeginTOTP(t.Context(), e.Principal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.ConfirmTOTP(t.Context(), e.Principal(), "123456"); err == nil {
		t.Fatal("a wrong confirmation code was accepted")
	}
	codes, err = a.Identity.ConfirmTOTP(t.Context(), e.Principal(), identity.TOTPCode(setup.Secret, time.Now()))
	if err != nil || len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("confirm: %v %v", codes, err)
	}
	recovery := map[string]any{"email": e.Email, "password": identitytest.Password, "totp_code": codes[3]}
	if st, _ := call(t, a, "POST", "/auth/login", "", recovery); st != 200 {
		t.Fatalf("recovery code: %d", st)
	}
	if st, _ := call(t, a, "POST", "/auth/login", "", recovery); st != 401 {
		t.Fatalf("a recovery code worked twice: %d", st)
	}
}

// A fund approver without a second factor cannot use the API and, on the
// web, can only set it up: every other page sends them to the setup page.
func TestTOTPSetupIsForcedOnTheWeb(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgFund, auth.RoleFundApprover)
	if _, err := a.DB.Exec(`UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if st, body := login(t, a, u.Email, identitytest.Password); st != 403 || body["code"] != "forbidden" {
		t.Fatalf("API sign-in without the required factor: %d %v, want 403", st, body)
	}
	b := k.Browser(a.URL(), nil)
	res, _ := b.PostForm("/login", map[string][]string{"email": {u.Email}, "password": {identitytest.Password}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/account/totp" {
		t.Fatalf("web sign-in: %d %s, want the setup page", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := b.Get("/account"); res.StatusCode != 303 || res.Header.Get("Location") != "/account/totp" {
		t.Fatalf("/account before setup: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The same session is refused by the API, even where it would go on
	// anonymous it does not speak for the person.
	if res, body := b.Get("/api/v1/me"); res.StatusCode != 401 || !strings.Contains(body, "two-factor") {
		t.Fatalf("API with a session before setup: %d %s", res.StatusCode, body)
	}
	res, page := b.Get("/account/totp")
	secret := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page)
	if res.StatusCode != 200 || secret == nil || !strings.Contains(page, "data:image/png;base64,") {
		t.Fatalf("setup page: %d, secret %v", res.StatusCode, secret)
	}
	res, page = b.PostForm("/account/totp", map[string][]string{"code": {identity.TOTPCode(secret[1], time.Now())}})
	if res.StatusCode != 200 || strings.Count(page, "<li><code>") != identity.RecoveryCodeCount {
		t.Fatalf("confirm: %d, want %d recovery codes on the page", res.StatusCode, identity.RecoveryCodeCount)
	}
	if res, body := b.Get("/account"); res.StatusCode != 200 || !strings.Contains(body, u.Name) {
		t.Fatalf("/account after setup: %d", res.StatusCode)
	}
	var stored string
	if err := a.DB.Get(&stored, `SELECT totp_secret FROM users WHERE id = $1`, u.ID); err != nil || !strings.HasPrefix(stored, "v1.") || strings.Contains(stored, secret[1]) {
		t.Fatalf("the second-factor secret is stored as %q, want it sealed", stored)
	}
}

// Deactivating someone ends their sessions and sign-ins at once.
func TestDeactivationEndsEverySignIn(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	org := k.Org(auth.OrgCompany, "")
	hr := k.User(org, auth.RoleCompanyAdmin)
	e := k.User(org, auth.RoleEmployee)
	_, tok := login(t, a, e.Email, identitytest.Password)
	web := k.Browser(a.URL(), e)
	admin := k.Browser(a.URL(), hr)
	res, _ := admin.PostForm("/users/"+e.ID.String()+"/status", map[string][]string{"status": {"deactivated"}})
	if res.StatusCode != 303 {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	if res, _ := web.Get("/account"); res.StatusCode != 303 {
		t.Fatalf("session still open after deactivation: %d", res.StatusCode)
	}
	if st, _ := refresh(t, a, tok["refresh_token"]); st != 401 {
		t.Fatalf("refresh after deactivation: %d", st)
	}
	if st, _ := login(t, a, e.Email, identitytest.Password); st != 401 {
		t.Fatalf("sign-in after deactivation: %d", st)
	}
	if n := auditCount(t, a.DB, identity.EventUserDeactivated); n != 1 {
		t.Fatalf("%d deactivation events", n)
	}
	// Admins cannot lock themselves out.
	if res, _ := admin.PostForm("/users/"+hr.ID.String()+"/status", map[string][]string{"status": {"deactivated"}}); res.StatusCode != 403 {
		t.Fatalf("self-deactivation: %d, want 403", res.StatusCode)
	}
}

var linkRE = regexp.MustCompile(`http://[^\s]+token=[A-Za-z0-9_-]+`)

// lastLink returns the link in the newest mail to addr.
func lastLink(t *testing.T, a interface {
	Get(dest any, q string, args ...any) error
}, addr string) string {
	t.Helper()
	var body string
	if err := a.Get(&body, `SELECT body FROM mail_outbox WHERE to_addr = $1 ORDER BY created_at DESC LIMIT 1`, addr); err != nil {
		t.Fatalf("no mail to %s: %v", addr, err)
	}
	l := linkRE.FindString(body)
	if l == "" {
		t.Fatalf("no link in mail: %s", body)
	}
	return l
}

// Password reset: the same answer for any address, a mail only for real
// accounts, a one-time link, and the other sign-ins end.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	_, tok := login(t, a, u.Email, identitytest.Password)
	st1, b1 := call(t, a, "POST", "/auth/password-reset", "", map[string]any{"email": u.Email})
	st2, b2 := call(t, a, "POST", "/auth/password-reset", "", map[string]any{"email": "ghost@nowhere.example"})
	if st1 != 202 || st2 != 202 || len(b1) != 0 || len(b2) != 0 {
		t.Fatalf("reset requests: %d %v / %d %v, want the same 202", st1, b1, st2, b2)
	}
	var mails int
	_ = a.DB.Get(&mails, `SELECT count(*) FROM mail_outbox`)
	if mails != 1 {
		t.Fatalf("%d mails, want 1 (none for the unknown address)", mails)
	}
	token := strings.SplitN(lastLink(t, a.DB, u.Email), "token=", 2)[1]
	if st, e := call(t, a, "POST", "/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "short"}); st != 400 || e["code"] != "invalid" {
		t.Fatalf("weak password: %d %v", st, e)
	}
	if st, _ := call(t, a, "POST", "/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "una nuova password lunga"}); st != 204 {
		t.Fatalf("reset: %d", st)
	}
	if st, _ := call(t, a, "POST", "/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "un'altra password lunga"}); st != 404 {
		t.Fatalf("link used twice: %d, want 404", st)
	}
	if st, _ := refresh(t, a, tok["refresh_token"]); st != 401 {
		t.Fatalf("old sign-in survived the reset: %d", st)
	}
	if st, _ := login(t, a, u.Email, identitytest.Password); st != 401 {
		t.Fatalf("old password still works: %d", st)
	}
	if st, _ := login(t, a, u.Email, "una nuova password lunga"); st != 200 {
		t.Fatalf("new password: %d", st)
	}
}
