package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// KeyLifetime is how long an idempotency key is remembered. A client
// retries within minutes; after a day the same key starts a new request.
const KeyLifetime = 24 * time.Hour

// MaxKeyLength is the longest idempotency key accepted.
const MaxKeyLength = 200

// KeyField is the field an idempotency key error names: the HTTP header
// the key arrives in (web forms send theirs in a hidden field).
const KeyField = "Idempotency-Key"

// Scope is whose key it is and for what: the caller (the user or API client
// that sent the request) and the operation ("catalog.create_offering"). It
// is never the organisation: two colleagues who send the same key must not
// get each other's answers.
type Scope struct {
	Caller    uuid.UUID
	Operation string
}

// Idempotent runs do once per key. With an empty key it just runs do in a
// transaction. With a key it runs do and stores response (a pointer do
// fills; stored as JSON) under scope and key in the same transaction, so
// the effect and its remembered answer commit together or not at all. A
// later call with the same scope, key and request does not run do: it
// fills response with the stored answer and reports replayed.
//
// conn is the pool (*sqlx.DB: Idempotent runs its own transaction, retried
// like WithTx) or the caller's transaction (*sqlx.Tx: a use case spanning
// domains; the caller commits, and must roll back when an error comes back).
//
// Requests are compared by RequestHash(scope.Operation, request), so the
// request should hold everything that decides the effect, and nothing that
// does not (a photo by its hash, not its bytes).
//
// Only a success is remembered. When do fails — a business refusal such as
// insufficient funds, a full slot or an invalid request, or any other error
// — nothing is stored, and a retry with the same key runs again: it may
// succeed once the cause is gone (the wallet topped up, a place freed).
//
// Errors: those of do; invalid (key longer than MaxKeyLength or not
// printable text); conflict, field KeyField: the key was used for another
// request of this scope (reason "reused"), or a request with the key is
// still running (reason "in_progress": it is not waited for; retry shortly).
func Idempotent(ctx context.Context, conn sqlx.ExtContext, scope Scope, key string, request, response any,
	do func(tx *sqlx.Tx) error) (replayed bool, err error) {
	if key == "" {
		return false, inTx(ctx, conn, do)
	}
	if err := CheckKey(key); err != nil {
		return false, err
	}
	hash, err := RequestHash(scope.Operation, request)
	if err != nil {
		return false, err
	}
	err = inTx(ctx, conn, func(tx *sqlx.Tx) error {
		replayed = false
		stored, err := claimKey(ctx, tx, scope, key, hash)
		if err != nil {
			return err
		}
		if stored != nil {
			replayed = true
			return json.Unmarshal(stored, response)
		}
		if err := do(tx); err != nil {
			return err
		}
		return storeResponse(ctx, tx, scope, key, hash, response)
	})
	return replayed, err
}

// CheckKey refuses a key that cannot be stored or shown: longer than
// MaxKeyLength, not UTF-8, or holding control characters. Errors: invalid.
func CheckKey(key string) error {
	if len(key) > MaxKeyLength {
		return apperr.New(apperr.Invalid, "the idempotency key must be at most %d characters", MaxKeyLength).With("field", KeyField)
	}
	if !utf8.ValidString(key) || strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return apperr.New(apperr.Invalid, "the idempotency key must be printable text").With("field", KeyField)
	}
	return nil
}

// KeyInProgress reports whether err says a request with the same key is
// still running.
func KeyInProgress(err error) bool { return keyConflict(err) == reasonInProgress }

// KeyReused reports whether err says the key was used for another request.
func KeyReused(err error) bool { return keyConflict(err) == reasonReused }

const (
	reasonInProgress = "in_progress"
	reasonReused     = "reused"
)

func keyConflict(err error) string {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Conflict || ae.Fields["field"] != KeyField {
		return ""
	}
	r, _ := ae.Fields["reason"].(string)
	return r
}

// claimKey takes the key for this transaction and returns the stored
// response of an earlier request with it (nil: none, do runs). A
// transaction-scoped advisory lock on the key makes a concurrent duplicate
// fail at once instead of queueing behind the first request's row lock;
// it is released when the transaction ends, after its commit is visible.
// The lock and the lookup are one statement (idempotency_claim, whose
// lookup sees what committed before the lock was granted).
func claimKey(ctx context.Context, tx *sqlx.Tx, scope Scope, key string, hash []byte) ([]byte, error) {
	q, err := Inline(`SELECT `+ClaimColumns+` FROM idempotency_claim($1, $2, $3) k`, scope.Caller, scope.Operation, key)
	if err != nil {
		return nil, err
	}
	var c Claim
	if err := tx.GetContext(ctx, &c, q); err != nil {
		return nil, err
	}
	return c.Stored(hash)
}

