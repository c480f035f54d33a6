package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/mail"
	"github.com/reciproca/reciproca/internal/mail/mailtest"
	"github.com/reciproca/reciproca/internal/seed"
)

func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestOperability(t *testing.T) {
	a := apptest.Start(t)
	c := http.DefaultClient
	if res, body := get(t, c, a.URL()+"/healthz"); res.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", res.StatusCode, body)
	}
	if res, body := get(t, c, a.URL()+"/readyz"); res.StatusCode != 200 {
		t.Fatalf("readyz = %d %q on a migrated database", res.StatusCode, body)
	}
	get(t, c, a.URL()+"/api/v1/status")
	res, body := get(t, c, a.URL()+"/metrics")
	if res.StatusCode != 200 {
		t.Fatalf("metrics = %d", res.StatusCode)
	}
	for _, want := range []string{
		`reciproca_http_requests_total{method="GET",route="/api/v1/status",status="200"} 1`,
		`reciproca_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
		`go_sql_max_open_connections{db_name="reciproca"}`,
		`reciproca_job_backlog{job="mail.deliver"}`,
		`reciproca_job_backlog{job="ledger.expire_holds"} 0`,
		`reciproca_job_last_success_timestamp_seconds{job="ledger.seal"}`,
		`reciproca_job_consecutive_failures{job="ledger.sweep_lots"} 0`,
		`reciproca_job_backlog{job="idempotency.sweep"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The app's worker delivers what the outbox holds: the mail reaches
// Mailpit once, and the job's backlog is back to zero.
func TestWorkerDeliversMail(t *testing.T) {
	a := apptest.Start(t)
	to := mailtest.Address("app")
	if err := mail.Enqueue(context.Background(), a.DB, mail.Message{To: to, Subject: "Benvenuta", Body: "Ciao!"}); err != nil {
		t.Fatal(err)
	}
	got := mailtest.Wait(t, to, 1)
	if got[0].Subject != "Benvenuta" || got[0].Text != "Ciao!\n" {
		t.Fatalf("arrived: %+v", got[0])
	}
	time.Sleep(300 * time.Millisecond)
	if got := mailtest.To(t, to); len(got) != 1 {
		t.Fatalf("%d copies arrived", len(got))
	}
	if _, body := get(t, http.DefaultClient, a.URL()+"/metrics"); !strings.Contains(body, `reciproca_job_backlog{job="mail.deliver"} 0`) {
		t.Fatalf("metrics after delivery:\n%s", body)
	}
}

func TestReadyzReportsPendingMigrations(t *testing.T) {
	a := apptest.Start(t)
	// Migrations are the owner's: the app's own role could not run them.
	owner, err := db.Open(context.Background(), a.Config.MigrateDatabaseURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if err := db.MigrateDown(context.Background(), a.DB.DB); err == nil {
		t.Fatal("the app's role rolled a migration back")
	}
	if err := db.MigrateDown(context.Background(), owner.DB); err != nil {
		t.Fatal(err)
	}
	if res, body := get(t, http.DefaultClient, a.URL()+"/readyz"); res.StatusCode != 503 || !strings.Contains(body, "migrations pending") {
		t.Fatalf("readyz = %d %q with a migration rolled back, want 503", res.StatusCode, body)
	}
}

type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

func TestAPIErrorsHaveOneShape(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	a := apptest.Start(t)
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/api/v1/no-such-thing", "", 404, "not_found"},
		{"GET", "/api/v1", "", 404, "not_found"},
		{"DELETE", "/api/v1/status", "", 404, "not_found"},
		{"POST", "/api/v1/status", `{"broken": `, 404, "not_found"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, a.URL()+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e apiError
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
			t.Fatalf("%s %s: body is not the JSON error shape: %v", tc.method, tc.path, err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || e.Code != tc.code || e.Message == "" || e.RequestID == "" {
			t.Errorf("%s %s = %d %+v, want %d %s with message and request id", tc.method, tc.path, res.StatusCode, e, tc.status, tc.code)
		}
		if e.RequestID != res.Header.Get("X-Request-Id") {
			t.Errorf("request id in body %q differs from header %q", e.RequestID, res.Header.Get("X-Request-Id"))
		}
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) || strings.Contains(logs.String(), "goroutine ") {
		t.Errorf("a client mistake was logged as an error:\n%s", logs.String())
	}
}

func TestHomePageItalianThenEnglish(t *testing.T) {
	a := apptest.Start(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, body := get(t, c, a.URL()+"/")
	if res.StatusCode != 200 || !strings.Contains(body, `<html lang="it">`) ||
		!strings.Contains(body, "Il welfare aziendale che resta sul territorio") {
		t.Fatalf("home page is not the Italian one: %d\n%s", res.StatusCode, body)
	}
	res, body = get(t, c, a.URL()+"/lang?to=en&back=/")
	if res.Request.URL.Path != "/" || !strings.Contains(body, `<html lang="en">`) ||
		!strings.Contains(body, "Corporate welfare that stays in your community") {
		t.Fatalf("switching to English did not come back to an English home page: %s\n%s", res.Request.URL, body)
	}
	// The choice sticks across pages.
	_, body = get(t, c, a.URL()+"/no-such-page")
	if !strings.Contains(body, "Page not found") {
		t.Fatalf("404 page not in English after switching:\n%s", body)
	}
}

func TestLanguageSwitchStaysOnSite(t *testing.T) {
	a := apptest.Start(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, back := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`, "javascript:alert(1)"} {
		res, _ := get(t, c, a.URL()+"/lang?to=en&back="+back)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("back=%q redirected to %q, want /", back, loc)
		}
	}
	if res, _ := get(t, c, a.URL()+"/lang?to=xx"); res.StatusCode != 400 {
		t.Errorf("unknown language answered %d, want 400", res.StatusCode)
	}
}

func TestWebErrorsArePages(t *testing.T) {
	a := apptest.Start(t)
	res, body := get(t, http.DefaultClient, a.URL()+"/no-such-page")
	if res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Pagina non trovata") {
		t.Fatalf("unknown page = %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

func TestStaticAssetsAreCached(t *testing.T) {
	a := apptest.Start(t)
	_, home := get(t, http.DefaultClient, a.URL()+"/")
	i := strings.Index(home, "/static/app.css?v=")
	if i < 0 {
		t.Fatal("home page does not link the stylesheet with a content hash")
	}
	url := home[i : i+strings.IndexByte(home[i:], '"')]
	res, body := get(t, http.DefaultClient, a.URL()+url)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "--brand") {
		t.Fatalf("stylesheet = %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	a := apptest.Start(t)
	ctx := context.Background()
	if _, err := seed.Run(ctx, a.DB); err != nil {
		t.Fatal(err)
	}
	n, err := seed.Run(ctx, a.DB)
	if err != nil || n != 0 {
		t.Fatalf("second seed loaded %d sets (err %v), want 0", n, err)
	}
}

// A body larger than the limit is the caller's mistake on the web and on
// the API alike: 400 in the person's language or in the error shape,
// never a 500.
func TestOversizedBodyIsInvalid(t *testing.T) {
	a := apptest.Start(t)
	big := strings.Repeat("x", 9<<20)
	for _, c := range []struct{ path, ctype, want string }{
		{"/login", "application/x-www-form-urlencoded", "Richiesta non valida"},
		{"/api/v1/auth/login", "application/json", `"code":"invalid"`},
	} {
		res, err := http.Post(a.URL()+c.path, c.ctype, strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("POST %s with 9 MB: %d %.200s", c.path, res.StatusCode, body)
		}
	}
}
