package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// What happens to the money left in an expired lot, as the plan says.
const (
	// Return sends it back to To (the company budget).
	Return = "return"
	// CarryOver makes a new lot of the same account expiring at ExpiresAt.
	CarryOver = "carry_over"
	// Donate sends it to To (a fund pool) as a contributor lot.
	Donate = "donate"
)

// Disposition is the decision for one expired lot.
type Disposition struct {
	Action    string
	To        string
	ExpiresAt time.Time
}

// SweepExpiredLots disposes of up to limit expired lots that still hold
// money, each by decide, each in its own ledger transaction (ledger_dispose
// _lot: the only write that may take from an expired lot). It walks the
// expired lots in expiry order and goes on past a lot whose disposition
// fails, so one lot that cannot be disposed of never holds up the others;
// their errors are returned with the count. Concurrent sweepers and
// retries dispose of each lot's remainder once; a lot that gets money back
// later (a voided hold) is disposed of again by a later sweep.
func SweepExpiredLots(ctx context.Context, dbx *sqlx.DB, limit int, decide func(Lot) (Disposition, error)) (int, error) {
	n := 0
	var errs []error
	var afterExp time.Time
	var afterID int64
	for n < limit {
		var rows []lotRow
		err := sqlx.SelectContext(ctx, dbx, &rows, `SELECT `+lotCols+` FROM ledger_lots l
			JOIN ledger_accounts a ON a.id = l.account_id
			WHERE l.live AND l.expires_at <= now() AND (l.expires_at, l.id) > ($1, $2)
			ORDER BY l.expires_at, l.id LIMIT $3`, afterExp, afterID, min(limit-n, 500))
		if err != nil {
			return n, errors.Join(append(errs, apperr.Wrap(err, "listing expired lots"))...)
		}
		if len(rows) == 0 {
			break
		}
		for _, lot := range scanLots(rows) {
			afterExp, afterID = *lot.ExpiresAt, lot.ID
			done, err := disposeLot(ctx, dbx, lot, decide)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("lot %d: %w", lot.ID, err))
			case done:
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}

// disposeLot reports whether it wrote a disposal (false: nothing was left).
func disposeLot(ctx context.Context, dbx *sqlx.DB, lot Lot, decide func(Lot) (Disposition, error)) (bool, error) {
	d, err := decide(lot)
	if err != nil {
		return false, err
	}
	req := map[string]any{"lot_id": lot.ID, "action": d.Action}
	switch d.Action {
	case Return:
		req["to"] = d.To
	case Donate:
		attrs := maps.Clone(lot.Attrs)
		if attrs == nil {
			attrs = map[string]any{}
		}
		attrs["donated_from_lot"] = lot.ID
		req["to"], req["attrs"] = d.To, attrs
	case CarryOver:
		req["expires_at"] = canonicalTime(&d.ExpiresAt)
	default:
		return false, invalid("action", "expired lot disposition must be return, carry_over or donate, not %q", d.Action)
	}
	var id *int64
	var replayed bool
	err = callJSON(ctx, dbx, "ledger_dispose_lot", req, &id, &replayed)
	return err == nil && id != nil, err
}
