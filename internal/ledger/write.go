package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// Post writes a posted transaction: balanced postings (and/or a split),
// floors checked against available balances, lots consumed and created.
//
// Errors: invalid, not_found (unknown account or split policy), conflict
// (key reused for another request; account frozen or closed),
// insufficient_funds (account, available, required).
func Post(ctx context.Context, ext sqlx.ExtContext, r Request) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return call(ctx, ext, "ledger_post", wire{Request: r.canonical()})
}

// Hold places a pending transaction (see HoldRequest). Its id is the hold
// id Capture and Void take. Errors as Post.
func Hold(ctx context.Context, ext sqlx.ExtContext, r HoldRequest) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return call(ctx, ext, "ledger_post", r.wire())
}

// wire is the document ledger_hold reads for r.
func (r HoldRequest) wire() wire {
	return wire{Request: r.Request.canonical(), Hold: true, ExpiresAt: canonicalTime(&r.ExpiresAt)}
}

// Capture resolves a hold by posting (see CaptureRequest). Of concurrent
// Capture/Void calls on one hold exactly one succeeds.
//
// Errors: invalid (takes more than held, or from an account the hold did
// not reserve), not_found (hold), conflict (hold already captured, voided
// or expired — details.status says which; key reused).
func Capture(ctx context.Context, ext sqlx.ExtContext, r CaptureRequest) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return call(ctx, ext, "ledger_capture", r.canonical())
}

// canonical is r with its instants in the form the request hash is
// computed over (canonicalTime).
func (r CaptureRequest) canonical() CaptureRequest {
	r.EffectiveAt = canonicalTime(r.EffectiveAt)
	r.Postings = canonicalPostings(r.Postings)
	return r
}

// Void releases a hold: the reserved money and lots come back.
//
// Errors: not_found (hold), conflict (already captured, voided or expired;
// details.status says which).
func Void(ctx context.Context, ext sqlx.ExtContext, holdID int64) error {
	return exec(ctx, ext, `SELECT ledger_void($1, 'voided')`, holdID)
}

// Reverse writes a linked transaction undoing a posted one (see
// ReverseRequest), checked against floors; credits give lots back to
// where the original took them.
//
// Errors: invalid (more than the original moved), not_found (transaction),
// conflict (the transaction is a hold; key reused), insufficient_funds.
func Reverse(ctx context.Context, ext sqlx.ExtContext, r ReverseRequest) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return call(ctx, ext, "ledger_reverse", r)
}

// ExpireHolds expires up to limit holds whose expiry time has passed, each
// in its own short transaction: several sweepers can run side by side
// (FOR UPDATE SKIP LOCKED), and a hold a capture is resolving is skipped.
// A hold that cannot be expired is passed over for the rest of the call and
// reported in the error, so one bad hold never stops the others. It
// returns how many it expired.
func ExpireHolds(ctx context.Context, dbx *sqlx.DB, limit int) (int, error) {
	n := 0
	failed := []int64{}
	var errs []error
	for n < limit {
		var id int64
		err := db.WithTx(ctx, dbx, func(tx *sqlx.Tx) error {
			id = 0
			if err := tx.GetContext(ctx, &id, `SELECT id FROM ledger_transactions
				WHERE status = 'pending' AND expires_at <= now() AND id <> ALL($1)
				ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED`, pq.Array(failed)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `SELECT ledger_void($1, 'expired')`, id)
			return err
		})
		switch {
		case errors.Is(err, errNoRows):
			return n, errors.Join(errs...)
		case err != nil && (id == 0 || ctx.Err() != nil):
			return n, errors.Join(append(errs, mapError(err))...)
		case err != nil:
			failed = append(failed, id)
			errs = append(errs, fmt.Errorf("expiring hold %d: %w", id, mapError(err)))
		default:
			n++
		}
	}
	return n, errors.Join(errs...)
}

// call sends one write to its SQL function (see callJSON) and returns the
// transaction it wrote.
func call(ctx context.Context, ext sqlx.ExtContext, fn string, req any) (Result, error) {
	var res Result
	err := callJSON(ctx, ext, fn, req, &res.TxID, &res.Replayed)
	return res, err
}

// lockingFunctions take a second argument, p_lock: lock what the write
// will change before reading it, so that it cannot meet a conflict (the
// batch is optimistic otherwise, see sql/batch.sql).
var lockingFunctions = map[string]bool{"ledger_post": true, "ledger_post_batch": true}

