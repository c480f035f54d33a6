package redemption

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/sepa"
)

// Providers without a Stripe account able to receive transfers are paid
// by SEPA credit transfer from platform:bank, the way the inclusion fund
// pays its creditors: a platform admin exports the queued payouts as one
// CBI payment file (they are then "sent"), marks the file executed once
// the bank has paid it (each payout's hold is captured: "paid"), and
// records a transfer the bank rejected or returned ("returned": the hold
// is voided, or the capture reversed, so the money is owed on the
// payable again and the next payout carries it).

// Debtor is the platform's own bank account that SEPA payouts leave from.
type Debtor struct {
	CUC    string // the platform's CBI company code
	Holder string
	IBAN   string
}

// BankAccount is the account a provider without Stripe is paid to.
type BankAccount struct {
	Holder    string    `json:"holder" db:"holder"`
	IBAN      string    `json:"iban" db:"iban"`
	UpdatedAt time.Time `json:"updated_at" db:"updated_at"`
}

// BankAccount is the caller's provider's payout account, nil when none
// was given. Errors: forbidden.
func (s *Service) BankAccount(ctx context.Context, p *auth.Principal) (*BankAccount, error) {
	prov, err := providerOf(p)
	if err != nil {
		return nil, err
	}
	var a BankAccount
	err = s.db.GetContext(ctx, &a, `SELECT holder, iban, updated_at FROM provider_bank_accounts WHERE provider_id = $1`, prov)
	if apperr.Is(db.MapError(err, "bank account"), apperr.NotFound) {
		return nil, nil
	}
	return &a, db.MapError(err, "bank account")
}

// SetBankAccount records the account the caller's provider is paid to by
// SEPA transfer. Payouts already in a file keep the account they were
// sent to. Errors: forbidden, invalid (holder, iban).
func (s *Service) SetBankAccount(ctx context.Context, p *auth.Principal, holder, iban string) (BankAccount, error) {
	prov, err := providerOf(p)
	if err != nil {
		return BankAccount{}, err
	}
	holder, iban = strings.TrimSpace(holder), sepa.NormaliseIBAN(iban)
	switch {
	case sepa.Latin(holder) == "" || len([]rune(holder)) > 70:
		return BankAccount{}, apperr.New(apperr.Invalid, "give the account holder's name, as the bank knows it (up to 70 characters)").
			With("field", "holder")
	case !sepa.ValidIBAN(iban):
		return BankAccount{}, apperr.New(apperr.Invalid, "%q is not the IBAN of a SEPA country with valid check digits", iban).
			With("field", "iban")
	}
	var a BankAccount
	err = s.db.GetContext(ctx, &a, `INSERT INTO provider_bank_accounts (provider_id, holder, iban, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (provider_id) DO UPDATE SET holder = EXCLUDED.holder, iban = EXCLUDED.iban, updated_by = EXCLUDED.updated_by,
			updated_at = now()
		RETURNING holder, iban, updated_at`, prov, holder, iban, p.UserID)
	return a, db.MapError(err, "bank account")
}

// PayoutBatch is one SEPA file of provider payouts.
type PayoutBatch struct {
	ID          uuid.UUID    `json:"id" db:"id"`
	MessageID   string       `json:"message_id" db:"message_id"`
	ExecutionOn time.Time    `json:"execution_on" db:"execution_on"`
	Status      string       `json:"status" db:"status"` // exported, executed
	CreatedAt   time.Time    `json:"created_at" db:"created_at"`
	ExecutedAt  *time.Time   `json:"executed_at,omitempty" db:"executed_at"`
	Total       int64        `json:"total_cents" db:"total"` // what was not returned
	Count       int          `json:"count" db:"count"`
	Payouts     []SEPAPayout `json:"payouts,omitempty" db:"-"`
}

// SEPAPayout is a SEPA payout with its provider, as the platform sees it.
type SEPAPayout struct {
	Payout
	ProviderName string `json:"provider_name" db:"provider_name"`
	// HasAccount: the provider gave the account to pay (a queued payout
	// without one waits for it).
	HasAccount bool `json:"has_account" db:"has_account"`
}

