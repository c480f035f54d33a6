package fund

import (
	"context"
	"strconv"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// BankAccount is where the fund's money leaves the platform when a
// payment batch is executed: the platform's bank account, which holds
// the fund's money under its mandate (docs/ledger.md, "Treasury").
const BankAccount = "platform:bank"

// Attribution is whose money paid for a disbursement: a contributor
// lot's company and source, and the amount taken from it (negative when
// a returned payment gave it back).
type Attribution struct {
	PaymentTx int64  `json:"transaction_id" db:"payment_tx"`
	LotID     int64  `json:"lot_id" db:"lot_id"`
	CompanyID string `json:"company_id" db:"company_id"`
	Source    string `json:"source" db:"source"`
	Amount    int64  `json:"amount" db:"amount"`
}

// recordLots stores which contributor lots the ledger transaction tx
// consumed (or gave back) for intervention id, read from the ledger's
// lot moves: their sum is what the transaction moved out of (or back
// into) the commitment.
func recordLots(ctx context.Context, tx *sqlx.Tx, id uuid.UUID, txID int64) error {
	moves, err := ledger.LotMoves(ctx, tx, txID)
	if err != nil {
		return err
	}
	for _, m := range moves {
		company, _ := m.Lot.Attrs["company"].(string)
		source, _ := m.Lot.Attrs["source"].(string)
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_disbursement_lots (payment_tx, intervention_id, lot_id, company_id, source, amount)
			VALUES ($1, $2, $3, $4, $5, $6)`, txID, id, m.LotID, company, source, m.Amount); err != nil {
			return apperr.Wrap(err, "recording attribution")
		}
	}
	return nil
}

// Attributions lists whose money paid for intervention id (fund managers
// and approvers). Errors: forbidden.
func (s *Service) Attributions(ctx context.Context, p *auth.Principal, id uuid.UUID) ([]Attribution, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover)
	if err != nil {
		return nil, err
	}
	out := []Attribution{}
	err = sqlx.SelectContext(ctx, s.db, &out, `SELECT d.payment_tx, d.lot_id, d.company_id, d.source, d.amount
		FROM fund_disbursement_lots d JOIN fund_interventions i ON i.id = d.intervention_id
		WHERE d.intervention_id = $1 AND i.fund_id = $2 ORDER BY d.payment_tx, d.lot_id`, id, fund)
	return out, apperr.Wrap(err, "reading attribution")
}

// ConfirmDelivery pays an approved intervention whose payee is a
// marketplace provider, once a case worker of the case confirms the
// service was delivered: the commitment moves to the provider's payable,
// with no split (the fund does not pay itself a share, nor the fee).
// Errors: forbidden, not_found, conflict (not approved, or a bank
// payee), plus changeCase's.
func (s *Service) ConfirmDelivery(ctx context.Context, r Reader, id uuid.UUID) (Intervention, error) {
	fund, err := staff(r.P, auth.RoleCaseWorker)
	if err != nil {
		return Intervention{}, err
	}
	var caseID uuid.UUID
	if err := s.db.GetContext(ctx, &caseID, `SELECT case_id FROM fund_interventions WHERE id = $1 AND fund_id = $2`, id, fund); err != nil {
		return Intervention{}, db.MapError(err, "intervention")
	}
	err = s.changeCase(ctx, r, caseID, "service_delivered", map[string]any{"intervention": id}, func(tx *sqlx.Tx) error {
		var in struct {
			Status   string     `db:"status"`
			Amount   int64      `db:"amount"`
			Provider *uuid.UUID `db:"provider_id"`
		}
		if err := tx.GetContext(ctx, &in, `SELECT status, amount, provider_id FROM fund_interventions WHERE id = $1 FOR UPDATE`, id); err != nil {
			return db.MapError(err, "intervention")
		}
		if in.Provider == nil {
			return apperr.New(apperr.Conflict, "this intervention is paid to a creditor by bank transfer")
		}
		if in.Status != StatusApproved {
			return apperr.New(apperr.Conflict, "the intervention is %s, not approved", in.Status).With("status", in.Status)
		}
		payable := "provider:" + in.Provider.String() + ":payable"
		if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: &zero}); err != nil {
			return err
		}
		res, err := ledger.Post(ctx, tx, ledger.Request{Key: "fund.deliver:" + id.String(), Kind: "fund.provider_payment", Reference: id.String(),
			Postings: []ledger.Posting{{From: "fund:" + fund.String() + ":committed:" + id.String(), To: payable, Amount: in.Amount}}})
		if err != nil {
			return err
		}
		if err := recordLots(ctx, tx, id, res.TxID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'paid', paid = amount, delivered_by = $2, delivered_at = now(),
			closed_at = now() WHERE id = $1`, id, r.P.UserID)
		return apperr.Wrap(err, "recording delivery")
	})
	if err != nil {
		return Intervention{}, err
	}
	return s.intervention(ctx, s.db, fund, id)
}

