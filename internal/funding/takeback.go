package funding

import (
	"context"
	"encoding/json"

	"github.com/jmoiron/sqlx"
	stripe "github.com/stripe/stripe-go/v76"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// takeBack books money Stripe took back from a paid top-up (a refund, a
// withdrawn dispute): out of the company's unallocated budget as far as it
// goes, and the rest to the company's receivable, which opens an item a
// platform admin resolves. Either way platform:stripe falls by the whole
// amount, as Stripe's balance did, and no budget goes negative. It returns
// the part the budget could not cover.
func (s *Service) takeBack(ctx context.Context, tx *sqlx.Tx, t TopUp, amount int64, cause, key string) (int64, error) {
	if err := EnsureAccounts(ctx, tx, t.CompanyID); err != nil {
		return 0, err
	}
	bal, err := ledger.GetBalance(ctx, tx, BudgetAccount(t.CompanyID))
	if err != nil {
		return 0, err
	}
	fromBudget := min(amount, max(bal.Available, 0))
	short := amount - fromBudget
	var postings []ledger.Posting
	if fromBudget > 0 {
		postings = append(postings, ledger.Posting{From: BudgetAccount(t.CompanyID), To: StripeAccount, Amount: fromBudget})
	}
	if short > 0 {
		postings = append(postings, ledger.Posting{From: ReceivableAccount(t.CompanyID), To: StripeAccount, Amount: short})
	}
	// A concurrent allocation may spend the budget between the read and
	// this write: the floor refuses it (insufficient_funds), the inbox
	// rolls the event back and retries it, and the next read sees less.
	if _, err := ledger.Post(ctx, tx, ledger.Request{Key: key, Kind: "topup." + cause, Reference: t.ID.String(),
		Postings: postings}); err != nil {
		if apperr.Is(err, apperr.InsufficientFunds) {
			return 0, apperr.Wrap(err, "the budget changed while taking back a %s", cause)
		}
		return 0, err
	}
	if short > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO funding_open_items (company_id, topup_id, cause, amount) VALUES ($1, $2, $3, $4)`,
			t.CompanyID, t.ID, cause, short); err != nil {
			return 0, err
		}
	}
	return short, nil
}

// onDispute applies a dispute's money events to its top-up: funds
// withdrawn (taken back like a refund, plus Stripe's dispute fee), funds
// reinstated (given back where they were taken from) and closed (the
// outcome). Reinstated before withdrawn waits for withdrawn.
func (s *Service) onDispute(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
	var d stripe.Dispute
	if e.Data == nil || json.Unmarshal(e.Data.Raw, &d) != nil {
		return refuse("%s without a dispute", e.Type)
	}
	t, err := s.lockCharge(ctx, tx, e, d.Metadata["topup_id"], d.PaymentIntent)
	if err != nil {
		return err
	}
	if t.Status != Paid {
		return errNotYet
	}
	switch e.Type {
	case stripe.EventTypeChargeDisputeClosed:
		_, err := tx.ExecContext(ctx, `UPDATE funding_topups SET dispute_outcome = $2, updated_at = now()
			WHERE id = $1 AND dispute_outcome IS NULL`, t.ID, string(d.Status))
		return err
	case stripe.EventTypeChargeDisputeFundsWithdrawn:
		if t.DisputeState != "none" {
			return nil
		}
		if d.Amount <= 0 || d.Amount > t.Amount-t.Refunded {
			return refuse("dispute %s withdraws %d of a %d top-up", d.ID, d.Amount, t.Amount)
		}
		if _, err := s.takeBack(ctx, tx, t, d.Amount, "dispute", "topup:"+t.ID.String()+":dispute-withdrawn"); err != nil {
			return err
		}
		if err := s.bookFee(ctx, tx, t, disputeFee(d), "topup:"+t.ID.String()+":dispute-fee"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE funding_topups SET dispute_state = 'withdrawn', dispute_amount = $2, updated_at = now()
			WHERE id = $1`, t.ID, d.Amount)
		return err
	case stripe.EventTypeChargeDisputeFundsReinstated:
		switch t.DisputeState {
		case "none":
			return errNotYet
		case "reinstated":
			return nil
		}
		if err := s.reinstate(ctx, tx, t); err != nil {
			return err
		}
		return s.bookFee(ctx, tx, t, disputeFee(d), "topup:"+t.ID.String()+":dispute-fee-reinstated")
	}
	return nil
}

