package funding

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// rome is the time zone value dates and the ledger's tax year are read in.
var rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}

// maxBackdate is how far back the ledger lets a movement count.
const maxBackdate = 7 * 24 * time.Hour

// BankReceipt is money the bank received for a top-up, as a platform
// admin recorded it.
type BankReceipt struct {
	ID          uuid.UUID  `json:"id" db:"id"`
	TopUpID     uuid.UUID  `json:"topup_id" db:"topup_id"`
	Reference   string     `json:"reference" db:"reference"`
	CompanyID   uuid.UUID  `json:"company_id" db:"company_id"`
	Company     string     `json:"company" db:"company"`
	Amount      int64      `json:"amount" db:"amount"`
	CRO         string     `json:"cro" db:"cro"`
	ValueDate   time.Time  `json:"value_date" db:"value_date"`
	Status      string     `json:"status" db:"status"`
	RecordedBy  uuid.UUID  `json:"recorded_by" db:"recorded_by"`
	RecordedAt  time.Time  `json:"recorded_at" db:"recorded_at"`
	ConfirmedBy *uuid.UUID `json:"confirmed_by" db:"confirmed_by"`
	ConfirmedAt *time.Time `json:"confirmed_at" db:"confirmed_at"`
}

const receiptCols = `r.id, r.topup_id, t.reference, t.company_id, o.name AS company, r.amount, r.cro, r.value_date, r.status,
	r.recorded_by, r.recorded_at, r.confirmed_by, r.confirmed_at
	FROM funding_bank_receipts r JOIN funding_topups t ON t.id = r.topup_id JOIN organisations o ON o.id = t.company_id`

// BankReceiptInput is what a platform admin reads off the bank statement.
type BankReceiptInput struct {
	Reference string    `json:"reference"`
	Amount    int64     `json:"amount"`
	CRO       string    `json:"cro"`
	ValueDate time.Time `json:"value_date"`
}

