package redemption

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
)

// Taking money back from a provider paid by Stripe transfer, by transfer
// reversals (docs/ledger.md, "Treasury"):
//
//   - a connected account's own bank payout failed (payout.failed on the
//     Connect endpoint): the failure is shown on the provider's payouts
//     page, and the worker reverses that much of its latest transfers, so
//     the money is back in platform:stripe and owed on the payable again
//     (the next payout pays it, by SEPA if Stripe stopped its payouts);
//   - a refund of a voucher already paid out was advanced from the
//     provider's receivable; payouts net it first, and what no payout
//     netted within ReclaimAfter is reversed from its transfers.
//
// Each reversal's key is both Stripe's idempotency key and the ledger's:
// a worker killed between the two redoes the same reversal, once.

// DefaultReclaimAfter is how long a refund advance waits for payouts to
// net it before a transfer reversal takes it back.
const DefaultReclaimAfter = 60 * 24 * time.Hour

// BankFailure is a provider's Stripe payout to its bank that failed.
type BankFailure struct {
	PayoutID   string     `json:"stripe_payout_id" db:"stripe_payout_id"`
	Amount     int64      `json:"amount_cents" db:"amount_cents"`
	Code       string     `json:"failure_code" db:"failure_code"`
	Message    string     `json:"failure_message" db:"failure_message"`
	FailedAt   time.Time  `json:"failed_at" db:"failed_at"`
	Reclaimed  int64      `json:"reclaimed_cents" db:"reclaimed_cents"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty" db:"resolved_at"`
}

// RecordBankFailure records a payout.failed event of a connected account
// inside the inbox's transaction (once per Stripe payout); the worker's
// ReclaimDue brings the money back. An account no provider has is refused
// for good (invalid), a retry changes nothing.
func (s *Service) RecordBankFailure(ctx context.Context, tx *sqlx.Tx, f payments.PayoutFailure) error {
	if f.Amount <= 0 {
		return apperr.New(apperr.Invalid, "payout.failed %s without an amount", f.PayoutID)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO provider_bank_failures (stripe_payout_id, provider_id, amount_cents, failure_code,
			failure_message, failed_at)
		SELECT $1, organisation_id, $3, $4, $5, $6 FROM providers WHERE stripe_account_id = $2
		ON CONFLICT (stripe_payout_id) DO NOTHING`, f.PayoutID, f.AccountID, f.Amount, f.Code, f.Message, f.At)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var known bool
		if err := tx.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM provider_bank_failures WHERE stripe_payout_id = $1)`,
			f.PayoutID); err != nil || known {
			return err
		}
		return apperr.New(apperr.Invalid, "payout.failed for %s, which is no provider's account", f.AccountID)
	}
	return nil
}

// BankFailures lists the caller's provider's failed bank payouts, newest
// first. Errors: forbidden.
func (s *Service) BankFailures(ctx context.Context, p *auth.Principal) ([]BankFailure, error) {
	prov, err := providerOf(p)
	if err != nil {
		return nil, err
	}
	out := []BankFailure{}
	err = s.db.SelectContext(ctx, &out, `SELECT stripe_payout_id, amount_cents, failure_code, failure_message, failed_at,
		reclaimed_cents, resolved_at FROM provider_bank_failures WHERE provider_id = $1 ORDER BY failed_at DESC LIMIT 50`, prov)
	return out, err
}