// adminOf checks p is a platform admin.
func adminOf(p *auth.Principal) error {
	if p == nil {
		return apperr.New(apperr.Unauthorized, "sign in to continue")
	}
	if !p.Has(auth.RolePlatformAdmin) {
		return apperr.New(apperr.Forbidden, "only a platform admin pays providers by bank transfer")
	}
	return nil
}

const sepaPayoutColumns = `SELECT ` + payoutColumns + `, pr.legal_name AS provider_name,
	EXISTS (SELECT 1 FROM provider_bank_accounts a WHERE a.provider_id = o.provider_id) AS has_account
	FROM provider_payouts o JOIN providers pr ON pr.organisation_id = o.provider_id`

// WaitingSEPA lists the queued SEPA payouts, oldest first (platform admins).
func (s *Service) WaitingSEPA(ctx context.Context, p *auth.Principal) ([]SEPAPayout, error) {
	if err := adminOf(p); err != nil {
		return nil, err
	}
	out := []SEPAPayout{}
	err := s.db.SelectContext(ctx, &out, sepaPayoutColumns+` WHERE o.status = 'queued' AND o.method = 'sepa'
		ORDER BY o.created_at LIMIT 500`)
	return out, err
}

// ExportPayouts puts every queued SEPA payout whose provider gave its
// account into a new file for the bank to execute on executionOn
// (platform admins); they are "sent" from then on. The creditor's account
// is copied onto the payout, so the file gives the same bytes at every
// download. Errors: forbidden, invalid (the platform's bank settings; a
// date in the past), conflict (nothing to pay).
func (s *Service) ExportPayouts(ctx context.Context, p *auth.Principal, executionOn time.Time, key string) (PayoutBatch, error) {
	if err := adminOf(p); err != nil {
		return PayoutBatch{}, err
	}
	if err := s.checkDebtor(); err != nil {
		return PayoutBatch{}, err
	}
	if executionOn.Format(time.DateOnly) < s.cfg.Now().In(rome).Format(time.DateOnly) {
		return PayoutBatch{}, apperr.New(apperr.Invalid, "the execution date cannot be in the past").With("field", "execution_on")
	}
	var id uuid.UUID
	_, err := db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "redemption.export_payouts"}, key,
		executionOn.Format(time.DateOnly), &id, func(tx *sqlx.Tx) error {
			id = uuid.New()
			msg := "RCPPAY-" + s.cfg.Now().In(rome).Format("20060102") + "-" + newCode()
			if _, err := tx.ExecContext(ctx, `INSERT INTO payout_batches (id, message_id, execution_on, created_by)
				VALUES ($1, $2, $3, $4)`, id, msg, executionOn.Format(time.DateOnly), p.UserID); err != nil {
				return db.MapError(err, "payout file")
			}
			res, err := tx.ExecContext(ctx, `UPDATE provider_payouts o SET status = 'sent', batch_id = $1,
					end_to_end_id = 'PO' || replace(o.id::text, '-', ''), creditor_name = a.holder, creditor_iban = a.iban
				FROM provider_bank_accounts a
				WHERE a.provider_id = o.provider_id AND o.status = 'queued' AND o.method = 'sepa'`, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return apperr.New(apperr.Conflict, "no payout is waiting for a bank transfer (or their providers have not given an IBAN yet)").
					With("reason", "nothing_to_pay")
			}
			return nil
		})
	if err != nil {
		return PayoutBatch{}, err
	}
	return s.payoutBatch(ctx, id)
}

func (s *Service) checkDebtor() error {
	d := s.cfg.Bank
	d.IBAN = sepa.NormaliseIBAN(d.IBAN)
	if !sepa.ValidIBAN(d.IBAN) || sepa.ABI(d.IBAN) == "" || sepa.Latin(d.Holder) == "" || len(d.CUC) != 8 {
		return apperr.New(apperr.Invalid, "the platform's bank account is not set: PLATFORM_IBAN (Italian), PLATFORM_ACCOUNT_HOLDER and PLATFORM_CUC").
			With("field", "execution_on").With("reason", "no_platform_account")
	}
	return nil
}