// reinstate gives back what a withdrawn dispute took: the part still
// owed as an open item settles that item, the rest returns to the budget.
func (s *Service) reinstate(ctx context.Context, tx *sqlx.Tx, t TopUp) error {
	var owed int64
	err := tx.GetContext(ctx, &owed, `WITH r AS (
			UPDATE funding_open_items SET status = 'resolved', resolution = 'reinstated', resolved_at = now(),
				note = 'Stripe reinstated the disputed funds'
			WHERE topup_id = $1 AND cause = 'dispute' AND status = 'open' RETURNING amount)
		SELECT coalesce(sum(amount), 0) FROM r`, t.ID)
	if err != nil {
		return err
	}
	var postings []ledger.Posting
	if back := t.DisputeAmount - owed; back > 0 {
		postings = append(postings, ledger.Posting{From: StripeAccount, To: BudgetAccount(t.CompanyID), Amount: back})
	}
	if owed > 0 {
		postings = append(postings, ledger.Posting{From: StripeAccount, To: ReceivableAccount(t.CompanyID), Amount: owed})
	}
	if _, err := ledger.Post(ctx, tx, ledger.Request{Key: "topup:" + t.ID.String() + ":dispute-reinstated", Kind: "topup.dispute",
		Reference: t.ID.String(), Postings: postings}); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE funding_topups SET dispute_state = 'reinstated', updated_at = now() WHERE id = $1`, t.ID)
	return err
}

// disputeFee is what Stripe charged (or, negative, gave back) for a
// dispute, from the balance transactions the dispute event carries.
func disputeFee(d stripe.Dispute) int64 {
	var fee int64
	for _, bt := range d.BalanceTransactions {
		if bt != nil {
			fee += bt.Fee
		}
	}
	return fee
}

// bookFee books a Stripe fee as the platform's expense (a negative fee,
// one Stripe returned, the other way). Nothing for a zero fee.
func (s *Service) bookFee(ctx context.Context, ext sqlx.ExtContext, t TopUp, fee int64, key string) error {
	p := ledger.Posting{From: StripeFeesAccount, To: StripeAccount, Amount: fee}
	if fee < 0 {
		p = ledger.Posting{From: StripeAccount, To: StripeFeesAccount, Amount: -fee}
	}
	if fee == 0 {
		return nil
	}
	_, err := ledger.Post(ctx, ext, ledger.Request{Key: key, Kind: "stripe.fee", Reference: t.ID.String(), Postings: []ledger.Posting{p}})
	return err
}

// BookStripeFees reads Stripe's fee for paid card top-ups whose fee is not
// booked yet, from the payment's balance transaction, and books it (the
// background job "funding.stripe_fees"). Stripe is called outside any
// transaction; the booking and the fee on the top-up commit together,
// under a key made from the top-up id, so two workers book it once.
func (s *Service) BookStripeFees(ctx context.Context, limit int) (int, error) {
	var due []TopUp
	if err := s.db.SelectContext(ctx, &due, `SELECT `+topupCols+topupFrom+`
		WHERE t.channel = 'card' AND t.status = 'paid' AND t.fee IS NULL AND t.payment_intent IS NOT NULL
		ORDER BY t.paid_at LIMIT $1`, limit); err != nil {
		return 0, err
	}
	done := 0
	var firstErr error
	for _, t := range due {
		fee, _, err := s.stripe.PaymentFee(ctx, *t.PaymentIntent)
		if err == nil {
			err = s.recordFee(ctx, t, fee)
		}
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		done++
	}
	return done, firstErr
}

func (s *Service) recordFee(ctx context.Context, t TopUp, fee int64) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	res, err := tx.ExecContext(ctx, `UPDATE funding_topups SET fee = $2, updated_at = now() WHERE id = $1 AND fee IS NULL`, t.ID, fee)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := s.bookFee(ctx, tx, t, fee, "topup:"+t.ID.String()+":fee"); err != nil {
		return err
	}
	return tx.Commit()
}

// FeesDue counts paid card top-ups whose fee is not booked yet (the job's backlog).
func (s *Service) FeesDue(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM funding_topups
		WHERE channel = 'card' AND status = 'paid' AND fee IS NULL AND payment_intent IS NOT NULL`)
	return n, err
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