// callJSON sends req to the SQL function fn as a single statement with the
// request inlined as a quoted JSON literal: the simple query protocol, one
// round trip, and nothing that depends on binary_parameters. It scans the
// function's result columns into dest.
//
// Contention is never the caller's error. An autocommitted call that meets
// a serialization failure or a deadlock is retried, with jittered backoff,
// and a batch is retried in its locking mode, which cannot meet one again.
// Inside a caller's transaction a batch always runs in its locking mode
// (its locks are held until that transaction commits anyway); a deadlock
// there comes back as a conflict the caller's db.WithTx retries (it wraps
// the driver's error). Every error is an *apperr.Error.
func callJSON(ctx context.Context, ext sqlx.ExtContext, fn string, req any, dest ...any) error {
	return callJSONTimeout(ctx, ext, fn, 0, req, dest...)
}

// callJSONTimeout is callJSON for a batch that gives up waiting for a row
// lock after lockTimeout (0: waits as long as it takes), with a
// lock_not_available error (55P03, see isLockTimeout).
func callJSONTimeout(ctx context.Context, ext sqlx.ExtContext, fn string, lockTimeout time.Duration, req any, dest ...any) error {
	body, err := encodeRequest(req)
	if err != nil {
		return err
	}
	_, inTx := ext.(*sqlx.Tx)
	for attempt := 1; ; attempt++ {
		args := pq.QuoteLiteral(string(body)) + `::jsonb`
		if lockingFunctions[fn] {
			args += fmt.Sprintf(`, %t`, inTx || attempt > 1)
		}
		if lockTimeout > 0 { // the Batcher's functions: ledger_post_batch, ledger_write_one, ledger_write_batch
			args += fmt.Sprintf(`, %d`, max(lockTimeout.Milliseconds(), 1))
		}
		err = ext.QueryRowxContext(ctx, `SELECT * FROM `+fn+`(`+args+`)`).Scan(dest...)
		if err == nil || inTx || attempt >= maxAttempts || !db.Retryable(err) || ctx.Err() != nil {
			return mapError(err)
		}
		backoff(ctx, attempt)
	}
}

// isLockTimeout reports whether err is a write that gave up waiting for a
// row lock (callJSONTimeout).
func isLockTimeout(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// maxAttempts bounds the retries of an autocommitted write.
const maxAttempts = 12

// exec runs one parameterised write statement with the same retry rule.
func exec(ctx context.Context, ext sqlx.ExtContext, q string, args ...any) error {
	_, inTx := ext.(*sqlx.Tx)
	var err error
	for attempt := 1; ; attempt++ {
		_, err = ext.ExecContext(ctx, q, args...)
		if err == nil || inTx || attempt >= maxAttempts || !db.Retryable(err) || ctx.Err() != nil {
			return mapError(err)
		}
		backoff(ctx, attempt)
	}
}

// backoff waits a random time up to 2^attempt ms (at most 64 ms): writers
// that collided do not collide again in step.
func backoff(ctx context.Context, attempt int) {
	d := time.Duration(1+rand.N(1<<min(attempt, 6))) * time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// The SQL functions raise these codes with a JSON DETAIL of fields.
var sqlCodes = map[string]apperr.Code{
	"RL001": apperr.InsufficientFunds,
	"RL002": apperr.NotFound,
	"RL003": apperr.Invalid,
	"RL004": apperr.Conflict,
	"RL005": apperr.Forbidden,
}

// mapError turns the SQL functions' errors into application errors.
// Serialization failures and deadlocks become conflicts that wrap the
// driver's error, so that a caller's db.WithTx still recognises and
// retries them.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if e := functionError(err); e != nil {
		return e
	}
	if db.Retryable(err) {
		return &apperr.Error{Code: apperr.Conflict, Message: "the ledger was busy with the same accounts: try again", Err: err}
	}
	return db.MapError(err, "ledger transaction")
}

// functionError is the application error for an error the SQL functions
// raised with one of their codes (sqlCodes), nil for any other error.
func functionError(err error) *apperr.Error {
	var pe *pq.Error
	if errors.As(err, &pe) {
		if _, ok := sqlCodes[string(pe.Code)]; ok {
			return sqlError(string(pe.Code), pe.Message, []byte(pe.Detail))
		}
	}
	return nil
}

// encodeRequest is req as the JSON document the SQL functions read.
func encodeRequest(req any) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, apperr.Wrap(err, "encoding ledger request")
	}
	return body, nil
}

// sqlError builds the application error for a code the SQL functions
// raise (or return, in a batch) with its JSON detail of fields.
func sqlError(sqlCode, message string, detail []byte) *apperr.Error {
	code, ok := sqlCodes[sqlCode]
	if !ok {
		code = apperr.Internal
	}
	ae := &apperr.Error{Code: code, Message: message}
	var fields map[string]any
	if json.Unmarshal(detail, &fields) == nil {
		for k, v := range fields {
			if f, ok := v.(float64); ok && f == float64(int64(f)) {
				v = int64(f) // amounts and ids are integers
			}
			ae = ae.With(k, v)
		}
	}
	return ae
}
