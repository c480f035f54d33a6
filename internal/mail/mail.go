// Package mail is Reciproca's outgoing mail: an outbox table written in the
// same transaction as the change that causes a mail (so a mail is sent if
// and only if the change commits), and its delivery over SMTP, which only
// the worker does (DeliverPending). In development and tests the SMTP
// server is Mailpit; its web page shows what was sent.
package mail

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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

// EnqueueAll writes many messages to the outbox in one statement, inside
// the caller's transaction: bulk work (crediting a whole company) sends a
// mail per person without a round trip each.
func EnqueueAll(ctx context.Context, q sqlx.ExecerContext, ms []Message) error {
	if len(ms) == 0 {
		return nil
	}
	to, subjects, bodies, err := Arrays(ms)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO mail_outbox (to_addr, subject, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, to, subjects, bodies)
	return err
}

// Arrays validates ms and returns their recipients, subjects and bodies
// as text[] arguments, for a caller that queues mail in the same statement
// as its own change (a booking writes its voucher and its mails in one
// round trip):
//
//	INSERT INTO mail_outbox (to_addr, subject, body) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
func Arrays(ms []Message) (to, subjects, bodies any, err error) {
	t, s, b := make([]string, len(ms)), make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			return nil, nil, nil, err
		}
		t[i], s[i], b[i] = m.To, m.Subject, m.Body
	}
	return pq.Array(t), pq.Array(s), pq.Array(b), nil
}

// Stored is a mail in the outbox, with where its delivery stands.
type Stored struct {
	ID        uuid.UUID  `db:"id"`
	To        string     `db:"to_addr"`
	Subject   string     `db:"subject"`
	Body      string     `db:"body"`
	CreatedAt time.Time  `db:"created_at"`
	SentAt    *time.Time `db:"sent_at"`
	// Attempts, NextAttemptAt and LastError tell a mail waiting for a
	// retry; FailedAt one given up.
	Attempts      int        `db:"attempts"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	LastError     string     `db:"last_error"`
	FailedAt      *time.Time `db:"failed_at"`
}

// Recent returns the latest limit mails, newest first: the development
// page of the outbox, which shows what Mailpit cannot — mails still
// waiting, given up, and why.
func Recent(ctx context.Context, q sqlx.QueryerContext, limit int) ([]Stored, error) {
	var out []Stored
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, to_addr, subject, body, created_at, sent_at, attempts, next_attempt_at,
			last_error, failed_at
		FROM mail_outbox ORDER BY created_at DESC, id LIMIT $1`, limit)
	return out, err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