// PayoutBatches lists the SEPA files, newest first (platform admins).
func (s *Service) PayoutBatches(ctx context.Context, p *auth.Principal) ([]PayoutBatch, error) {
	if err := adminOf(p); err != nil {
		return nil, err
	}
	out := []PayoutBatch{}
	err := s.db.SelectContext(ctx, &out, batchSelect+` GROUP BY b.id ORDER BY b.created_at DESC LIMIT 200`)
	return out, err
}

const batchSelect = `SELECT b.id, b.message_id, b.execution_on, b.status, b.created_at, b.executed_at,
	coalesce(sum(o.amount_cents) FILTER (WHERE o.status <> 'returned'), 0)::bigint AS total, count(o.id) AS count
	FROM payout_batches b LEFT JOIN provider_payouts o ON o.batch_id = b.id`

// PayoutBatch returns a SEPA file with its payouts (platform admins).
// Errors: forbidden, not_found.
func (s *Service) PayoutBatch(ctx context.Context, p *auth.Principal, id uuid.UUID) (PayoutBatch, error) {
	if err := adminOf(p); err != nil {
		return PayoutBatch{}, err
	}
	return s.payoutBatch(ctx, id)
}

func (s *Service) payoutBatch(ctx context.Context, id uuid.UUID) (PayoutBatch, error) {
	var b PayoutBatch
	if err := s.db.GetContext(ctx, &b, batchSelect+` WHERE b.id = $1 GROUP BY b.id`, id); err != nil {
		return b, db.MapError(err, "payout file")
	}
	err := s.db.SelectContext(ctx, &b.Payouts, sepaPayoutColumns+` WHERE o.batch_id = $1 ORDER BY o.end_to_end_id`, id)
	return b, err
}

// PayoutBatchFile is the file's CBI payment request (platform admins),
// rendered from the stored rows: every download gives the same bytes and
// message id, so the bank can never pay it twice. Errors: forbidden,
// not_found, invalid (the platform's bank settings).
func (s *Service) PayoutBatchFile(ctx context.Context, p *auth.Principal, id uuid.UUID) (string, []byte, error) {
	b, err := s.PayoutBatch(ctx, p, id)
	if err != nil {
		return "", nil, err
	}
	if err := s.checkDebtor(); err != nil {
		return "", nil, err
	}
	file := sepa.Batch{MessageID: b.MessageID, CreatedAt: b.CreatedAt, ExecutionDate: b.ExecutionOn, CUC: s.cfg.Bank.CUC,
		DebtorName: s.cfg.Bank.Holder, DebtorIBAN: sepa.NormaliseIBAN(s.cfg.Bank.IBAN)}
	for _, o := range b.Payouts {
		file.Payments = append(file.Payments, sepa.Payment{EndToEndID: *o.EndToEndID, Amount: o.AmountCents,
			Creditor: *o.CreditorName, IBAN: *o.CreditorIBAN,
			Remittance: "Reciproca pagamento buoni " + o.CreatedAt.In(rome).Format("02/01/2006") + " " + o.ID.String()[:8]})
	}
	x, err := file.XML()
	if err != nil {
		return "", nil, apperr.New(apperr.Invalid, "the file cannot be written: %v", err)
	}
	return strings.ToLower(b.MessageID) + ".xml", x, nil
}

