package identity_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// call sends a JSON request to the API and decodes the JSON answer.
func call(t *testing.T, a *app.App, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, a.URL()+"/api/v1"+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return res.StatusCode, out
}

// callHeader sends a bodiless request with a raw Authorization header.
func callHeader(t *testing.T, a *app.App, method, path, authorization string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, a.URL()+"/api/v1"+path, nil)
	req.Header.Set("Authorization", authorization)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func login(t *testing.T, a *app.App, email, password string) (int, map[string]any) {
	t.Helper()
	return call(t, a, "POST", "/auth/login", "", map[string]any{"email": email, "password": password})
}

// An employee signs in through the API, sees who they are, refreshes, and
// signs out; after sign-out the refresh token is dead.
func TestAPISignInRefreshMeLogout(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)

	st, tok := login(t, a, u.Email, identitytest.Password)
	if st != 200 || tok["token_type"] != "Bearer" || tok["access_token"] == "" || tok["refresh_token"] == "" {
		t.Fatalf("login = %d %v", st, tok)
	}
	st, me := call(t, a, "GET", "/me", tok["access_token"].(string), nil)
	if st != 200 || me["email"] != u.Email || me["name"] != u.Name {
		t.Fatalf("me = %d %v", st, me)
	}
	org := me["organisation"].(map[string]any)
	if org["id"] != u.Org.ID.String() || org["kind"] != "company" || me["roles"].([]any)[0] != "employee" {
		t.Fatalf("me organisation/roles = %v", me)
	}
	st, tok2 := refresh(t, a, tok["refresh_token"])
	if st != 200 || tok2["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh = %d %v", st, tok2)
	}
	if st, _ := call(t, a, "GET", "/me", tok2["access_token"].(string), nil); st != 200 {
		t.Fatalf("me with refreshed token = %d", st)
	}
	if st, _ := call(t, a, "POST", "/auth/logout", "", map[string]any{"refresh_token": tok2["refresh_token"]}); st != 204 {
		t.Fatalf("logout = %d", st)
	}
	if st, e := refresh(t, a, tok2["refresh_token"]); st != 401 || e["code"] != "unauthorized" {
		t.Fatalf("refresh after logout = %d %v, want 401", st, e)
	}
	if st, e := call(t, a, "GET", "/me", "", nil); st != 401 || e["code"] != "unauthorized" {
		t.Fatalf("me without token = %d %v, want 401", st, e)
	}
}

// callList is call for endpoints answering a JSON array.
func callList(t *testing.T, a *app.App, path, token string) (int, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL()+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out []map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// start starts the app and a kit to create its people.
func start(t *testing.T) (*app.App, *identitytest.Kit) {
	a := apptest.Start(t)
	return a, identitytest.New(t, a.DB, a.Identity)
}

// refresh exchanges a refresh token (any: tests pass decoded JSON values).
func refresh(t *testing.T, a *app.App, token any) (int, map[string]any) {
	t.Helper()
	return call(t, a, "POST", "/auth/refresh", "", map[string]any{"refresh_token": token})
}
