package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Sender hands one mail to the mail server. id is the outbox row's id: it
// becomes the Message-ID, so a mail sent twice is recognisably the same.
// A *PermanentError means retrying is pointless; a *ServerError that the
// server is unreachable (the run stops, every mail would fail alike); any
// other error is retried for that mail alone.
type Sender func(ctx context.Context, id uuid.UUID, m Message) error

// Delivery limits.
const (
	// sendLease is how long a claimed mail stays with its worker. A worker
	// that dies while sending lets the mail go to another after the lease.
	sendLease = 2 * time.Minute
	// maxAttempts is how often a mail is tried before it is given up.
	maxAttempts = 10
)

// retryAfter is the pause after the n-th failed attempt of one mail: 30 s
// doubling up to an hour (about 4 h from the first attempt to the last).
func retryAfter(n int) time.Duration {
	return min(30*time.Second<<min(max(n-1, 0), 10), time.Hour)
}

// DeliverPending sends up to batch due mails, one at a time, and returns
// how many it sent. Each mail is claimed with FOR UPDATE SKIP LOCKED and
// leased (committed) before it is sent, so any number of workers may run
// at once and no transaction is open while the mail server is talking.
//
// Exactly once: a mail is marked sent right after the server accepts it. A
// crash between the two (or a lost reply to the final ".") leaves it
// unmarked, and it is sent again once its lease runs out, with the same
// Message-ID. We chose a rare duplicate over a lost mail: these mails carry
// sign-in, invitation and reset links, a duplicate is harmless and mail
// clients fold two messages with one Message-ID into one.
//
// A mail that fails waits for its own retry time and the run goes on with
// the next one; after maxAttempts, or a permanent refusal, it is given up
// (failed_at). When the server cannot be reached the run stops early.
func DeliverPending(ctx context.Context, dbx *sqlx.DB, send Sender, batch int) (int, error) {
	sent := 0
	var errs []error
	for sent+len(errs) < batch {
		m, ok, err := claimMail(ctx, dbx)
		if err != nil || !ok {
			return sent, errors.Join(append(errs, err)...)
		}
		sendErr := send(ctx, m.ID, Message{To: m.To, Subject: m.Subject, Body: m.Body})
		if err := recordAttempt(context.WithoutCancel(ctx), dbx, m, sendErr); err != nil {
			return sent, errors.Join(append(errs, err)...)
		}
		if sendErr == nil {
			sent++
			continue
		}
		errs = append(errs, fmt.Errorf("mail %s to %s: %w", m.ID, m.To, sendErr))
		var se *ServerError
		if errors.As(sendErr, &se) {
			break
		}
	}
	return sent, errors.Join(errs...)
}

type claimed struct {
	ID       uuid.UUID `db:"id"`
	To       string    `db:"to_addr"`
	Subject  string    `db:"subject"`
	Body     string    `db:"body"`
	Attempts int       `db:"attempts"`
}

// claimMail leases the next due mail and counts the attempt.
func claimMail(ctx context.Context, dbx *sqlx.DB) (claimed, bool, error) {
	var m claimed
	err := dbx.GetContext(ctx, &m, `UPDATE mail_outbox o SET attempts = o.attempts + 1,
			next_attempt_at = now() + $1 * interval '1 second'
		FROM (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
		      ORDER BY next_attempt_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) due
		WHERE o.id = due.id
		RETURNING o.id, o.to_addr, o.subject, o.body, o.attempts`, sendLease.Seconds())
	if isNoRows(err) {
		return m, false, nil
	}
	return m, err == nil, err
}

// recordAttempt marks m sent, or schedules its retry, or gives it up.
func recordAttempt(ctx context.Context, dbx *sqlx.DB, m claimed, sendErr error) error {
	if sendErr == nil {
		_, err := dbx.ExecContext(ctx, `UPDATE mail_outbox SET sent_at = now(), last_error = '' WHERE id = $1`, m.ID)
		return err
	}
	var pe *PermanentError
	giveUp := errors.As(sendErr, &pe) || m.Attempts >= maxAttempts
	_, err := dbx.ExecContext(ctx, `UPDATE mail_outbox SET last_error = $2,
			next_attempt_at = now() + $3 * interval '1 second', failed_at = CASE WHEN $4 THEN now() END
		WHERE id = $1`, m.ID, truncate(sendErr.Error(), 2000), retryAfter(m.Attempts).Seconds(), giveUp)
	return err
}

// Pending counts the mails waiting to be sent (the delivery job's backlog).
func Pending(ctx context.Context, q sqlx.QueryerContext) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL`)
	return n, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
