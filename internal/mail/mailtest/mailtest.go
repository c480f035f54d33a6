// Package mailtest reads the mail a test sent, through the API of the
// Mailpit that scripts/test-env.sh starts (MAILPIT_URL). Several test
// packages, and several developers' runs, share one Mailpit: a test sends
// to addresses of its own (Address) and looks only at those.
package mailtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Mail is one message as Mailpit received it.
type Mail struct {
	ID        string
	MessageID string
	Subject   string
	To        []string
	// Text is the decoded plain-text body, with "\n" line breaks.
	Text string
}

// Address returns a recipient no other test or run uses, e.g.
// "invite-3f2a…@example.com".
func Address(name string) string {
	return name + "-" + strings.ReplaceAll(uuid.NewString(), "-", "") + "@example.com"
}

// URL is the Mailpit base URL; the test fails when there is none.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("MAILPIT_URL")
	if u == "" {
		t.Fatal("no Mailpit: run `make test`, or eval \"$(scripts/test-env.sh)\" first (it sets MAILPIT_URL and SMTP_URL)")
	}
	return strings.TrimRight(u, "/")
}

// To returns the messages Mailpit holds for addr, newest first.
func To(t testing.TB, addr string) []Mail {
	t.Helper()
	base := URL(t)
	var res struct {
		Messages []struct {
			ID, MessageID, Subject string
			To                     []struct{ Address string }
		}
	}
	get(t, base+"/api/v1/search?limit=1000&query="+url.QueryEscape(`to:"`+addr+`"`), &res)
	var out []Mail
	for _, m := range res.Messages {
		mail := Mail{ID: m.ID, MessageID: m.MessageID, Subject: m.Subject}
		mine := false
		for _, to := range m.To {
			mail.To = append(mail.To, to.Address)
			mine = mine || strings.EqualFold(to.Address, addr)
		}
		if !mine {
			continue
		}
		var full struct{ Text string }
		get(t, base+"/api/v1/message/"+url.PathEscape(m.ID), &full)
		mail.Text = strings.ReplaceAll(full.Text, "\r\n", "\n")
		out = append(out, mail)
	}
	return out
}

// Wait waits up to ten seconds until Mailpit holds at least n messages for
// addr, then returns them all (newest first).
func Wait(t testing.TB, addr string, n int) []Mail {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := To(t, addr)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("Mailpit holds %d message(s) for %s after 10 s, want %d", len(got), addr, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t testing.TB, u string, into any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("Mailpit: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("Mailpit: GET %s: %s", u, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("Mailpit: decoding %s: %v", u, err)
	}
}
