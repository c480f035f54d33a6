package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// send makes one request with optional Authorization header and cookie,
// without following redirects.
func send(t *testing.T, url, authorization string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// One edge turns a bearer token or a session cookie into the same caller
// on the API and on the web; refused credentials never fall back to the
// other kind, and each surface answers them in its own way.
func TestOneAuthenticationEdge(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	bearer, cookie := "Bearer "+k.Token(u), k.SessionCookie(u)

	for name, c := range map[string]struct {
		authorization string
		cookie        *http.Cookie
	}{"bearer": {bearer, nil}, "cookie": {"", cookie}} {
		res, body := send(t, a.URL()+"/api/v1/me", c.authorization, c.cookie)
		var me map[string]any
		_ = json.Unmarshal([]byte(body), &me)
		if res.StatusCode != 200 || me["email"] != u.Email {
			t.Errorf("API /me with a %s: %d %s", name, res.StatusCode, body)
		}
		if res, body := send(t, a.URL()+"/account", c.authorization, c.cookie); res.StatusCode != 200 || !strings.Contains(body, u.Name) {
			t.Errorf("web /account with a %s: %d", name, res.StatusCode)
		}
	}

	// A request with an Authorization header is judged by it alone: a bad
	// token next to a good session cookie is not signed in.
	if res, _ := send(t, a.URL()+"/account", "Bearer not-a-token", cookie); res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("web with a bad token and a good cookie: %d %s, want sign-in", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := send(t, a.URL()+"/api/v1/me", "Basic dXNlcjpwYXNz", cookie); res.StatusCode != 401 || !strings.Contains(body, "Authorization header must be") {
		t.Errorf("API with Basic auth and a good cookie: %d %s, want 401", res.StatusCode, body)
	}
	// Refused credentials still reach public operations, anonymous.
	if res, body := send(t, a.URL()+"/api/v1/status", "Bearer not-a-token", nil); res.StatusCode != 200 {
		t.Errorf("public API operation with a bad token: %d %s", res.StatusCode, body)
	}

	// An ended session: the API says so, the web clears the cookie and
	// asks the person to sign in.
	if err := a.Identity.SignOut(t.Context(), cookie.Value); err != nil {
		t.Fatal(err)
	}
	if res, body := send(t, a.URL()+"/api/v1/me", "", cookie); res.StatusCode != 401 || !strings.Contains(body, "session has expired") {
		t.Errorf("API with an ended session: %d %s", res.StatusCode, body)
	}
	res, _ := send(t, a.URL()+"/account", "", cookie)
	cleared := false
	for _, c := range res.Cookies() {
		cleared = cleared || (c.Name == cookie.Name && c.MaxAge < 0)
	}
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") || !cleared {
		t.Errorf("web with an ended session: %d %s, cookie cleared %v", res.StatusCode, res.Header.Get("Location"), cleared)
	}
}
