package redemption

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// BankMove is money the platform's bank account moved for redemption, as
// the platform recorded it: a treasury move to or from Stripe, a file of
// provider payouts the bank executed, a paid provider payout the bank sent
// back. Funding's bank reconciliation matches the statement's lines with
// these too, so they are checked, not reported as unrecorded.
type BankMove struct {
	Kind string `db:"kind"` // treasury, payout_file, payout_return
	// Ref is what the statement names it by: the reference an admin gave a
	// treasury move (the bank's CRO), a payout file's message id, a payout's
	// end-to-end id.
	Ref    string    `db:"ref"`
	Amount int64     `db:"amount"` // positive: money in
	Day    time.Time `db:"day"`    // the day in Italy it was recorded or executed
}

// BankMoves lists the moves of the instants [start, end), oldest first.
func (s *Service) BankMoves(ctx context.Context, start, end time.Time) ([]BankMove, error) {
	var out []BankMove
	err := sqlx.SelectContext(ctx, s.db, &out, `
		SELECT 'treasury' AS kind, coalesce(nullif(reference, ''), id::text) AS ref,
		       CASE direction WHEN 'to_bank' THEN amount_cents ELSE -amount_cents END AS amount,
		       (created_at AT TIME ZONE 'Europe/Rome')::date AS day
		FROM treasury_moves WHERE created_at >= $1 AND created_at < $2
		UNION ALL
		SELECT 'payout_file', b.message_id, -sum(p.amount_cents), b.execution_on
		FROM payout_batches b JOIN provider_payouts p ON p.batch_id = b.id
		WHERE b.status = 'executed' AND b.execution_on >= ($1 AT TIME ZONE 'Europe/Rome')::date
		  AND b.execution_on < ($2 AT TIME ZONE 'Europe/Rome')::date
		  AND (p.status <> 'returned' OR p.return_tx_id IS NOT NULL) -- the bank refused these: nothing left
		GROUP BY b.id
		UNION ALL
		SELECT 'payout_return', p.end_to_end_id, p.amount_cents, (p.resolved_at AT TIME ZONE 'Europe/Rome')::date
		FROM provider_payouts p
		WHERE p.status = 'returned' AND p.return_tx_id IS NOT NULL AND p.resolved_at >= $1 AND p.resolved_at < $2
		ORDER BY day, ref`, start, end)
	return out, err
}
