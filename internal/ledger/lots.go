package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
// money, each by decide, each in its own ledger transaction keyed by lot
// and amount (so concurrent sweepers and retries write it once). It
// returns how many lots it disposed of. A lot whose disposition fails is
// passed over for the rest of the call and reported in the error after the
// others have been tried, so one bad lot never stops the sweep.
func SweepExpiredLots(ctx context.Context, dbx *sqlx.DB, limit int, decide func(Lot) (Disposition, error)) (int, error) {
	n := 0
	failed := []int64{}
	var errs []error
	for n < limit {
		var rows []lotRow
		err := sqlx.SelectContext(ctx, dbx, &rows, `SELECT `+lotCols+` FROM ledger_lots l
			JOIN ledger_accounts a ON a.id = l.account_id
			WHERE l.live AND l.expires_at <= now() AND l.id <> ALL($2) ORDER BY l.expires_at, l.id LIMIT $1`,
			limit-n, pq.Array(failed))
		if err != nil {
			return n, errors.Join(append(errs, apperr.Wrap(err, "listing expired lots"))...)
		}
		if len(rows) == 0 {
			break
		}
		for _, lot := range scanLots(rows) {
			if err := disposeLot(ctx, dbx, lot, decide); err != nil {
				failed = append(failed, lot.ID)
				errs = append(errs, fmt.Errorf("lot %d: %w", lot.ID, err))
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

func disposeLot(ctx context.Context, dbx *sqlx.DB, lot Lot, decide func(Lot) (Disposition, error)) error {
	d, err := decide(lot)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("lot-expiry:%d:%d", lot.ID, lot.Remaining)
	switch d.Action {
	case Return, Donate:
		p := Posting{From: lot.Account, To: d.To, Amount: lot.Remaining, OnlyLots: []int64{lot.ID}}
		if d.Action == Donate {
			attrs := maps.Clone(lot.Attrs)
			if attrs == nil {
				attrs = map[string]any{}
			}
			attrs["donated_from_lot"] = lot.ID
			p.Lot = &LotSpec{Attrs: attrs}
		}
		_, err = Post(ctx, dbx, Request{Key: key, Kind: "lot_expiry." + d.Action, Postings: []Posting{p},
			Metadata: map[string]any{"lot_id": lot.ID}})
		return err
	case CarryOver:
		if !d.ExpiresAt.After(time.Now()) {
			return invalid("expires_at", "a carried-over lot must expire in the future")
		}
		_, err = call(ctx, dbx, "ledger_carry_over", map[string]any{
			"key": key, "lot_id": lot.ID, "amount": lot.Remaining, "expires_at": canonicalTime(&d.ExpiresAt)})
		return err
	}
	return invalid("action", "expired lot disposition must be return, carry_over or donate, not %q", d.Action)
}
