package redemption

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Transfers is the Stripe side of a payout (payments.Stripe in the app).
type Transfers interface {
	// Available is the platform's available Stripe balance in euro cents.
	Available(ctx context.Context) (int64, error)
	// Transfer moves amount to a connected account. The same key makes a
	// retry the same transfer (Stripe's idempotency), never a second one.
	// An error with a Permanent() bool method that says true is a refusal
	// retrying cannot change.
	Transfer(ctx context.Context, key, destination string, amount int64, description string) (string, error)
	// ReverseTransfer takes amount of a transfer back, once per key.
	ReverseTransfer(ctx context.Context, key, transfer string, amount int64) (string, error)
}

// permanent is an error that retrying cannot change (Stripe refused the
// request itself: a closed account, transfers not allowed), as
// payments.PermanentError says of itself.
type permanent interface{ Permanent() bool }

// Payout methods and statuses.
const (
	PayoutStripe = "stripe"
	PayoutSEPA   = "sepa"

	PayoutQueued   = "queued"
	PayoutSent     = "sent" // in a SEPA file given to the bank
	PayoutPaid     = "paid"
	PayoutFailed   = "failed"
	PayoutReturned = "returned" // the bank rejected or returned the SEPA transfer
)

// Payout pays a provider what it is owed.
type Payout struct {
	ID               uuid.UUID  `json:"id" db:"id"`
	ProviderID       uuid.UUID  `json:"provider_id" db:"provider_id"`
	AmountCents      int64      `json:"amount_cents" db:"amount_cents"`
	Method           string     `json:"method" db:"method"`
	Status           string     `json:"status" db:"status"`
	HoldID           int64      `json:"hold_id" db:"hold_id"`
	CaptureTxID      *int64     `json:"capture_tx_id,omitempty" db:"capture_tx_id"`
	StripeAccountID  *string    `json:"stripe_account_id,omitempty" db:"stripe_account_id"`
	StripeTransferID *string    `json:"stripe_transfer_id,omitempty" db:"stripe_transfer_id"`
	Attempts         int        `json:"attempts" db:"attempts"`
	LastError        string     `json:"last_error" db:"last_error"`
	CreatedAt        time.Time  `json:"created_at" db:"created_at"`
	ResolvedAt       *time.Time `json:"resolved_at,omitempty" db:"resolved_at"`
	// SEPA: the file it went in, the transfer's id and account, and why
	// the bank returned it.
	BatchID      *uuid.UUID `json:"batch_id,omitempty" db:"batch_id"`
	EndToEndID   *string    `json:"end_to_end_id,omitempty" db:"end_to_end_id"`
	CreditorName *string    `json:"creditor_name,omitempty" db:"creditor_name"`
	CreditorIBAN *string    `json:"creditor_iban,omitempty" db:"creditor_iban"`
	ReturnReason string     `json:"return_reason,omitempty" db:"return_reason"`
	// ReversedCents is what transfer reversals took back of it.
	ReversedCents int64 `json:"reversed_cents,omitempty" db:"reversed_cents"`
}

// ReceivablePath is what a provider owes the platform: refunds of
// vouchers whose money it was already paid, netted against its next
// payouts.
func ReceivablePath(provider uuid.UUID) string {
	return "provider:" + provider.String() + ":receivable"
}

func receivableSpec(provider uuid.UUID) ledger.AccountSpec {
	return ledger.AccountSpec{Path: ReceivablePath(provider), Kind: ledger.Asset}
}

// treasury accounts a payout leaves from.
var treasury = map[string]ledger.AccountSpec{
	PayoutStripe: {Path: "platform:stripe", Kind: ledger.Asset},
	PayoutSEPA:   {Path: "platform:bank", Kind: ledger.Asset},
}

// payoutColumns are a payout's, of the table aliased o.
const payoutColumns = `o.id, o.provider_id, o.amount_cents, o.method, o.status, o.hold_id, o.capture_tx_id, o.stripe_account_id,
	o.stripe_transfer_id, o.attempts, o.last_error, o.created_at, o.resolved_at, o.batch_id, o.end_to_end_id, o.creditor_name,
	o.creditor_iban, o.return_reason, o.reversed_cents`

