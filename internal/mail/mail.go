// Package mail is Reciproca's outgoing mail: an outbox table written in the
// same transaction as the change that causes a mail (so a mail is sent if
// and only if the change commits), and a deliverer that sends pending rows.
// In development nothing is delivered: /dev/mail lists the outbox so a
// person running `make run` can follow invitation and reset links.
package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Message is one mail to one person, plain text.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Validate checks the message can be sent.
func (m Message) Validate() error {
	if _, err := mail.ParseAddress(m.To); err != nil || strings.ContainsAny(m.To, "\r\n") {
		return apperr.New(apperr.Invalid, "invalid recipient address %q", m.To).With("field", "to")
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
		return apperr.New(apperr.Invalid, "a mail needs a one-line subject").With("field", "subject")
	}
	return nil
}

// Enqueue writes m to the outbox inside the caller's transaction.
func Enqueue(ctx context.Context, q sqlx.ExecerContext, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO mail_outbox (to_addr, subject, body) VALUES ($1, $2, $3)`, m.To, m.Subject, m.Body)
	return err
}

// Stored is a mail in the outbox.
type Stored struct {
	ID        uuid.UUID  `db:"id"`
	To        string     `db:"to_addr"`
	Subject   string     `db:"subject"`
	Body      string     `db:"body"`
	CreatedAt time.Time  `db:"created_at"`
	SentAt    *time.Time `db:"sent_at"`
}

// Recent returns the latest limit mails, newest first (the dev mail page).
func Recent(ctx context.Context, q sqlx.QueryerContext, limit int) ([]Stored, error) {
	var out []Stored
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, to_addr, subject, body, created_at, sent_at
		FROM mail_outbox ORDER BY created_at DESC, id LIMIT $1`, limit)
	return out, err
}

// Sender delivers one message (SMTP in production; tests pass a function).
type Sender func(ctx context.Context, m Message) error

// DeliverPending sends up to batch pending mails with send and marks them
// sent; a failure is recorded on the row and retried on the next call.
// Rows are claimed with FOR UPDATE SKIP LOCKED, so any number of workers
// may run at once without sending a mail twice.
func DeliverPending(ctx context.Context, dbx *sqlx.DB, send Sender, batch int) (int, error) {
	tx, err := dbx.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	var rows []Stored
	if err := tx.SelectContext(ctx, &rows, `SELECT id, to_addr, subject, body, created_at, sent_at FROM mail_outbox
		WHERE sent_at IS NULL AND attempts < 10 ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`, batch); err != nil {
		return 0, err
	}
	sent := 0
	for _, r := range rows {
		if err := send(ctx, Message{To: r.To, Subject: r.Subject, Body: r.Body}); err != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
				r.ID, fmt.Sprint(err)); err != nil {
				return sent, err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, sent_at = now() WHERE id = $1`, r.ID); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, tx.Commit()
}
