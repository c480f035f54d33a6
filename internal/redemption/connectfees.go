package redemption

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
)

// Connect fees (docs/ledger.md, "Treasury"): what Stripe takes from the
// platform's balance for Connect (each active connected account, each
// payout) is a platform expense. Stripe shows it as balance transactions
// of type stripe_fee; the worker books each one once, by its Stripe id.

// ConnectFeesAccount is the platform's expense account of Connect fees.
const ConnectFeesAccount = "platform:connect-fees"

// StripeFees lists Stripe's own fees on the platform's balance created
// since a time (payments.Stripe).
type StripeFees interface {
	StripeFees(ctx context.Context, since time.Time) ([]payments.BalanceTransaction, error)
}

// ConnectFee is one Connect fee as booked.
type ConnectFee struct {
	StripeID    string    `json:"stripe_id" db:"stripe_id"`
	AmountCents int64     `json:"amount_cents" db:"amount_cents"` // what the platform paid (negative: Stripe gave back)
	Description string    `json:"description" db:"description"`
	CreatedAt   time.Time `json:"created_at" db:"stripe_created_at"`
	TxID        int64     `json:"tx_id" db:"tx_id"`
}

// feeLookback is how far before the newest booked fee the job asks Stripe
// again: a fee Stripe lists late (or a run that failed half-way) is still
// found; the ones already booked are skipped by their id.
const feeLookback = 3 * 24 * time.Hour

// firstFeeWindow is how far back the first run looks.
const firstFeeWindow = 35 * 24 * time.Hour

// BookConnectFees books Connect fees Stripe charged that are not booked
// yet (the background job "redemption.connect_fees") and returns how many
// it booked. Stripe is asked outside any transaction; each fee's row and
// its ledger transaction commit together, keyed by the Stripe id, so two
// workers book a fee once.
func (s *Service) BookConnectFees(ctx context.Context) (int, error) {
	if s.cfg.StripeFees == nil {
		return 0, nil
	}
	var newest *time.Time
	if err := s.db.GetContext(ctx, &newest, `SELECT max(stripe_created_at) FROM connect_fees`); err != nil {
		return 0, err
	}
	since := s.cfg.Now().Add(-firstFeeWindow)
	if newest != nil {
		since = newest.Add(-feeLookback)
	}
	bts, err := s.cfg.StripeFees.StripeFees(ctx, since)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, bt := range bts {
		booked, err := s.bookConnectFee(ctx, bt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if booked {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// bookConnectFee books one fee unless its Stripe id is booked already.
func (s *Service) bookConnectFee(ctx context.Context, bt payments.BalanceTransaction) (bool, error) {
	cost := -bt.Amount // a fee lowers the balance: its amount is negative
	if cost == 0 {
		return false, nil
	}
	booked := false
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		booked = false
		var known bool
		if err := tx.GetContext(ctx, &known, `SELECT pg_try_advisory_xact_lock(hashtextextended('connect-fee:' || $1, 0))
			AND NOT EXISTS (SELECT FROM connect_fees WHERE stripe_id = $1)`, bt.ID); err != nil || !known {
			return err // taken by another worker now, or booked: nothing to do
		}
		if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: ConnectFeesAccount, Kind: ledger.Expense}); err != nil {
			return err
		}
		if _, err := ledger.CreateAccount(ctx, tx, treasury[PayoutStripe]); err != nil {
			return err
		}
		p := ledger.Posting{From: ConnectFeesAccount, To: treasury[PayoutStripe].Path, Amount: cost}
		if cost < 0 { // Stripe gave a fee back
			p = ledger.Posting{From: treasury[PayoutStripe].Path, To: ConnectFeesAccount, Amount: -cost}
		}
		res, err := ledger.Post(ctx, tx, ledger.Request{Key: "connect-fee:" + bt.ID, Kind: "stripe.connect_fee", Reference: bt.ID,
			Postings: []ledger.Posting{p}, Metadata: map[string]any{"description": bt.Description}})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO connect_fees (stripe_id, amount_cents, description, stripe_created_at, tx_id)
			VALUES ($1, $2, $3, $4, $5)`, bt.ID, cost, bt.Description, bt.Created, res.TxID)
		booked = err == nil
		return err
	})
	return booked, err
}

// connectFees lists the latest booked Connect fees, newest first.
func (s *Service) connectFees(ctx context.Context, limit int) ([]ConnectFee, error) {
	out := []ConnectFee{}
	err := s.db.SelectContext(ctx, &out, `SELECT stripe_id, amount_cents, description, stripe_created_at, tx_id
		FROM connect_fees ORDER BY stripe_created_at DESC, stripe_id LIMIT $1`, limit)
	return out, err
}