// RecordBankReceipt records an amount the bank received against a top-up's
// RF reference. At or below the confirmation threshold it credits the
// budget at once (platform:bank → company budget, effective on the value
// date); above it, it waits for a second platform admin. The same CRO is
// never recorded twice: recording the very same receipt again returns it,
// anything else with its CRO is a conflict.
//
// Errors: forbidden, invalid (fields reference, amount_cents, cro,
// value_date), conflict (field cro).
func (s *Service) RecordBankReceipt(ctx context.Context, p *auth.Principal, in BankReceiptInput) (BankReceipt, error) {
	if err := platformAdmin(p); err != nil {
		return BankReceipt{}, err
	}
	in.Reference, in.CRO = NormaliseReference(in.Reference), NormaliseReference(in.CRO)
	if err := checkReceipt(in, time.Now()); err != nil {
		return BankReceipt{}, err
	}
	var t TopUp
	if err := s.db.GetContext(ctx, &t, `SELECT `+topupCols+topupFrom+`WHERE t.reference = $1 AND t.channel = 'bank'`, in.Reference); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return BankReceipt{}, invalidField("reference", "no bank top-up has the reference %s", in.Reference)
		}
		return BankReceipt{}, apperr.Wrap(err, "finding the top-up")
	}
	id := uuid.New()
	status := "credited"
	if in.Amount > s.settings.ConfirmAbove {
		status = "awaiting_confirmation"
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO funding_bank_receipts (id, topup_id, amount, cro, value_date, status, recorded_by, ledger_tx)
			VALUES ($1, $2, $3, $4, $5, 'awaiting_confirmation', $6, NULL)`, id, t.ID, in.Amount, in.CRO, in.ValueDate, p.UserID)
		if err != nil {
			return err
		}
		if status == "credited" {
			return s.creditReceipt(ctx, tx, id, nil)
		}
		return nil
	})
	if db.IsUniqueViolation(err, "funding_bank_receipts_cro_key") {
		prev, perr := s.receiptBy(ctx, `r.cro = $1`, in.CRO)
		if perr == nil && prev.TopUpID == t.ID && prev.Amount == in.Amount && prev.ValueDate.Format(time.DateOnly) == in.ValueDate.Format(time.DateOnly) {
			return prev, nil
		}
		return BankReceipt{}, apperr.New(apperr.Conflict, "the bank transaction %s is already recorded", in.CRO).With("field", "cro")
	}
	if err != nil {
		return BankReceipt{}, err
	}
	return s.receiptBy(ctx, `r.id = $1`, id)
}

// checkReceipt validates a receipt's fields, with the value date judged
// in Italian time (checkValueDate).
func checkReceipt(in BankReceiptInput, now time.Time) error {
	return apperr.AllInvalid(
		problem(!ValidReference(in.Reference), "reference", "%q is not an RF creditor reference with valid check digits", in.Reference),
		problem(in.Amount <= 0 || in.Amount > ledger.MaxAmount, "amount_cents", "the amount must be more than zero"),
		problem(in.CRO == "" || len(in.CRO) > 64, "cro", "the bank's transaction reference (CRO/TRN) is required, at most 64 characters"),
		checkValueDate(in.ValueDate, now))
}

// dateIn is the calendar day of t in Italy, as midnight UTC of that day.
func dateIn(t time.Time) time.Time {
	y, m, d := t.In(rome).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// effectiveAt is when a receipt counts in the ledger: the end of its value
// date in Italy, but never in the future, never further back than the
// ledger allows, and never in the previous tax year (a late confirmation
// counts as late as it must).
func effectiveAt(valueDate, now time.Time) *time.Time {
	y, m, d := valueDate.Date()
	at := time.Date(y, m, d, 23, 59, 59, 0, rome)
	if !at.Before(now) {
		return nil
	}
	floor := now.Add(-maxBackdate + time.Hour)
	if yearStart := time.Date(now.In(rome).Year(), 1, 1, 0, 0, 0, 0, rome); floor.Before(yearStart) {
		floor = yearStart
	}
	if at.Before(floor) {
		at = floor
	}
	return &at
}

// creditReceipt credits one receipt's amount to its company's budget and
// marks it credited (by confirmedBy, when a second admin confirmed it).
func (s *Service) creditReceipt(ctx context.Context, tx *sqlx.Tx, id uuid.UUID, confirmedBy *uuid.UUID) error {
	var r struct {
		TopUp     uuid.UUID `db:"topup_id"`
		Company   uuid.UUID `db:"company_id"`
		Amount    int64     `db:"amount"`
		CRO       string    `db:"cro"`
		ValueDate time.Time `db:"value_date"`
	}
	if err := tx.GetContext(ctx, &r, `SELECT r.topup_id, t.company_id, r.amount, r.cro, r.value_date
		FROM funding_bank_receipts r JOIN funding_topups t ON t.id = r.topup_id WHERE r.id = $1`, id); err != nil {
		return err
	}
	if err := EnsureAccounts(ctx, tx, r.Company); err != nil {
		return err
	}
	res, err := ledger.Post(ctx, tx, ledger.Request{Key: "bank-receipt:" + id.String(), Kind: "topup", Reference: r.TopUp.String(),
		EffectiveAt: effectiveAt(r.ValueDate, time.Now()),
		Metadata:    map[string]any{"channel": "bank", "cro": r.CRO, "value_date": r.ValueDate.Format(time.DateOnly)},
		Postings:    []ledger.Posting{{From: BankAccount, To: BudgetAccount(r.Company), Amount: r.Amount}}})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE funding_bank_receipts SET status = 'credited', ledger_tx = $2,
			confirmed_by = $3, confirmed_at = CASE WHEN $3::uuid IS NULL THEN NULL ELSE now() END WHERE id = $1`,
		id, res.TxID, confirmedBy); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE funding_topups SET credited = credited + $2, paid_at = coalesce(paid_at, now()),
		updated_at = now() WHERE id = $1`, r.TopUp, r.Amount)
	return err
}

// ConfirmBankReceipt is the second platform admin's confirmation of a
// receipt above the threshold: only then is it credited. Confirming a
// credited receipt again returns it.
//
// Errors: forbidden (not a platform admin, or the admin who recorded it),
// not_found.
func (s *Service) ConfirmBankReceipt(ctx context.Context, p *auth.Principal, id uuid.UUID) (BankReceipt, error) {
	if err := platformAdmin(p); err != nil {
		return BankReceipt{}, err
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var r struct {
			Status     string    `db:"status"`
			RecordedBy uuid.UUID `db:"recorded_by"`
		}
		if err := tx.GetContext(ctx, &r, `SELECT status, recorded_by FROM funding_bank_receipts WHERE id = $1 FOR UPDATE`, id); err != nil {
			return db.MapError(err, "bank receipt")
		}
		switch {
		case r.Status == "credited":
			return nil
		case r.RecordedBy == p.UserID:
			return apperr.New(apperr.Forbidden, "a second platform administrator must confirm what you recorded")
		}
		return s.creditReceipt(ctx, tx, id, &p.UserID)
	})
	if err != nil {
		return BankReceipt{}, err
	}
	return s.receiptBy(ctx, `r.id = $1`, id)
}

// BankReceipts lists the receipts of one top-up, or (uuid.Nil) every
// receipt awaiting confirmation; company admins see their own top-ups'.
func (s *Service) BankReceipts(ctx context.Context, p *auth.Principal, topup uuid.UUID) ([]BankReceipt, error) {
	if topup != uuid.Nil {
		if _, err := s.TopUp(ctx, p, topup); err != nil {
			return nil, err
		}
	} else if err := platformAdmin(p); err != nil {
		return nil, err
	}
	out := []BankReceipt{}
	err := s.db.SelectContext(ctx, &out, `SELECT `+receiptCols+`
		WHERE ($1 = '00000000-0000-0000-0000-000000000000'::uuid AND r.status = 'awaiting_confirmation') OR r.topup_id = $1
		ORDER BY r.recorded_at`, topup)
	return out, apperr.Wrap(err, "listing bank receipts")
}

func (s *Service) receiptBy(ctx context.Context, where string, arg any) (BankReceipt, error) {
	var r BankReceipt
	err := s.db.GetContext(ctx, &r, `SELECT `+receiptCols+` WHERE `+where, arg)
	return r, db.MapError(err, "bank receipt")
}
