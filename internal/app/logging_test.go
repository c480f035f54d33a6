package app_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
)

// Every log line written for a request carries that request's id, the one
// the client sees in X-Request-Id.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(app.NewLogHandler(&logs, slog.LevelInfo)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	a := apptest.Start(t)
	req, _ := http.NewRequest(http.MethodGet, a.URL()+"/api/v1/status", nil)
	req.Header.Set("X-Request-Id", "trace-me-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Request-Id"); got != "trace-me-42" {
		t.Fatalf("X-Request-Id = %q, want the caller's", got)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "request" && rec["path"] == "/api/v1/status" {
			found = true
			if rec["request_id"] != "trace-me-42" {
				t.Errorf("access log line without the request id: %s", line)
			}
		}
	}
	if !found {
		t.Fatalf("no access log line for the request:\n%s", logs.String())
	}
}
