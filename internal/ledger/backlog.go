package ledger

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// The backlogs of the ledger's background jobs, for the worker's metrics.

// ExpiredHolds counts pending holds past their expiry (ExpireHolds' work).
func ExpiredHolds(ctx context.Context, q sqlx.QueryerContext) (int, error) {
	return count(ctx, q, `SELECT count(*) FROM ledger_transactions WHERE status = 'pending' AND expires_at <= now()`)
}

// ExpiredLots counts live lots past their expiry (SweepExpiredLots' work).
func ExpiredLots(ctx context.Context, q sqlx.QueryerContext) (int, error) {
	return count(ctx, q, `SELECT count(*) FROM ledger_lots WHERE live AND expires_at <= now()`)
}

// Unsealed counts transactions not yet in the audit log (Seal's work).
func Unsealed(ctx context.Context, q sqlx.QueryerContext) (int, error) {
	return count(ctx, q, `SELECT count(*) FROM ledger_transactions t, ledger_log_head h
		WHERE (t.writer_xid, t.id) > (h.last_xid, h.last_tx)`)
}

func count(ctx context.Context, q sqlx.QueryerContext, query string) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, query)
	return n, err
}
