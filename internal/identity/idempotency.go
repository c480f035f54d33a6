package identity

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 200

// requestHash identifies a request for an idempotency key: the operation
// and its canonical parts.
func requestHash(op string, parts ...any) []byte {
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(append([]any{op}, parts...))
	return h.Sum(nil)
}

// checkIdempotencyKey refuses a key that is too long. Errors: invalid.
func checkIdempotencyKey(key string) error {
	if len(key) > MaxIdempotencyKey {
		return invalidField("Idempotency-Key", "the idempotency key must be at most %d characters", MaxIdempotencyKey)
	}
	return nil
}

// idempotent runs do in one transaction and, when key is set, records
// result (a pointer do fills) under key in the actor's organisation in
// that same transaction. A later call with the key and the same request
// (hash) does not run do: it fills result with what was recorded and
// reports replayed. Concurrent calls with one key wait for each other on
// the key's row. When do fails nothing is recorded, so a retry runs again.
// Errors: those of do; conflict (the key was used for another request).
func (s *Service) idempotent(ctx context.Context, actor *auth.Principal, key, op string, hash []byte, result any, do func(tx *sqlx.Tx) error) (replayed bool, err error) {
	if err := checkIdempotencyKey(key); err != nil {
		return false, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		replayed = false
		if key != "" {
			var claimed bool
			err := tx.GetContext(ctx, &claimed, `INSERT INTO identity_idempotency_keys (organisation_id, key, operation, request_hash)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true`, actor.OrgID, key, op, hash)
			if errors.Is(err, sql.ErrNoRows) {
				replayed = true
				return replay(ctx, tx, actor, key, op, hash, result)
			}
			if err != nil {
				return err
			}
		}
		if err := do(tx); err != nil {
			return err
		}
		if key == "" {
			return nil
		}
		raw, err := json.Marshal(result)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE identity_idempotency_keys SET result = $3 WHERE organisation_id = $1 AND key = $2`, actor.OrgID, key, raw)
		return err
	})
	return replayed, err
}

// replay reads the recorded result of key into result. Errors: conflict.
func replay(ctx context.Context, q sqlx.QueryerContext, actor *auth.Principal, key, op string, hash []byte, result any) error {
	var rec struct {
		Operation string `db:"operation"`
		Hash      []byte `db:"request_hash"`
		Result    []byte `db:"result"`
	}
	if err := sqlx.GetContext(ctx, q, &rec, `SELECT operation, request_hash, result FROM identity_idempotency_keys
		WHERE organisation_id = $1 AND key = $2`, actor.OrgID, key); err != nil {
		return err
	}
	if rec.Operation != op || string(rec.Hash) != string(hash) || rec.Result == nil {
		return apperr.New(apperr.Conflict, "this Idempotency-Key was already used for a different request").With("field", "Idempotency-Key")
	}
	return json.Unmarshal(rec.Result, result)
}