// Cancel cancels an intervention not yet paid (fund manager, with a
// reason): a proposal simply ends; an approved one gives its whole
// commitment back to the envelope by reversing the approval, so the
// contributor lots return as they were. An intervention waiting in an
// exported batch must be returned from it first. Errors: forbidden,
// invalid (reason), not_found, conflict.
func (s *Service) Cancel(ctx context.Context, p *auth.Principal, id uuid.UUID, reason string) (Intervention, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Intervention{}, err
	}
	if reason, err = requireReason(reason, 1000, "a cancellation needs a reason (up to 1000 characters)"); err != nil {
		return Intervention{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var in struct {
			Case     uuid.UUID `db:"case_id"`
			Status   string    `db:"status"`
			Amount   int64     `db:"amount"`
			Paid     int64     `db:"paid"`
			Released int64     `db:"released"`
			Approval *int64    `db:"approval_tx"`
			InBatch  bool      `db:"in_batch"`
		}
		if err := tx.GetContext(ctx, &in, `SELECT i.case_id, i.status, i.amount, i.paid, i.released, i.approval_tx,
			EXISTS (SELECT 1 FROM fund_batch_lines l WHERE l.intervention_id = i.id AND l.status = 'pending') AS in_batch
			FROM fund_interventions i WHERE i.id = $1 AND i.fund_id = $2 FOR UPDATE`, id, fund); err != nil {
			return db.MapError(err, "intervention")
		}
		switch {
		case in.Status != StatusProposed && in.Status != StatusApproved:
			return apperr.New(apperr.Conflict, "the intervention is %s: it cannot be cancelled", in.Status).With("status", in.Status)
		case in.InBatch:
			return apperr.New(apperr.Conflict, "the intervention is in a payment batch sent to the bank")
		}
		release := in.Amount - in.Paid - in.Released
		if in.Status == StatusApproved && release > 0 {
			if err := s.release(ctx, tx, fund, id, *in.Approval, release, "fund.cancel:"+id.String()); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'cancelled', released = released + $2, closed_at = now()
			WHERE id = $1`, id, max(0, release)*boolInt(in.Status == StatusApproved)); err != nil {
			return apperr.Wrap(err, "cancelling")
		}
		return caseEvent(ctx, tx, in.Case, p, "intervention_cancelled", map[string]any{"intervention": id, "reason": reason, "released": release})
	})
	if err != nil {
		return Intervention{}, err
	}
	return s.intervention(ctx, s.db, fund, id)
}

// Clawback takes back amount of a paid intervention that the creditor
// returned (fund manager, with a reason): the payment is reversed for
// that amount, giving the commitment its lots back, and the commitment's
// money goes back to the envelope by reversing the approval, so the
// contributor attribution is kept end to end. Errors: forbidden, invalid,
// not_found, conflict (not paid, or more than was paid).
func (s *Service) Clawback(ctx context.Context, p *auth.Principal, id uuid.UUID, amount int64, reason string) (Intervention, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Intervention{}, err
	}
	if reason, err = requireReason(reason, 1000, "a clawback needs a reason (up to 1000 characters)"); err != nil {
		return Intervention{}, err
	}
	if amount <= 0 {
		return Intervention{}, invalidField("amount", "the amount returned must be more than zero")
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var in struct {
			Case     uuid.UUID `db:"case_id"`
			Status   string    `db:"status"`
			Paid     int64     `db:"paid"`
			Approval int64     `db:"approval_tx"`
		}
		if err := tx.GetContext(ctx, &in, `SELECT case_id, status, paid, coalesce(approval_tx, 0) AS approval_tx
			FROM fund_interventions WHERE id = $1 AND fund_id = $2 FOR UPDATE`, id, fund); err != nil {
			return db.MapError(err, "intervention")
		}
		if in.Status != StatusPaid || amount > in.Paid {
			return apperr.New(apperr.Conflict, "only what was paid (%d cents) can be taken back", in.Paid).With("field", "amount")
		}
		var payments []int64
		if err := tx.SelectContext(ctx, &payments, `SELECT payment_tx FROM (
			SELECT payment_tx FROM fund_batch_lines WHERE intervention_id = $1 AND status = 'paid'
			UNION SELECT DISTINCT d.payment_tx FROM fund_disbursement_lots d WHERE d.intervention_id = $1 AND d.amount > 0
			) x ORDER BY payment_tx DESC LIMIT 1`, id); err != nil || len(payments) == 0 {
			return apperr.Wrap(err, "finding the payment")
		}
		committed := "fund:" + fund.String() + ":committed:" + id.String()
		n := clawbackCount(ctx, tx, id)
		rev, err := ledger.Reverse(ctx, tx, ledger.ReverseRequest{Key: "fund.clawback:" + id.String() + ":" + n, TransactionID: payments[0],
			Kind: "fund.clawback", Reference: id.String(), Postings: []ledger.Posting{{From: committed, To: payeeAccount(ctx, tx, payments[0], committed), Amount: amount}}})
		if err != nil {
			return err
		}
		if err := recordLots(ctx, tx, id, rev.TxID); err != nil {
			return err
		}
		if err := s.release(ctx, tx, fund, id, in.Approval, amount, "fund.clawback.release:"+id.String()+":"+n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET paid = paid - $2, released = released + $2 WHERE id = $1`, id, amount); err != nil {
			return apperr.Wrap(err, "recording clawback")
		}
		return caseEvent(ctx, tx, in.Case, p, "intervention_clawback", map[string]any{"intervention": id, "amount": amount, "reason": reason})
	})
	if err != nil {
		return Intervention{}, err
	}
	return s.intervention(ctx, s.db, fund, id)
}

