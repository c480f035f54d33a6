package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

var errNoRows = sql.ErrNoRows

// CreateAccount opens an account with its balance rows. Domain code
// creates the accounts it posts to, explicitly: a posting never creates
// one. Creating an account that exists with the same spec returns it (safe
// to retry); with a different spec it is a conflict.
//
// Errors: invalid, conflict.
func CreateAccount(ctx context.Context, ext sqlx.ExtContext, s AccountSpec) (Account, error) {
	if err := s.Validate(); err != nil {
		return Account{}, err
	}
	meta, err := json.Marshal(orEmpty(s.Metadata))
	if err != nil {
		return Account{}, invalid("metadata", "metadata must be JSON")
	}
	_, err = ext.ExecContext(ctx, `
		WITH a AS (
			INSERT INTO ledger_accounts (path, asset, kind, normal_side, floor, lots, shards, metadata)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)
			ON CONFLICT (path) DO NOTHING
			RETURNING id, shards)
		INSERT INTO ledger_balances (account_id, shard)
		SELECT a.id, g FROM a, generate_series(0, a.shards - 1) g`,
		s.Path, s.Asset, string(s.Kind), s.Kind.NormalSide(), s.Floor, s.Lots, s.Shards, string(meta))
	if err != nil {
		return Account{}, db.MapError(err, "account")
	}
	acc, err := GetAccount(ctx, ext, s.Path)
	if err != nil {
		return Account{}, err
	}
	same := acc.Asset == s.Asset && acc.Kind == s.Kind && acc.Lots == s.Lots && acc.Shards == s.Shards &&
		reflect.DeepEqual(acc.Floor, s.Floor)
	if !same {
		return Account{}, apperr.New(apperr.Conflict, "account %s already exists with different settings", s.Path).
			With("account", s.Path)
	}
	return acc, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

const accountCols = `id, path, asset, kind, normal_side, floor, lots, shards, status, metadata::text AS metadata, created_at`

type accountRow struct {
	Account
	RawMeta string `db:"metadata"`
}

// GetAccount returns the account at path.
//
// Errors: not_found.
func GetAccount(ctx context.Context, q sqlx.QueryerContext, path string) (Account, error) {
	var r accountRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+accountCols+` FROM ledger_accounts WHERE path = $1`, path)
	if err != nil {
		return Account{}, db.MapError(err, "account "+path)
	}
	_ = json.Unmarshal([]byte(r.RawMeta), &r.Account.Metadata)
	return r.Account, nil
}

// SetAccountStatus freezes, closes or reopens an account. A frozen or
// closed account takes no new postings; its pending holds can still be
// captured or voided. The change is recorded with who made it (actor) and
// why in ledger_account_changes: the app's database role can change a
// status only through this audited function, and a floor not at all.
//
// Errors: invalid, not_found.
func SetAccountStatus(ctx context.Context, ext sqlx.ExtContext, path, status, actor, reason string) error {
	if status != StatusOpen && status != StatusFrozen && status != StatusClosed {
		return invalid("status", "status must be open, frozen or closed")
	}
	if actor == "" || reason == "" {
		return invalid("reason", "a status change names who makes it and why")
	}
	var found bool
	err := sqlx.GetContext(ctx, ext, &found, `SELECT ledger_set_account_status($1, $2, $3, $4)`, path, status, actor, reason)
	if err != nil {
		return mapError(err)
	}
	if !found {
		return apperr.New(apperr.NotFound, "account %s not found", path).With("account", path)
	}
	return nil
}