// RequestPayout pays the provider's staff member's provider what it is
// owed now, when that is at least the minimum: by Stripe transfer when its
// Stripe account can receive transfers, else by SEPA credit transfer.
//
// Errors: forbidden, invalid (below the minimum; details available,
// minimum), conflict (a payout is already on its way).
func (s *Service) RequestPayout(ctx context.Context, p *auth.Principal) (Payout, error) {
	prov, err := providerOf(p)
	if err != nil {
		return Payout{}, err
	}
	var out Payout
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		out, err = s.createPayout(ctx, tx, prov, &p.UserID)
		return err
	})
	return out, err
}

// SchedulePayouts creates the periodic payouts: for every provider owed at
// least the minimum whose last payout is older than PayoutEvery. It
// returns how many it created.
func (s *Service) SchedulePayouts(ctx context.Context) (int, error) {
	var due []uuid.UUID
	if err := s.db.SelectContext(ctx, &due, `SELECT p.organisation_id FROM providers p
		JOIN ledger_accounts a ON a.path = 'provider:' || p.organisation_id || ':payable'
		JOIN ledger_balances b ON b.account_id = a.id
		WHERE b.posted - b.pending_out >= $1
		  AND NOT EXISTS (SELECT 1 FROM provider_payouts o WHERE o.provider_id = p.organisation_id
		                  AND (o.status = 'queued' OR o.created_at > $2))
		ORDER BY p.organisation_id`, s.cfg.MinPayoutCents, s.cfg.Now().Add(-s.cfg.PayoutEvery)); err != nil {
		return 0, err
	}
	n := 0
	for _, prov := range due {
		err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
			_, err := s.createPayout(ctx, tx, prov, nil)
			return err
		})
		switch {
		case err == nil:
			n++
		case apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid):
			// another worker or the provider got there first, or the money went
		default:
			return n, err
		}
	}
	return n, nil
}

func (s *Service) createPayout(ctx context.Context, tx *sqlx.Tx, prov uuid.UUID, by *uuid.UUID) (Payout, error) {
	var pr struct {
		Account   *string `db:"stripe_account_id"`
		Transfers bool    `db:"stripe_payouts_enabled"`
	}
	// The provider's row lock serialises payouts of one provider.
	if err := tx.GetContext(ctx, &pr, `SELECT stripe_account_id, stripe_payouts_enabled FROM providers
		WHERE organisation_id = $1 FOR UPDATE`, prov); err != nil {
		return Payout{}, db.MapError(err, "provider")
	}
	var open bool
	if err := tx.GetContext(ctx, &open, `SELECT EXISTS (SELECT 1 FROM provider_payouts WHERE provider_id = $1 AND status = 'queued')`, prov); err != nil {
		return Payout{}, err
	}
	if open {
		return Payout{}, apperr.New(apperr.Conflict, "a payout is already on its way").With("reason", "payout_open")
	}
	available, err := s.settleReceivable(ctx, tx, prov)
	if err != nil {
		return Payout{}, err
	}
	if available < s.cfg.MinPayoutCents {
		return Payout{}, apperr.New(apperr.Invalid, "payouts start from %s; %s is owed now", euro(s.cfg.MinPayoutCents), euro(available)).
			With("reason", "below_minimum").With("available", available).With("minimum", s.cfg.MinPayoutCents)
	}
	method := PayoutSEPA
	if pr.Account != nil && pr.Transfers {
		method = PayoutStripe
	} else {
		pr.Account = nil
	}
	if _, err := ledger.CreateAccount(ctx, tx, treasury[method]); err != nil {
		return Payout{}, err
	}
	po := Payout{ID: uuid.New(), ProviderID: prov, AmountCents: available, Method: method, Status: PayoutQueued, StripeAccountID: pr.Account}
	hold, err := ledger.Hold(ctx, tx, ledger.HoldRequest{ExpiresAt: s.cfg.Now().AddDate(0, 3, 0), Request: ledger.Request{
		Key: "payout:" + po.ID.String() + ":hold", Kind: "payout", Reference: "payout:" + po.ID.String(),
		Postings: []ledger.Posting{{From: PayablePath(prov), To: treasury[method].Path, Amount: available}}}})
	if err != nil {
		return Payout{}, err
	}
	po.HoldID = hold.TxID
	if err := tx.GetContext(ctx, &po.CreatedAt, `INSERT INTO provider_payouts (id, provider_id, amount_cents, method, hold_id,
			stripe_account_id, requested_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at`,
		po.ID, prov, available, method, po.HoldID, pr.Account, by); err != nil {
		return Payout{}, db.MapError(err, "payout")
	}
	_, err = tx.ExecContext(ctx, `UPDATE vouchers SET payout_id = $2 WHERE provider_id = $1 AND payout_id IS NULL
		AND capture_tx_id IS NOT NULL`, prov, po.ID)
	return po, err
}

