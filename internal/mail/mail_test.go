package mail_test

import (
	"context"
	"errors"
	"testing"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/mail"
)

// Mails wait in the outbox until delivered; a failed delivery stays
// pending and is retried; a delivered mail is never sent again.
func TestOutboxDelivery(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	for _, to := range []string{"a@example.com", "b@example.com"} {
		if err := mail.Enqueue(ctx, dbx, mail.Message{To: to, Subject: "Ciao", Body: "testo"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := mail.Enqueue(ctx, dbx, mail.Message{To: "not an address", Subject: "x"}); err == nil {
		t.Fatal("a mail to an invalid address was queued")
	}
	if err := mail.Enqueue(ctx, dbx, mail.Message{To: "c@example.com", Subject: "two\nlines"}); err == nil {
		t.Fatal("a subject with a line break (header injection) was queued")
	}
	var sent []string
	failB := func(_ context.Context, m mail.Message) error {
		if m.To == "b@example.com" {
			return errors.New("smtp: try later")
		}
		sent = append(sent, m.To)
		return nil
	}
	if n, err := mail.DeliverPending(ctx, dbx, failB, 10); err != nil || n != 1 {
		t.Fatalf("first round: %d %v", n, err)
	}
	ok := func(_ context.Context, m mail.Message) error { sent = append(sent, m.To); return nil }
	if n, err := mail.DeliverPending(ctx, dbx, ok, 10); err != nil || n != 1 {
		t.Fatalf("second round: %d %v", n, err)
	}
	if n, _ := mail.DeliverPending(ctx, dbx, ok, 10); n != 0 {
		t.Fatalf("third round sent %d again", n)
	}
	if len(sent) != 2 || sent[0] != "a@example.com" || sent[1] != "b@example.com" {
		t.Fatalf("sent %v", sent)
	}
	recent, err := mail.Recent(ctx, dbx, 10)
	if err != nil || len(recent) != 2 || recent[0].SentAt == nil {
		t.Fatalf("recent: %v %v", recent, err)
	}
}
