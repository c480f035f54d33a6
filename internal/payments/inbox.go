package payments

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	stripe "github.com/stripe/stripe-go/v76"

	"github.com/reciproca/reciproca/internal/apperr"
)

// storeEvent stores a verified event unless an event with its id is
// already stored, and reports whether it was new. An event nobody handles
// is stored already processed, as ignored.
func storeEvent(ctx context.Context, q sqlx.ExecerContext, endpoint Endpoint, e stripe.Event, payload []byte, handled bool) (bool, error) {
	var account *string
	if e.Account != "" {
		account = &e.Account
	}
	res, err := q.ExecContext(ctx, `INSERT INTO stripe_events (id, endpoint, type, account, livemode, created_at, payload, outcome, processed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN NULL ELSE 'ignored' END, CASE WHEN $8 THEN NULL ELSE now() END)
		ON CONFLICT (id) DO NOTHING`,
		e.ID, endpoint, string(e.Type), account, e.Livemode, time.Unix(e.Created, 0).UTC(), payload, handled)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HandlePending hands up to batch due events to their handlers, oldest
// first, each in its own transaction with the row locked (FOR UPDATE SKIP
// LOCKED, so any number of workers may run), and returns how many it
// processed. An event whose handler fails is retried after a growing
// pause, and the run goes on with the next one.
func (in *Inbox) HandlePending(ctx context.Context, batch int) (int, error) {
	done := 0
	var errs []error
	for done+len(errs) < batch {
		id, err := in.handleNext(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil && id == "" {
			return done, errors.Join(append(errs, err)...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stripe event %s: %w", id, err))
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

type storedEvent struct {
	ID       string   `db:"id"`
	Endpoint Endpoint `db:"endpoint"`
	Type     string   `db:"type"`
	Payload  []byte   `db:"payload"`
	Attempts int      `db:"attempts"`
}

// handleNext handles the next due event and returns its id (empty when
// none could be read).
func (in *Inbox) handleNext(ctx context.Context) (string, error) {
	tx, err := in.db.BeginTxx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	var ev storedEvent
	if err := tx.GetContext(ctx, &ev, `SELECT id, endpoint, type, payload, attempts FROM stripe_events
		WHERE processed_at IS NULL AND next_attempt_at <= now()
		ORDER BY created_at, received_at LIMIT 1 FOR UPDATE SKIP LOCKED`); err != nil {
		return "", err
	}
	outcome, handleErr := in.dispatch(ctx, tx, ev)
	if handleErr == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE stripe_events SET outcome = $2, processed_at = now(), attempts = attempts + 1,
				last_error = '' WHERE id = $1`, ev.ID, outcome); err != nil {
			return ev.ID, err
		}
		return ev.ID, tx.Commit()
	}
	// The effect is rolled back; the failure is recorded on its own.
	_ = tx.Rollback()
	msg := strings.ToValidUTF8(truncate(handleErr.Error(), 2000), "")
	if apperr.Is(handleErr, apperr.Invalid) {
		slog.WarnContext(ctx, "stripe event refused", "id", ev.ID, "type", ev.Type, "err", handleErr)
		_, err = in.db.ExecContext(ctx, `UPDATE stripe_events SET outcome = 'refused', processed_at = now(),
			attempts = attempts + 1, last_error = $2 WHERE id = $1`, ev.ID, msg)
		return ev.ID, err
	}
	_, err = in.db.ExecContext(ctx, `UPDATE stripe_events SET attempts = attempts + 1, last_error = $2,
		next_attempt_at = now() + $3 * interval '1 second' WHERE id = $1`, ev.ID, msg, retryAfter(ev.Attempts+1).Seconds())
	return ev.ID, errors.Join(handleErr, err)
}

// dispatch runs the event's handler in tx and returns the outcome to record.
func (in *Inbox) dispatch(ctx context.Context, tx *sqlx.Tx, ev storedEvent) (string, error) {
	h, ok := in.handlers[handlerKey{ev.Endpoint, stripe.EventType(ev.Type)}]
	if !ok {
		// Stored while a handler existed, which a later release removed.
		return "ignored", nil
	}
	var e stripe.Event
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		return "", apperr.New(apperr.Invalid, "stored event is not an event: %v", err)
	}
	return "handled", h(ctx, tx, e)
}

// retryAfter is the pause after the n-th failed attempt to handle an
// event: 10 s doubling up to an hour. Events are never given up: one that
// keeps failing stays in the backlog the metrics show.
func retryAfter(n int) time.Duration {
	return min(10*time.Second<<min(max(n-1, 0), 10), time.Hour)
}

// Pending counts the stored events not yet handled (the job's backlog).
func (in *Inbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := in.db.GetContext(ctx, &n, `SELECT count(*) FROM stripe_events WHERE processed_at IS NULL`)
	return n, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
