package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// With METRICS_TOKEN set (production requires it) /metrics answers only a
// scraper that sends it; with BASE_URL on https every answer carries HSTS.
func TestMetricsTokenAndHSTS(t *testing.T) {
	cfg := apptest.Config(dbtest.New(t))
	cfg.MetricsToken = "metrics-token-for-the-test"
	cfg.BaseURL = "https://reciproca.example"
	a := apptest.StartWith(t, cfg)
	for _, authorization := range []string{"", "Bearer wrong-token", "metrics-token-for-the-test", "Bearer metrics-token-for-the-tes"} {
		if res, body := send(t, a.URL()+"/metrics", authorization, nil); res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "reciproca_") {
			t.Errorf("/metrics with Authorization %q = %d, want 401 and no metrics", authorization, res.StatusCode)
		}
	}
	res, body := send(t, a.URL()+"/metrics", "Bearer metrics-token-for-the-test", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "reciproca_http_requests_total") {
		t.Fatalf("/metrics with the token = %d", res.StatusCode)
	}
	for _, path := range []string{"/", "/healthz", "/api/v1/status", "/login"} {
		if res, _ := send(t, a.URL()+path, "", nil); !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=31536000") {
			t.Errorf("%s over https: Strict-Transport-Security %q", path, res.Header.Get("Strict-Transport-Security"))
		}
	}
}

// Over plain http (development) there is no HSTS, which would lock a
// developer's browser out of http://localhost; /metrics is open there.
func TestNoHSTSOverHTTP(t *testing.T) {
	a := apptest.Start(t)
	res, _ := send(t, a.URL()+"/", "", nil)
	if h := res.Header.Get("Strict-Transport-Security"); h != "" {
		t.Fatalf("HSTS over http: %q", h)
	}
	if res, _ := send(t, a.URL()+"/metrics", "", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics without METRICS_TOKEN = %d, want open", res.StatusCode)
	}
}

// API answers that carry tokens or personal data — and, so that none is
// forgotten, every API answer — tell browsers and proxies not to keep them.
func TestAPIAnswersAreNotStored(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	tokens, err := a.Identity.TokensFor(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, res *http.Response) {
		t.Helper()
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
		}
	}
	res, _ := send(t, a.URL()+"/api/v1/me", "Bearer "+tokens.AccessToken, nil)
	check("GET /me", res)
	res, _ = send(t, a.URL()+"/api/v1/me", "", nil)
	check("GET /me refused", res)
	res, _ = postJSON(t, a.URL()+"/api/v1/auth/refresh", `{"refresh_token":"`+tokens.RefreshToken+`"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("refresh = %d", res.StatusCode)
	}
	check("POST /auth/refresh (tokens)", res)
	res, _ = postJSON(t, a.URL()+"/api/v1/auth/login", `{"email":"`+u.Email+`","password":"`+identitytest.Password+`"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login = %d", res.StatusCode)
	}
	check("POST /auth/login (tokens)", res)
}

func postJSON(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
