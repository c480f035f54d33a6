package ledger

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// GetBalance returns an account's balance now: the sum of its shards.
//
// Errors: not_found.
func GetBalance(ctx context.Context, q sqlx.QueryerContext, path string) (Balance, error) {
	var b Balance
	err := sqlx.GetContext(ctx, q, &b, `
		SELECT a.path, a.asset, a.floor, sum(b.posted)::bigint AS posted,
		       sum(b.pending_out)::bigint AS pending_out, sum(b.pending_in)::bigint AS pending_in
		FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.path = $1 GROUP BY a.id`, path)
	if err != nil {
		return Balance{}, db.MapError(err, "account "+path)
	}
	b.Available = b.Posted - b.PendingOut
	return b, nil
}

// BalanceAt returns an account's balance as it stood at a past time:
// posted transactions effective by then, and holds placed by then and not
// yet resolved.
//
// Errors: not_found.
func BalanceAt(ctx context.Context, q sqlx.QueryerContext, path string, at time.Time) (Balance, error) {
	var b Balance
	err := sqlx.GetContext(ctx, q, &b, `
		SELECT a.path, a.asset, a.floor,
		  coalesce(sum(e.amount) FILTER (WHERE t.status = 'posted' AND e.effective_at <= $2), 0)::bigint * s.sgn AS posted,
		  coalesce(sum(greatest(-e.amount * s.sgn, 0)) FILTER (WHERE t.hold_id IS NULL AND t.expires_at IS NOT NULL
		           AND t.created_at <= $2 AND (t.resolved_at IS NULL OR t.resolved_at > $2)), 0)::bigint AS pending_out,
		  coalesce(sum(greatest(e.amount * s.sgn, 0)) FILTER (WHERE t.hold_id IS NULL AND t.expires_at IS NOT NULL
		           AND t.created_at <= $2 AND (t.resolved_at IS NULL OR t.resolved_at > $2)), 0)::bigint AS pending_in
		FROM ledger_accounts a
		CROSS JOIN LATERAL (SELECT CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END AS sgn) s
		LEFT JOIN ledger_entries e ON e.account_id = a.id
		LEFT JOIN ledger_transactions t ON t.id = e.tx_id
		WHERE a.path = $1 GROUP BY a.id, s.sgn`, path, at)
	if err != nil {
		return Balance{}, db.MapError(err, "account "+path)
	}
	b.Available = b.Posted - b.PendingOut
	return b, nil
}

const entryCols = `e.id, e.tx_id, e.account_id, a.path, e.amount,
	e.amount * CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END AS delta,
	e.effective_at, t.kind, t.status`

// Entries lists an account's entries newest first, limit at a time. Pass
// before = 0 for the first page, then the returned cursor; a zero cursor
// means there is nothing more (keyset pagination: stable under inserts).
//
// Errors: invalid (limit), not_found (account).
func Entries(ctx context.Context, q sqlx.QueryerContext, path string, before int64, limit int) ([]Entry, int64, error) {
	if limit < 1 || limit > 1000 {
		return nil, 0, invalid("limit", "limit must be between 1 and 1000")
	}
	acc, err := GetAccount(ctx, q, path)
	if err != nil {
		return nil, 0, err
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	var out []Entry
	err = sqlx.SelectContext(ctx, q, &out, `
		SELECT `+entryCols+` FROM ledger_entries e
		JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.tx_id
		WHERE e.account_id = $1 AND e.id < $2 ORDER BY e.id DESC LIMIT $3`, acc.ID, before, limit+1)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "listing entries")
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// GetTransaction returns a transaction with its entries.
//
// Errors: not_found.
func GetTransaction(ctx context.Context, q sqlx.QueryerContext, id int64) (Transaction, error) {
	var row struct {
		Transaction
		RawSplit string `db:"split"`
		RawMeta  string `db:"metadata"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT id, idempotency_key, kind, status, reference, effective_at, created_at, expires_at,
		       resolved_at, hold_id, reverses_id, policy_id, coalesce(split::text, '') AS split, metadata::text AS metadata
		FROM ledger_transactions WHERE id = $1`, id)
	if err != nil {
		return Transaction{}, db.MapError(err, "transaction")
	}
	t := row.Transaction
	if row.RawSplit != "" {
		t.Split = json.RawMessage(row.RawSplit)
	}
	t.Metadata = json.RawMessage(row.RawMeta)
	err = sqlx.SelectContext(ctx, q, &t.Entries, `
		SELECT `+entryCols+` FROM ledger_entries e
		JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.tx_id
		WHERE e.tx_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return Transaction{}, apperr.Wrap(err, "reading entries")
	}
	return t, nil
}

type lotRow struct {
	Lot
	Cats  pq.StringArray `db:"categories"`
	Attrs string         `db:"attrs"`
}

const lotCols = `l.id, l.account_id, a.path, l.tx_id, l.parent_id, l.expires_at, l.categories,
	l.attrs::text AS attrs, l.amount, l.remaining, l.grown, coalesce(l.group_key, '') AS group_key`

func scanLots(rows []lotRow) []Lot {
	out := make([]Lot, len(rows))
	for i, r := range rows {
		out[i] = r.Lot
		out[i].Categories = []string(r.Cats)
		_ = json.Unmarshal([]byte(r.Attrs), &out[i].Attrs)
	}
	return out
}

// Lots lists an account's lots that still hold money, in spending order
// (earliest expiry first).
//
// Errors: not_found.
func Lots(ctx context.Context, q sqlx.QueryerContext, path string) ([]Lot, error) {
	acc, err := GetAccount(ctx, q, path)
	if err != nil {
		return nil, err
	}
	var rows []lotRow
	err = sqlx.SelectContext(ctx, q, &rows, `SELECT `+lotCols+` FROM ledger_lots l JOIN ledger_accounts a ON a.id = l.account_id
		WHERE l.account_id = $1 AND l.live ORDER BY l.expires_at NULLS LAST, l.id`, acc.ID)
	if err != nil {
		return nil, apperr.Wrap(err, "listing lots")
	}
	return scanLots(rows), nil
}

// LotMoves lists the lots a transaction consumed or gave back, with each
// lot's attributes: which contributors' money a disbursement spent.
func LotMoves(ctx context.Context, q sqlx.QueryerContext, txID int64) ([]LotMove, error) {
	var moves []LotMove
	err := sqlx.SelectContext(ctx, q, &moves, `SELECT tx_id, lot_id, amount, against_tx, coalesce(category, '') AS category,
		coalesce(tax_bucket, '') AS tax_bucket FROM ledger_lot_moves
		WHERE tx_id = $1 ORDER BY lot_id`, txID)
	if err != nil || len(moves) == 0 {
		return moves, apperr.Wrap(err, "listing lot moves")
	}
	ids := make([]int64, len(moves))
	for i, m := range moves {
		ids[i] = m.LotID
	}
	var rows []lotRow
	err = sqlx.SelectContext(ctx, q, &rows, `SELECT `+lotCols+` FROM ledger_lots l JOIN ledger_accounts a ON a.id = l.account_id
		WHERE l.id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, apperr.Wrap(err, "reading lots")
	}
	byID := map[int64]Lot{}
	for _, l := range scanLots(rows) {
		byID[l.ID] = l
	}
	for i := range moves {
		moves[i].Lot = byID[moves[i].LotID]
	}
	return moves, nil
}
