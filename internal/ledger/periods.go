package ledger

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// ClosePeriod closes the ledger through the instant through (at most now):
// afterwards nothing may take effect at or before it, backdated or not. A
// close is never undone, and one earlier than the current close changes
// nothing. It is a platform admin's act (the caller checks the role); who
// closed it (actor) and why are recorded. It waits for writes in flight to
// finish, so none lands inside the period after it returns. Returns the
// instant the ledger is closed through.
//
// Errors: invalid.
func ClosePeriod(ctx context.Context, ext sqlx.ExtContext, through time.Time, actor, reason string) (time.Time, error) {
	if actor == "" || reason == "" {
		return time.Time{}, invalid("reason", "closing a period names who closes it and why")
	}
	var closed time.Time
	err := sqlx.GetContext(ctx, ext, &closed, `SELECT ledger_close_period($1, $2, $3)`, through, actor, reason)
	if err != nil {
		return time.Time{}, mapError(err)
	}
	return closed, nil
}

// ClosedThrough is the instant the ledger is closed through (nil: no
// period is closed).
func ClosedThrough(ctx context.Context, q sqlx.QueryerContext) (*time.Time, error) {
	var t sql.NullTime
	if err := sqlx.GetContext(ctx, q, &t, `SELECT ledger_closed_through()`); err != nil {
		return nil, mapError(err)
	}
	if !t.Valid {
		return nil, nil
	}
	return &t.Time, nil
}

// GrantBackdate is a platform admin's explicit permission for the one
// transaction written under idempotency key key to take effect as early as
// earliest: further back than the 7 days anyone may, but never in a closed
// period nor in an earlier tax year (those stay refused). Who gave it
// (actor) and why are recorded. Granting the same again is a no-op;
// another instant for the same key is a conflict.
//
// Errors: invalid, conflict.
func GrantBackdate(ctx context.Context, ext sqlx.ExtContext, key string, earliest time.Time, actor, reason string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if actor == "" || reason == "" {
		return invalid("reason", "a permission to backdate names who gives it and why")
	}
	_, err := ext.ExecContext(ctx, `SELECT ledger_grant_backdate($1, $2, $3, $4)`, key, storedInstant(earliest), actor, reason)
	return mapError(err)
}

// storedInstant is t as PostgreSQL stores it (microseconds), so that the same
// permission given twice compares equal.
func storedInstant(t time.Time) time.Time { return *canonicalTime(&t) }
