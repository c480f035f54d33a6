package identity_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The header trick: a signed-in browser's form posted cross-site with an
// Authorization header of any kind — garbage, Basic, even the person's own
// valid bearer token — and no CSRF token is refused on a cookie-
// authenticated web route, and the password stays as it was.
func TestAuthorizationHeaderNeverSkipsCSRF(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	b := k.Browser(a.URL(), u)
	const next = "Una-password-nuova-e-lunga-7"
	form := url.Values{"current_password": {identitytest.Password}, "password": {next}}
	for _, authorization := range []string{"Bearer x", "Bearer " + k.Token(u), "Basic dXNlcjpwYXNz", "Token abc"} {
		req, _ := http.NewRequest(http.MethodPost, a.URL()+"/account/password", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", authorization)
		res, err := b.Client.Do(req) // the jar sends the session and CSRF cookies, the form has no token
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
			t.Errorf("password change with Authorization %q and no CSRF token = %d, want refused", authorization[:min(len(authorization), 12)], res.StatusCode)
		}
	}
	if _, err := a.Identity.Login(t.Context(), identity.Credentials{Email: u.Email, Password: identitytest.Password}); err != nil {
		t.Fatalf("the old password no longer works: a forged request changed it (%v)", err)
	}
	// The same form with its token goes through: the refusal was the CSRF check.
	if res, _ := b.PostForm("/account/password", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change with the CSRF token = %d, want 303", res.StatusCode)
	}
}