// settleReceivable first takes back, from what the provider is owed, what
// it owes for refunds of vouchers it was already paid for, and returns
// what is left to pay out.
func (s *Service) settleReceivable(ctx context.Context, tx *sqlx.Tx, prov uuid.UUID) (int64, error) {
	pay, err := ledger.GetBalance(ctx, tx, PayablePath(prov))
	if apperr.Is(err, apperr.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	owed, err := ledger.GetBalance(ctx, tx, ReceivablePath(prov))
	if apperr.Is(err, apperr.NotFound) || err == nil && owed.Posted <= 0 {
		return pay.Available, nil
	}
	if err != nil {
		return 0, err
	}
	settle := min(owed.Posted, pay.Available)
	if settle <= 0 {
		return pay.Available, nil
	}
	if _, err := ledger.Post(ctx, tx, ledger.Request{Key: fmt.Sprintf("receivable:%s:settle:%d", prov, owed.Posted),
		Kind: "receivable_settled", Postings: []ledger.Posting{{From: PayablePath(prov), To: ReceivablePath(prov), Amount: settle}}}); err != nil {
		return 0, err
	}
	if err := settleAdvances(ctx, tx, prov, settle); err != nil {
		return 0, err
	}
	return pay.Available - settle, nil
}

// advanceRefund makes sure the provider's payable can give back part of a
// refund: what it no longer holds (it was paid out) is advanced from the
// provider's receivable, which its next payouts settle.
func (s *Service) advanceRefund(ctx context.Context, tx *sqlx.Tx, prov uuid.UUID, part int64, tag string) error {
	pay, err := ledger.GetBalance(ctx, tx, PayablePath(prov))
	if err != nil {
		return err
	}
	short := part - pay.Available
	if short <= 0 {
		return nil
	}
	if _, err := ledger.CreateAccount(ctx, tx, receivableSpec(prov)); err != nil {
		return err
	}
	if _, err = ledger.Post(ctx, tx, ledger.Request{Key: tag + ":advance", Kind: "refund_advance",
		Postings: []ledger.Posting{{From: ReceivablePath(prov), To: PayablePath(prov), Amount: short}}}); err != nil {
		return err
	}
	return recordAdvance(ctx, tx, prov, tag, short)
}

// PayPending makes the Stripe transfers of up to limit due payouts. Each
// is claimed for a lease (so a worker that dies mid-payout leaves it to
// another after the lease), transferred with the payout's id as Stripe's
// idempotency key (so the retry is the same transfer), then captured (the
// money leaves the payable for platform:stripe) or, on a permanent
// refusal, voided. Stripe down: the payout stays queued and is retried
// with backoff; the ledger never shows money paid that Stripe did not take.
func (s *Service) PayPending(ctx context.Context, limit int) (int, error) {
	if s.cfg.Transfers == nil {
		return 0, nil
	}
	n := 0
	var errs []error
	for n < limit {
		po, ok, err := s.claimPayout(ctx)
		if err != nil || !ok {
			return n, errors.Join(append(errs, err)...)
		}
		if err := s.transfer(ctx, po); err != nil {
			errs = append(errs, fmt.Errorf("payout %s: %w", po.ID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// payoutLease is how long a claimed payout is left to its worker.
const payoutLease = 2 * time.Minute

func (s *Service) claimPayout(ctx context.Context) (Payout, bool, error) {
	var po Payout
	err := sqlx.GetContext(ctx, s.db, &po, `UPDATE provider_payouts o SET attempts = attempts + 1,
			next_attempt_at = now() + $1 * interval '1 second'
		WHERE id = (SELECT id FROM provider_payouts WHERE status = 'queued' AND method = 'stripe' AND next_attempt_at <= now()
		            ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+payoutColumns, payoutLease.Seconds())
	if errors.Is(err, sql.ErrNoRows) {
		return po, false, nil
	}
	return po, err == nil, err
}

func (s *Service) transfer(ctx context.Context, po Payout) error {
	key := "payout-" + po.ID.String()
	var id string
	var available int64 = ledger.MaxAmount
	var err error
	if !s.cfg.SkipBalanceCheck {
		available, err = s.cfg.Transfers.Available(ctx)
	}
	if err == nil && available < po.AmountCents {
		err = fmt.Errorf("the platform's Stripe balance (%s) does not cover the transfer (%s): move money from the bank first",
			euro(available), euro(po.AmountCents))
	}
	if err == nil {
		id, err = s.cfg.Transfers.Transfer(ctx, key, *po.StripeAccountID, po.AmountCents, "Reciproca payout "+po.ID.String())
	}
	var perm permanent
	switch {
	case errors.As(err, &perm) && perm.Permanent():
		refusal := err.Error()
		return db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
			if err := ledger.Void(ctx, tx, po.HoldID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE provider_payouts SET status = 'failed', resolved_at = now(), last_error = $2
				WHERE id = $1 AND status = 'queued'`, po.ID, refusal)
			return err
		})
	case err != nil:
		backoff := min(time.Duration(1<<min(po.Attempts, 12))*time.Second, time.Hour)
		_, uerr := s.db.ExecContext(ctx, `UPDATE provider_payouts SET last_error = $2, next_attempt_at = now() + $3 * interval '1 second'
			WHERE id = $1 AND status = 'queued'`, po.ID, err.Error(), backoff.Seconds())
		return errors.Join(err, uerr)
	}
	return db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		return capturePayout(ctx, tx, po, map[string]any{"stripe_transfer": id})
	})
}

// DuePayouts counts the Stripe payouts waiting for the worker.
func (s *Service) DuePayouts(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM provider_payouts WHERE status = 'queued' AND method = 'stripe'
		AND next_attempt_at <= now()`)
	return n, err
}

// Payouts lists the provider's payouts, newest first.
func (s *Service) Payouts(ctx context.Context, p *auth.Principal) ([]Payout, error) {
	prov, err := providerOf(p)
	if err != nil {
		return nil, err
	}
	out := []Payout{}
	err = s.db.SelectContext(ctx, &out, `SELECT `+payoutColumns+` FROM provider_payouts o WHERE provider_id = $1
		ORDER BY created_at DESC LIMIT 200`, prov)
	return out, err
}

// Statement is what a payout paid: the vouchers in it with their split.
type Statement struct {
	Payout   Payout
	Vouchers []Voucher
	// Totals over the vouchers: gross, fund share, pledge, fee, refunded,
	// and net (provider part − pledge − refunds of it).
	Gross, Fund, Pledge, Fee, Refunded, Net int64
}

// PayoutStatement returns a payout of the caller's provider with its
// vouchers. Errors: forbidden, not_found.
func (s *Service) PayoutStatement(ctx context.Context, p *auth.Principal, id uuid.UUID) (Statement, error) {
	prov, err := providerOf(p)
	if err != nil {
		return Statement{}, err
	}
	var st Statement
	if err := s.db.GetContext(ctx, &st.Payout, `SELECT `+payoutColumns+` FROM provider_payouts o WHERE id = $1 AND provider_id = $2`,
		id, prov); err != nil {
		return Statement{}, db.MapError(err, "payout")
	}
	if err := s.db.SelectContext(ctx, &st.Vouchers, `SELECT `+voucherColumns+voucherFrom+` WHERE v.payout_id = $1
		ORDER BY v.resolved_at`, id); err != nil {
		return Statement{}, err
	}
	for _, v := range st.Vouchers {
		st.Gross += v.AmountCents
		st.Fund += deref(v.FundCents)
		st.Fee += deref(v.FeeCents)
		st.Pledge += v.PledgeCents
		st.Refunded += v.RefundedCents
		st.Net += deref(v.ProviderCents) - v.PledgeCents
	}
	return st, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Owed is what the caller's provider would be paid now: its payable less
// what it owes back for refunds. Errors: forbidden.
func (s *Service) Owed(ctx context.Context, p *auth.Principal) (int64, error) {
	prov, err := providerOf(p)
	if err != nil {
		return 0, err
	}
	var owed int64
	err = s.db.GetContext(ctx, &owed, `SELECT coalesce((SELECT sum(b.posted - b.pending_out) FROM ledger_balances b
			JOIN ledger_accounts a ON a.id = b.account_id WHERE a.path = $1), 0)
		- greatest(coalesce((SELECT sum(b.posted) FROM ledger_balances b
			JOIN ledger_accounts a ON a.id = b.account_id WHERE a.path = $2), 0), 0)`, PayablePath(prov), ReceivablePath(prov))
	return max(owed, 0), err
}
