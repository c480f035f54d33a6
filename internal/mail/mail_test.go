package mail_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/mail"
	"github.com/reciproca/reciproca/internal/mail/mailtest"
)

func smtpSender(t *testing.T) *mail.SMTP {
	t.Helper()
	mailtest.URL(t) // fails the test when Mailpit is not running
	s, err := mail.NewSMTP(os.Getenv("SMTP_URL"), "Reciproca <no-reply@reciproca.test>")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func enqueue(t *testing.T, dbx *sqlx.DB, m mail.Message) {
	t.Helper()
	if err := mail.Enqueue(context.Background(), dbx, m); err != nil {
		t.Fatal(err)
	}
}

// Two workers deliver the outbox to Mailpit at once: every mail arrives
// exactly once, with its subject and body intact, and a later run sends
// nothing again.
func TestDeliveryReachesMailpitOnce(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	send := smtpSender(t).Send
	var to []string
	for i := range 12 {
		addr := mailtest.Address("deliver")
		to = append(to, addr)
		body := "Ciao Niccolò,\nè arrivato un invito: https://reciproca.test/invite?token=abc" + strings.Repeat("x", i) + "\n\nA presto"
		enqueue(t, dbx, mail.Message{To: addr, Subject: "Invito a Reciproca — è pronto", Body: body})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := mail.DeliverPending(ctx, dbx, send, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if total != len(to) {
		t.Fatalf("the two workers sent %d mails, want %d", total, len(to))
	}
	if n, err := mail.DeliverPending(ctx, dbx, send, 50); n != 0 || err != nil {
		t.Fatalf("a later run sent %d (%v)", n, err)
	}
	for i, addr := range to {
		got := mailtest.Wait(t, addr, 1)
		if len(got) != 1 {
			t.Fatalf("%s received %d mails", addr, len(got))
		}
		m := got[0]
		body := "Ciao Niccolò,\nè arrivato un invito: https://reciproca.test/invite?token=abc" + strings.Repeat("x", i) + "\n\nA presto\n"
		if m.Subject != "Invito a Reciproca — è pronto" || m.Text != body {
			t.Fatalf("mail to %s arrived as %q / %q", addr, m.Subject, m.Text)
		}
		var id uuid.UUID
		if err := dbx.Get(&id, `SELECT id FROM mail_outbox WHERE to_addr = $1 AND sent_at IS NOT NULL`, addr); err != nil {
			t.Fatalf("outbox row of %s not marked sent: %v", addr, err)
		}
		if !strings.HasPrefix(m.MessageID, id.String()+"@") {
			t.Fatalf("Message-ID %q is not the outbox id %s", m.MessageID, id)
		}
	}
	if n, err := mail.Pending(ctx, dbx); n != 0 || err != nil {
		t.Fatalf("pending after delivery: %d %v", n, err)
	}
}

// A mail that fails waits for its own retry and the run goes on with the
// others; a permanent refusal is given up; an unreachable server stops the
// run with every mail kept for later.
func TestDeliveryFailures(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	real := smtpSender(t).Send
	flaky, refused, fine := mailtest.Address("flaky"), mailtest.Address("refused"), mailtest.Address("fine")
	for _, a := range []string{flaky, refused, fine} {
		enqueue(t, dbx, mail.Message{To: a, Subject: "Prova", Body: "testo"})
	}
	send := func(ctx context.Context, id uuid.UUID, m mail.Message) error {
		switch m.To {
		case flaky:
			return errors.New("451 try again later")
		case refused:
			return &mail.PermanentError{Err: errors.New("550 no such mailbox")}
		}
		return real(ctx, id, m)
	}
	n, err := mail.DeliverPending(ctx, dbx, send, 10)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "451") || !strings.Contains(err.Error(), "550") {
		t.Fatalf("first run: %d sent, %v", n, err)
	}
	mailtest.Wait(t, fine, 1)
	// The flaky mail waits for its retry; the refused one is given up.
	if n, err := mail.DeliverPending(ctx, dbx, real, 10); n != 0 || err != nil {
		t.Fatalf("a run before the retry time sent %d (%v)", n, err)
	}
	// The development outbox page shows where each delivery stands.
	recent, err := mail.Recent(ctx, dbx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range recent {
		switch m.To {
		case refused:
			if m.FailedAt == nil || !strings.Contains(m.LastError, "550") {
				t.Fatalf("a refused mail is not given up: %+v", m)
			}
		case flaky:
			if m.SentAt != nil || m.FailedAt != nil || m.Attempts != 1 || !m.NextAttemptAt.After(time.Now()) || !strings.Contains(m.LastError, "451") {
				t.Fatalf("a mail waiting for its retry: %+v", m)
			}
		case fine:
			if m.SentAt == nil || m.LastError != "" {
				t.Fatalf("a delivered mail: %+v", m)
			}
		}
	}
	if n, _ := mail.Pending(ctx, dbx); n != 1 {
		t.Fatalf("pending = %d, want the flaky mail", n)
	}
	dbx.MustExec(`UPDATE mail_outbox SET next_attempt_at = now() WHERE to_addr = $1`, flaky) // its retry time has come
	if n, err := mail.DeliverPending(ctx, dbx, real, 10); n != 1 || err != nil {
		t.Fatalf("retry: %d %v", n, err)
	}
	mailtest.Wait(t, flaky, 1)
	if len(mailtest.To(t, refused)) != 0 {
		t.Fatal("the refused mail was sent")
	}

	// Nobody listens: the run stops at the first mail, which keeps its place.
	down, err := mail.NewSMTP("smtp://127.0.0.1:1", "no-reply@reciproca.test")
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, dbx, mail.Message{To: mailtest.Address("down1"), Subject: "a", Body: "b"})
	enqueue(t, dbx, mail.Message{To: mailtest.Address("down2"), Subject: "a", Body: "b"})
	n, err = mail.DeliverPending(ctx, dbx, down.Send, 10)
	var se *mail.ServerError
	if n != 0 || !errors.As(err, &se) {
		t.Fatalf("unreachable server: %d, %v", n, err)
	}
	var attempts []int
	if err := dbx.Select(&attempts, `SELECT attempts FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL ORDER BY attempts`); err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 2 || attempts[0] != 0 || attempts[1] != 1 {
		t.Fatalf("attempts after the server was down: %v, want one tried and one untouched", attempts)
	}
}

// Only well-formed mails are queued (no header injection).
func TestEnqueueValidates(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	if err := mail.Enqueue(ctx, dbx, mail.Message{To: "not an address", Subject: "x"}); err == nil {
		t.Fatal("a mail to an invalid address was queued")
	}
	if err := mail.Enqueue(ctx, dbx, mail.Message{To: "c@example.com", Subject: "two\nlines"}); err == nil {
		t.Fatal("a subject with a line break (header injection) was queued")
	}
	if err := mail.Enqueue(ctx, dbx, mail.Message{To: "c@example.com\r\nBcc: x@example.com", Subject: "x"}); err == nil {
		t.Fatal("a recipient with a line break was queued")
	}
}