// ReclaimDue makes the transfer reversals due: failed bank payouts, and
// refund advances older than ReclaimAfter that no payout netted. It
// returns how many it completed; one that fails waits with backoff.
func (s *Service) ReclaimDue(ctx context.Context) (int, error) {
	if s.cfg.Transfers == nil {
		return 0, nil
	}
	var due []struct {
		Kind     string    `db:"kind"`
		Key      string    `db:"key"`
		Provider uuid.UUID `db:"provider_id"`
		Left     int64     `db:"left_cents"`
	}
	if err := s.db.SelectContext(ctx, &due, `
		SELECT 'bank' AS kind, stripe_payout_id AS key, provider_id, amount_cents - reclaimed_cents AS left_cents
		FROM provider_bank_failures WHERE resolved_at IS NULL AND next_attempt_at <= now()
		UNION ALL
		SELECT 'refund', key, provider_id, amount_cents - settled_cents - reclaimed_cents
		FROM refund_advances WHERE settled_cents + reclaimed_cents < amount_cents AND created_at <= $1 AND next_attempt_at <= now()
		ORDER BY 2 LIMIT 100`, s.cfg.Now().Add(-s.cfg.ReclaimAfter)); err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range due {
		err := s.reclaim(ctx, d.Kind, d.Key, d.Provider, d.Left)
		if err != nil {
			errs = append(errs, fmt.Errorf("reclaiming %s %s: %w", d.Kind, d.Key, err))
			table, col := "provider_bank_failures", "stripe_payout_id"
			if d.Kind == "refund" {
				table, col = "refund_advances", "key"
			}
			_, uerr := s.db.ExecContext(ctx, `UPDATE `+table+` SET last_error = $2, next_attempt_at = now() + interval '1 hour'
				WHERE `+col+` = $1`, d.Key, err.Error())
			errs = append(errs, uerr)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// reclaim reverses left cents from the provider's paid Stripe transfers,
// newest first, then marks the failure or advance done for what it got
// back (all of it, or what the transfers still held).
func (s *Service) reclaim(ctx context.Context, kind, key string, prov uuid.UUID, left int64) error {
	var paid []Payout
	if err := s.db.SelectContext(ctx, &paid, `SELECT `+payoutColumns+` FROM provider_payouts o
		WHERE provider_id = $1 AND method = 'stripe' AND status = 'paid' AND reversed_cents < amount_cents
		ORDER BY resolved_at DESC LIMIT 20`, prov); err != nil {
		return err
	}
	got := int64(0)
	for _, po := range paid {
		part := min(left-got, po.AmountCents-po.ReversedCents)
		if part <= 0 {
			break
		}
		rkey := "reclaim-" + kind + "-" + key + "-" + po.ID.String()
		rev, err := s.cfg.Transfers.ReverseTransfer(ctx, rkey, *po.StripeTransferID, part)
		if err != nil {
			return err
		}
		if err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error { return s.recordReversal(ctx, tx, kind, key, po, part, rkey, rev) }); err != nil {
			return err
		}
		got += part
	}
	if kind == "bank" {
		_, err := s.db.ExecContext(ctx, `UPDATE provider_bank_failures SET resolved_at = now(), last_error = $2
			WHERE stripe_payout_id = $1`, key, map[bool]string{true: "", false: "the transfers held less than the failed payout"}[got == left])
		return err
	}
	return nil
}

// recordReversal books one transfer reversal: the money is back in
// platform:stripe, owed on the payable again (a failed bank payout) or
// paying off the receivable (a refund advance).
func (s *Service) recordReversal(ctx context.Context, tx *sqlx.Tx, kind, key string, po Payout, part int64, rkey, stripeID string) error {
	var done bool
	if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM payout_reversals WHERE key = $1)`, rkey); err != nil || done {
		return err
	}
	to, table, col, column := PayablePath(po.ProviderID), "provider_bank_failures", "stripe_payout_id", "reclaimed_cents"
	if kind == "refund" {
		to, table, col = ReceivablePath(po.ProviderID), "refund_advances", "key"
	}
	res, err := ledger.Post(ctx, tx, ledger.Request{Key: rkey, Kind: "transfer_reversal", Reference: "payout:" + po.ID.String(),
		Metadata: map[string]any{"stripe_reversal": stripeID, "reason": kind, "of": key},
		Postings: []ledger.Posting{{From: treasury[PayoutStripe].Path, To: to, Amount: part}}})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO payout_reversals (key, payout_id, amount_cents, stripe_reversal_id, tx_id)
		VALUES ($1, $2, $3, $4, $5)`, rkey, po.ID, part, stripeID, res.TxID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE provider_payouts SET reversed_cents = reversed_cents + $2 WHERE id = $1`, po.ID, part); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE `+table+` SET `+column+` = `+column+` + $2, last_error = '' WHERE `+col+` = $1`, key, part)
	return err
}

// recordAdvance remembers a refund advanced from the receivable, for the
// 60-day rule.
func recordAdvance(ctx context.Context, tx *sqlx.Tx, prov uuid.UUID, key string, amount int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refund_advances (key, provider_id, amount_cents) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, prov, amount)
	return err
}

// settleAdvances marks amount of the provider's advances settled by a
// payout, oldest first (under the provider's row lock, which payouts
// take).
func settleAdvances(ctx context.Context, tx *sqlx.Tx, prov uuid.UUID, amount int64) error {
	_, err := tx.ExecContext(ctx, `WITH open AS (
			SELECT key, amount_cents - settled_cents - reclaimed_cents AS left_cents,
				sum(amount_cents - settled_cents - reclaimed_cents) OVER (ORDER BY created_at, key) AS running
			FROM refund_advances WHERE provider_id = $1 AND settled_cents + reclaimed_cents < amount_cents)
		UPDATE refund_advances a SET settled_cents = a.settled_cents + least(o.left_cents, $2 - (o.running - o.left_cents))
		FROM open o WHERE a.key = o.key AND o.running - o.left_cents < $2`, prov, amount)
	return err
}