// Claim is what idempotency_claim answered, for a hot path that claims
// its key, writes its effect and stores its answer (AnswerInsert) in one
// statement of its own, committed on its own, instead of in Idempotent's
// transaction: that statement must write the effect and the answer only
// when the claim got the key and found no answer (got AND response IS
// NULL). The rules are Idempotent's.
type Claim struct {
	Got      bool    `db:"claim_got"`
	Hash     []byte  `db:"claim_hash"`
	Response *string `db:"claim_response"`
}

// ClaimColumns selects a Claim from idempotency_claim(caller, operation,
// key) called as the FROM item k.
const ClaimColumns = `k.got AS claim_got, k.request_hash AS claim_hash, k.response::text AS claim_response`

// Stored returns the answer stored under the key for the request whose
// RequestHash is hash, nil when there is none (the effect is written), or
// Idempotent's conflicts: another request holds the key now (in progress),
// or the key was used for a different request (reused).
func (c Claim) Stored(hash []byte) ([]byte, error) {
	switch {
	case !c.Got:
		return nil, inProgressError()
	case c.Response == nil:
		return nil, nil
	case !bytes.Equal(c.Hash, hash):
		return nil, apperr.New(apperr.Conflict, "this Idempotency-Key was already used for a different request").
			With("field", KeyField).With("reason", reasonReused)
	}
	return []byte(*c.Response), nil
}

// AnswerInsert is the INSERT that stores an answer under a claimed key,
// for the statement of a Claim: $n … $n+3 are the scope's caller and
// operation, the key and the request's RequestHash; answer is the SQL
// expression of the answer (jsonb); the caller appends its FROM clause
// (the row of the effect written, so nothing is stored without it). A
// unique violation of the key (KeyConflict) is a request in progress.
func AnswerInsert(n int, answer string) string {
	return fmt.Sprintf(`INSERT INTO idempotency_keys (caller, operation, key, request_hash, response, expires_at)
		SELECT $%d, $%d, $%d, $%d, %s, now() + %d * interval '1 second'`, n, n+1, n+2, n+3, answer, int(KeyLifetime.Seconds()))
}

// KeyConflict maps the unique violation of an answer stored without the
// key's claim to Idempotent's in-progress conflict; other errors come
// back as they were.
func KeyConflict(err error) error {
	if IsUniqueViolation(err, "idempotency_keys_pkey") {
		return inProgressError()
	}
	return err
}

// storeResponse writes the answer under the key, in one round trip.
func storeResponse(ctx context.Context, tx *sqlx.Tx, scope Scope, key string, hash []byte, response any) error {
	raw, err := json.Marshal(response)
	if err != nil {
		return fmt.Errorf("storing the response of %s: %w", scope.Operation, err)
	}
	q, err := Inline(`INSERT INTO idempotency_keys (caller, operation, key, request_hash, response, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::float8 * interval '1 second')`,
		scope.Caller, scope.Operation, key, hash, string(raw), KeyLifetime.Seconds())
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, q)
	if IsUniqueViolation(err, "idempotency_keys_pkey") { // only if someone wrote it without the lock
		return inProgressError()
	}
	return err
}

func inProgressError() error {
	return apperr.New(apperr.Conflict, "a request with this Idempotency-Key is still in progress: retry in a moment").
		With("field", KeyField).With("reason", reasonInProgress)
}

// inTx runs fn in conn when it is a transaction, else in a new one (WithTx).
func inTx(ctx context.Context, conn sqlx.ExtContext, fn func(tx *sqlx.Tx) error) error {
	switch c := conn.(type) {
	case *sqlx.Tx:
		return fn(c)
	case *sqlx.DB:
		return WithTx(ctx, c, fn)
	default:
		return fmt.Errorf("db: Idempotent needs a *sqlx.DB or a *sqlx.Tx, not %T", conn)
	}
}

// SweepIdempotencyKeys deletes up to limit keys that expired by now and
// returns how many it deleted; the worker runs it again while it finds
// some. A key that is expired but not yet swept is already treated as
// absent, so the sweep only reclaims space.
func SweepIdempotencyKeys(ctx context.Context, dbx sqlx.ExecerContext, now time.Time, limit int) (int, error) {
	res, err := dbx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2))`, now, limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ExpiredIdempotencyKeys counts the keys that expired by now: the sweep's
// backlog.
func ExpiredIdempotencyKeys(ctx context.Context, q sqlx.QueryerContext, now time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM idempotency_keys WHERE expires_at <= $1`, now)
	return n, err
}