// release gives amount of the commitment back to the envelope by a
// partial reversal of the approval: the envelope's lots come back.
func (s *Service) release(ctx context.Context, tx *sqlx.Tx, fund, id uuid.UUID, approvalTx, amount int64, key string) error {
	orig, err := ledger.GetTransaction(ctx, tx, approvalTx)
	if err != nil {
		return err
	}
	var envelope string
	for _, e := range orig.Entries {
		if e.Delta < 0 {
			envelope = e.Account
		}
	}
	_, err = ledger.Reverse(ctx, tx, ledger.ReverseRequest{Key: key, TransactionID: approvalTx, Kind: "fund.release", Reference: id.String(),
		Postings: []ledger.Posting{{From: envelope, To: "fund:" + fund.String() + ":committed:" + id.String(), Amount: amount}}})
	return err
}

// payeeAccount is the account a payment transaction credited (the bank
// or a provider's payable), other than the commitment.
func payeeAccount(ctx context.Context, tx *sqlx.Tx, txID int64, committed string) string {
	t, err := ledger.GetTransaction(ctx, tx, txID)
	if err != nil {
		return BankAccount
	}
	for _, e := range t.Entries {
		if e.Account != committed {
			return e.Account
		}
	}
	return BankAccount
}

// clawbackCount numbers an intervention's clawbacks, so each has its own
// ledger key.
func clawbackCount(ctx context.Context, tx *sqlx.Tx, id uuid.UUID) string {
	var n int
	_ = tx.GetContext(ctx, &n, `SELECT count(*) FROM fund_case_events WHERE event = 'intervention_clawback' AND details->>'intervention' = $1`, id.String())
	return strconv.Itoa(n + 1)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