// ConfirmPayoutBatch records that the bank executed the file (platform
// admins): each payout still sent is captured — the money leaves the
// provider's payable for platform:bank — and is paid. A file is confirmed
// once: again is a conflict. Errors: forbidden, not_found, conflict.
func (s *Service) ConfirmPayoutBatch(ctx context.Context, p *auth.Principal, id uuid.UUID) (PayoutBatch, error) {
	if err := adminOf(p); err != nil {
		return PayoutBatch{}, err
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM payout_batches WHERE id = $1 FOR UPDATE`, id); err != nil {
			return db.MapError(err, "payout file")
		}
		if status != "exported" {
			return apperr.New(apperr.Conflict, "the file was already marked executed").With("reason", "already_executed")
		}
		var sent []Payout
		if err := tx.SelectContext(ctx, &sent, `SELECT `+payoutColumns+` FROM provider_payouts o WHERE batch_id = $1 AND status = 'sent'
			ORDER BY end_to_end_id FOR UPDATE`, id); err != nil {
			return err
		}
		for _, po := range sent {
			if err := capturePayout(ctx, tx, po, map[string]any{"sepa": *po.EndToEndID}); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE payout_batches SET status = 'executed', executed_at = now(), executed_by = $2
			WHERE id = $1`, id, p.UserID)
		return err
	})
	if err != nil {
		return PayoutBatch{}, err
	}
	return s.payoutBatch(ctx, id)
}

// capturePayout captures a payout's hold: the transfer went through.
func capturePayout(ctx context.Context, tx *sqlx.Tx, po Payout, meta map[string]any) error {
	res, err := ledger.Capture(ctx, tx, ledger.CaptureRequest{Key: "payout:" + po.ID.String() + ":capture", HoldID: po.HoldID,
		Reference: "payout:" + po.ID.String(), Metadata: meta})
	if err != nil {
		return err
	}
	transfer, _ := meta["stripe_transfer"].(string)
	_, err = tx.ExecContext(ctx, `UPDATE provider_payouts SET status = 'paid', capture_tx_id = $2,
		stripe_transfer_id = nullif($3, ''), resolved_at = now(), last_error = '' WHERE id = $1`, po.ID, res.TxID, transfer)
	return err
}

// ReturnPayout records that the bank rejected (before paying) or returned
// (after) a SEPA payout (platform admins, with the bank's reason): the
// hold is voided or the capture reversed, so the money is owed on the
// provider's payable again, and its vouchers go to the next payout.
// Errors: forbidden, invalid (reason), not_found, conflict (not sent or
// paid by SEPA).
func (s *Service) ReturnPayout(ctx context.Context, p *auth.Principal, id uuid.UUID, reason string) (Payout, error) {
	if err := adminOf(p); err != nil {
		return Payout{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return Payout{}, apperr.New(apperr.Invalid, "say why the bank returned it (the return code or message, up to 500 characters)").
			With("field", "reason")
	}
	var out Payout
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		po, err := lockPayout(ctx, tx, id)
		if err != nil {
			return err
		}
		if po.BatchID == nil || (po.Status != PayoutSent && po.Status != PayoutPaid) {
			return apperr.New(apperr.Conflict, "only a payout sent by bank transfer can be returned; this one is %s", po.Status).
				With("reason", "not_sent").With("status", po.Status)
		}
		var returnTx *int64
		if po.Status == PayoutPaid {
			rev, err := ledger.Reverse(ctx, tx, ledger.ReverseRequest{Key: "payout:" + po.ID.String() + ":return",
				TransactionID: *po.CaptureTxID, Kind: "payout_returned", Reference: "payout:" + po.ID.String()})
			if err != nil {
				return err
			}
			returnTx = &rev.TxID
		} else if err := ledger.Void(ctx, tx, po.HoldID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &out, `UPDATE provider_payouts o SET status = 'returned', return_tx_id = $2, return_reason = $3,
			resolved_at = now() WHERE id = $1 RETURNING `+payoutColumns, po.ID, returnTx, reason); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE vouchers SET payout_id = NULL WHERE payout_id = $1`, po.ID)
		return err
	})
	return out, err
}

func lockPayout(ctx context.Context, tx *sqlx.Tx, id uuid.UUID) (Payout, error) {
	var po Payout
	err := tx.GetContext(ctx, &po, `SELECT `+payoutColumns+` FROM provider_payouts o WHERE id = $1 FOR UPDATE`, id)
	return po, db.MapError(err, "payout")
}
