// Package db holds the PostgreSQL plumbing every domain package shares: the
// pool, transactions with bounded retry, migrations, and the mapping of
// PostgreSQL errors to application errors.
package db

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string, maxConns int) (*sqlx.DB, error) {
	dbx, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	dbx.SetMaxOpenConns(maxConns)
	dbx.SetMaxIdleConns(maxConns)
	dbx.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := dbx.PingContext(ctx); err != nil {
		dbx.Close()
		return nil, err
	}
	return dbx, nil
}

// maxAttempts bounds WithTx's retries of serialization failures and deadlocks.
const maxAttempts = 8

// WithTx runs fn in a READ COMMITTED transaction and commits it. On a
// serialization failure or a deadlock the whole transaction is retried with
// jittered backoff, a bounded number of times, so fn must be safe to run
// again (it only touches the database through tx). Any error from fn rolls
// the transaction back and is returned as it is.
func WithTx(ctx context.Context, dbx *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = runTx(ctx, dbx, fn)
		if err == nil || !Retryable(err) || attempt == maxAttempts {
			return err
		}
		backoff := time.Duration(1<<min(attempt, 6)) * time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(backoff/2 + rand.N(backoff)):
		}
	}
}

func runTx(ctx context.Context, dbx *sqlx.DB, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := dbx.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// PostgreSQL error codes the project reacts to.
const (
	codeSerialization  = "40001"
	codeDeadlock       = "40P01"
	codeUnique         = "23505"
	codeForeignKey     = "23503"
	codeCheck          = "23514"
	codeNotNull        = "23502"
	codeInvalidText    = "22P02"
	codeBadEncoding    = "22021"
	codeUntranslatable = "22P05" // e.g. \u0000 in a JSON document
)

// Retryable reports whether err is a serialization failure or a deadlock,
// which a whole-transaction retry resolves.
func Retryable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == codeSerialization || pe.Code == codeDeadlock
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation,
// optionally of one named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == codeUnique {
		return constraint == "" || pe.Constraint == constraint
	}
	return false
}

// MapError turns PostgreSQL errors a caller can cause into application
// errors, and anything else into an internal error with context.
// sql.ErrNoRows becomes not_found with the given what ("offering", …).
func MapError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "%s not found", what)
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUnique:
			return &apperr.Error{Code: apperr.Conflict, Message: what + " already exists", Err: err}
		case codeForeignKey:
			return &apperr.Error{Code: apperr.Invalid, Message: what + " refers to something that does not exist", Err: err}
		case codeCheck, codeNotNull, codeInvalidText, codeBadEncoding, codeUntranslatable:
			return &apperr.Error{Code: apperr.Invalid, Message: "invalid " + what, Err: err}
		}
	}
	return apperr.Wrap(err, "%s: database error", what)
}
