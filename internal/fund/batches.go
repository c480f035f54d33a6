package fund

import (
	"context"
	"crypto/rand"
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

// Batch is a payment batch: one CBI file to the fund's bank.
type Batch struct {
	ID          uuid.UUID   `json:"id" db:"id"`
	MessageID   string      `json:"message_id" db:"message_id"`
	CreatedAt   time.Time   `json:"created_at" db:"created_at"`
	ExecutionOn time.Time   `json:"execution_on" db:"execution_on"`
	Status      string      `json:"status" db:"status"`
	ExecutedAt  *time.Time  `json:"executed_at,omitempty" db:"executed_at"`
	Total       int64       `json:"total" db:"total"`
	Count       int         `json:"count" db:"count"`
	Lines       []BatchLine `json:"lines,omitempty" db:"-"`
}

// BatchLine is one transfer of a batch.
type BatchLine struct {
	ID             uuid.UUID `json:"id" db:"id"`
	InterventionID uuid.UUID `json:"intervention_id" db:"intervention_id"`
	Seq            int       `json:"seq" db:"seq"`
	Amount         int64     `json:"amount" db:"amount"`
	EndToEndID     string    `json:"end_to_end_id" db:"end_to_end_id"`
	Status         string    `json:"status" db:"status"`
	PayeeName      string    `json:"payee_name" db:"payee_name"`
	PayeeIBAN      string    `json:"payee_iban" db:"payee_iban"`
	Reference      string    `json:"reference" db:"payee_reference"`
	ReturnReason   *string   `json:"return_reason,omitempty" db:"return_reason"`
}

// CreateBatch puts every approved creditor payment of the fund that is in
// no live batch into a new batch for the bank to execute on executionOn
// (fund manager). The fund's CUC and debtor account must be set. Errors:
// forbidden, invalid (no CUC or account; a date in the past), conflict
// (nothing to pay).
func (s *Service) CreateBatch(ctx context.Context, p *auth.Principal, executionOn time.Time, key string) (Batch, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Batch{}, err
	}
	today := s.now().In(italianTime)
	if executionOn.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		return Batch{}, invalidField("execution_on", "the execution date cannot be in the past")
	}
	var id uuid.UUID
	_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "fund.create_batch"}, key,
		executionOn.Format(time.DateOnly), &id, func(tx *sqlx.Tx) error {
			var settings struct {
				CUC  string `db:"cuc"`
				IBAN string `db:"debtor_iban"`
				Name string `db:"debtor_name"`
			}
			if err := tx.GetContext(ctx, &settings, `SELECT cuc, debtor_iban, debtor_name FROM funds WHERE organisation_id = $1 FOR UPDATE`, fund); err != nil {
				return db.MapError(err, "fund")
			}
			if settings.CUC == "" || !sepa.ValidIBAN(settings.IBAN) || settings.Name == "" {
				return invalidField("cuc", "set the fund's CBI company code (CUC), account holder and IBAN before paying by bank file")
			}
			id = uuid.New()
			msg := messageID(s.now())
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_batches (id, fund_id, message_id, created_by, execution_on)
				VALUES ($1, $2, $3, $4, $5)`, id, fund, msg, p.UserID, executionOn.Format(time.DateOnly)); err != nil {
				return apperr.Wrap(err, "creating batch")
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO fund_batch_lines (batch_id, intervention_id, seq, amount, end_to_end_id)
				SELECT $1, i.id, row_number() OVER (ORDER BY i.approved_at, i.id), i.amount - i.paid - i.released,
				       $3 || '-' || row_number() OVER (ORDER BY i.approved_at, i.id)
				FROM fund_interventions i
				WHERE i.fund_id = $2 AND i.status = 'approved' AND i.provider_id IS NULL AND i.amount - i.paid - i.released > 0
				  AND NOT EXISTS (SELECT 1 FROM fund_batch_lines l WHERE l.intervention_id = i.id AND l.status <> 'returned')`,
				id, fund, msg)
			if err != nil {
				return apperr.Wrap(err, "filling batch")
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return apperr.New(apperr.Conflict, "there are no approved payments to creditors waiting for a batch")
			}
			return s.orgs.RecordEvent(ctx, tx, "fund_batch_created", p, fund, map[string]any{"batch": id, "message_id": msg})
		})
	if err != nil {
		return Batch{}, err
	}
	return s.batch(ctx, fund, id)
}

// messageID is a new file's message id: the date and 8 random characters
// (the bank refuses a second file with an id it has seen).
func messageID(now time.Time) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = pseudonymAlphabet[int(b[i])%len(pseudonymAlphabet)]
	}
	return "RCPFUND-" + now.In(italianTime).Format("20060102") + "-" + string(b)
}

// Batches lists the fund's batches, newest first (fund managers).
func (s *Service) Batches(ctx context.Context, p *auth.Principal) ([]Batch, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return nil, err
	}
	out := []Batch{}
	err = sqlx.SelectContext(ctx, s.db, &out, `SELECT b.id, b.message_id, b.created_at, b.execution_on, b.status, b.executed_at,
		coalesce(sum(l.amount) FILTER (WHERE l.status <> 'returned'), 0)::bigint AS total, count(l.id) AS count
		FROM fund_batches b LEFT JOIN fund_batch_lines l ON l.batch_id = b.id
		WHERE b.fund_id = $1 GROUP BY b.id ORDER BY b.created_at DESC LIMIT 200`, fund)
	return out, apperr.Wrap(err, "listing batches")
}

// GetBatch returns a batch with its lines (fund managers). Errors:
// forbidden, not_found.
func (s *Service) GetBatch(ctx context.Context, p *auth.Principal, id uuid.UUID) (Batch, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Batch{}, err
	}
	return s.batch(ctx, fund, id)
}

func (s *Service) batch(ctx context.Context, fund, id uuid.UUID) (Batch, error) {
	var b Batch
	err := s.db.GetContext(ctx, &b, `SELECT b.id, b.message_id, b.created_at, b.execution_on, b.status, b.executed_at,
		coalesce(sum(l.amount) FILTER (WHERE l.status <> 'returned'), 0)::bigint AS total, count(l.id) AS count
		FROM fund_batches b LEFT JOIN fund_batch_lines l ON l.batch_id = b.id
		WHERE b.id = $1 AND b.fund_id = $2 GROUP BY b.id`, id, fund)
	if err != nil {
		return Batch{}, db.MapError(err, "batch")
	}
	err = sqlx.SelectContext(ctx, s.db, &b.Lines, `SELECT l.id, l.intervention_id, l.seq, l.amount, l.end_to_end_id, l.status,
		i.payee_name, i.payee_iban, i.payee_reference, l.return_reason
		FROM fund_batch_lines l JOIN fund_interventions i ON i.id = l.intervention_id WHERE l.batch_id = $1 ORDER BY l.seq`, id)
	return b, apperr.Wrap(err, "reading batch lines")
}

// BatchFile is the batch's CBI payment request: rendered from the stored
// rows, so every download gives the same bytes and the same message id.
// Only the invoice or notice reference travels as remittance text.
// Errors: forbidden, not_found, invalid (the fund's bank settings).
func (s *Service) BatchFile(ctx context.Context, p *auth.Principal, id uuid.UUID) (string, []byte, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return "", nil, err
	}
	b, err := s.batch(ctx, fund, id)
	if err != nil {
		return "", nil, err
	}
	var f struct {
		CUC  string `db:"cuc"`
		IBAN string `db:"debtor_iban"`
		Name string `db:"debtor_name"`
	}
	if err := s.db.GetContext(ctx, &f, `SELECT cuc, debtor_iban, debtor_name FROM funds WHERE organisation_id = $1`, fund); err != nil {
		return "", nil, db.MapError(err, "fund")
	}
	var addr []struct {
		ID       uuid.UUID `db:"id"`
		Street   string    `db:"payee_street"`
		Building string    `db:"payee_building"`
		PostCode string    `db:"payee_postcode"`
		Town     string    `db:"payee_town"`
		Country  string    `db:"payee_country"`
	}
	if err := sqlx.SelectContext(ctx, s.db, &addr, `SELECT l.id, i.payee_street, i.payee_building, i.payee_postcode, i.payee_town, i.payee_country
		FROM fund_batch_lines l JOIN fund_interventions i ON i.id = l.intervention_id WHERE l.batch_id = $1`, id); err != nil {
		return "", nil, apperr.Wrap(err, "reading addresses")
	}
	addresses := map[uuid.UUID]*sepa.Address{}
	for _, a := range addr {
		if a.Town != "" {
			addresses[a.ID] = &sepa.Address{Street: a.Street, Building: a.Building, PostCode: a.PostCode, Town: a.Town, Country: a.Country}
		}
	}
	file := sepa.Batch{MessageID: b.MessageID, CreatedAt: b.CreatedAt, ExecutionDate: b.ExecutionOn, CUC: f.CUC,
		DebtorName: f.Name, DebtorIBAN: f.IBAN}
	for _, l := range b.Lines {
		file.Payments = append(file.Payments, sepa.Payment{EndToEndID: l.EndToEndID, Amount: l.Amount, Creditor: l.PayeeName,
			IBAN: l.PayeeIBAN, Address: addresses[l.ID], Remittance: l.Reference})
	}
	x, err := file.XML()
	if err != nil {
		return "", nil, apperr.New(apperr.Invalid, "the batch cannot be written: %v", err).With("field", "cuc")
	}
	return strings.ToLower(b.MessageID) + ".xml", x, nil
}

// MarkExecuted records that the bank executed the batch (fund manager):
// each line's payment is a ledger posting from its commitment to the
// platform's bank account, and which contributor lots it consumed is
// recorded. A batch is executed once: again is a conflict. Errors:
// forbidden, not_found, conflict.
func (s *Service) MarkExecuted(ctx context.Context, p *auth.Principal, id uuid.UUID) (Batch, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Batch{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM fund_batches WHERE id = $1 AND fund_id = $2 FOR UPDATE`, id, fund); err != nil {
			return db.MapError(err, "batch")
		}
		if status != "exported" {
			return apperr.New(apperr.Conflict, "the batch was already marked executed").With("status", status)
		}
		if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: BankAccount, Kind: ledger.Asset}); err != nil {
			return err
		}
		var lines []struct {
			ID           uuid.UUID `db:"id"`
			Intervention uuid.UUID `db:"intervention_id"`
			Amount       int64     `db:"amount"`
			Case         uuid.UUID `db:"case_id"`
		}
		if err := tx.SelectContext(ctx, &lines, `SELECT l.id, l.intervention_id, l.amount, i.case_id FROM fund_batch_lines l
			JOIN fund_interventions i ON i.id = l.intervention_id WHERE l.batch_id = $1 AND l.status = 'pending' ORDER BY l.seq`, id); err != nil {
			return apperr.Wrap(err, "reading lines")
		}
		for _, l := range lines {
			res, err := ledger.Post(ctx, tx, ledger.Request{Key: "fund.pay:" + l.ID.String(), Kind: "fund.disbursement", Reference: l.Intervention.String(),
				Postings: []ledger.Posting{{From: "fund:" + fund.String() + ":committed:" + l.Intervention.String(), To: BankAccount, Amount: l.Amount}}})
			if err != nil {
				return err
			}
			if err := recordLots(ctx, tx, l.Intervention, res.TxID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE fund_batch_lines SET status = 'paid', payment_tx = $2 WHERE id = $1`, l.ID, res.TxID); err != nil {
				return apperr.Wrap(err, "marking line paid")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'paid', paid = paid + $2, closed_at = now() WHERE id = $1`,
				l.Intervention, l.Amount); err != nil {
				return apperr.Wrap(err, "marking intervention paid")
			}
			if err := caseEvent(ctx, tx, l.Case, p, "intervention_paid", map[string]any{"intervention": l.Intervention, "amount": l.Amount, "batch": id}); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fund_batches SET status = 'executed', executed_at = now(), executed_by = $2 WHERE id = $1`, id, p.UserID); err != nil {
			return apperr.Wrap(err, "marking batch executed")
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_batch_executed", p, fund, map[string]any{"batch": id, "lines": len(lines)})
	})
	if err != nil {
		return Batch{}, err
	}
	return s.batch(ctx, fund, id)
}

// ReturnLine records that the bank rejected or returned a line (fund
// manager, with the reason): an executed line's payment is reversed, so
// the money and its contributor lots are back in the commitment, and the
// intervention is approved again, ready for a new batch or a
// cancellation. Errors: forbidden, invalid, not_found, conflict (already
// returned).
func (s *Service) ReturnLine(ctx context.Context, p *auth.Principal, batchID, lineID uuid.UUID, reason string) (Batch, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Batch{}, err
	}
	if reason, err = requireReason(reason, 500, "say why the bank returned it (the return code or message)"); err != nil {
		return Batch{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var l struct {
			Status       string    `db:"status"`
			Intervention uuid.UUID `db:"intervention_id"`
			Amount       int64     `db:"amount"`
			Payment      *int64    `db:"payment_tx"`
			Case         uuid.UUID `db:"case_id"`
		}
		if err := tx.GetContext(ctx, &l, `SELECT l.status, l.intervention_id, l.amount, l.payment_tx, i.case_id
			FROM fund_batch_lines l JOIN fund_batches b ON b.id = l.batch_id JOIN fund_interventions i ON i.id = l.intervention_id
			WHERE l.id = $1 AND l.batch_id = $2 AND b.fund_id = $3 FOR UPDATE OF l`, lineID, batchID, fund); err != nil {
			return db.MapError(err, "batch line")
		}
		if l.Status == "returned" {
			return apperr.New(apperr.Conflict, "the line was already returned")
		}
		var returnTx *int64
		if l.Status == "paid" {
			rev, err := ledger.Reverse(ctx, tx, ledger.ReverseRequest{Key: "fund.return:" + lineID.String(), TransactionID: *l.Payment,
				Kind: "fund.returned", Reference: l.Intervention.String()})
			if err != nil {
				return err
			}
			if err := recordLots(ctx, tx, l.Intervention, rev.TxID); err != nil {
				return err
			}
			returnTx = &rev.TxID
			if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'approved', paid = paid - $2, closed_at = NULL WHERE id = $1`,
				l.Intervention, l.Amount); err != nil {
				return apperr.Wrap(err, "reopening intervention")
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fund_batch_lines SET status = 'returned', return_tx = $2, return_reason = $3 WHERE id = $1`,
			lineID, returnTx, reason); err != nil {
			return apperr.Wrap(err, "returning line")
		}
		return caseEvent(ctx, tx, l.Case, p, "payment_returned", map[string]any{"intervention": l.Intervention, "reason": reason})
	})
	if err != nil {
		return Batch{}, err
	}
	return s.batch(ctx, fund, batchID)
}

// Settings are the fund's own settings.
type Settings struct {
	Name              string `json:"name" db:"name"`
	Territory         string `json:"territory" db:"territory"`
	ApprovalThreshold int64  `json:"approval_threshold" db:"approval_threshold"`
	CUC               string `json:"cuc" db:"cuc"`
	DebtorName        string `json:"debtor_name" db:"debtor_name"`
	DebtorIBAN        string `json:"debtor_iban" db:"debtor_iban"`
}

// GetSettings returns the fund's settings (fund staff). Errors: forbidden.
func (s *Service) GetSettings(ctx context.Context, p *auth.Principal) (Settings, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker)
	if err != nil {
		return Settings{}, err
	}
	if err := s.ensureFund(ctx, s.db, fund); err != nil {
		return Settings{}, err
	}
	var out Settings
	err = s.db.GetContext(ctx, &out, `SELECT o.name, f.territory, f.approval_threshold, f.cuc, f.debtor_name, f.debtor_iban
		FROM funds f JOIN organisations o ON o.id = f.organisation_id WHERE f.organisation_id = $1`, fund)
	return out, apperr.Wrap(err, "reading settings")
}

// normalise tidies what was typed: the CUC in capitals, the IBAN without
// spaces, no blanks around the name.
func (in *Settings) normalise() {
	in.CUC = strings.ToUpper(strings.TrimSpace(in.CUC))
	in.DebtorIBAN = sepa.NormaliseIBAN(in.DebtorIBAN)
	in.DebtorName = strings.TrimSpace(in.DebtorName)
}

// Validate names every field of the settings at fault at once
// (apperr.AllInvalid), as typed (it normalises a copy).
func (in Settings) Validate() error {
	in.normalise()
	return apperr.AllInvalid(
		problem(len(in.Territory) > 100, "territory", "the territory is at most 100 characters"),
		problem(in.ApprovalThreshold <= 0 || in.ApprovalThreshold > ledger.MaxAmount, "approval_threshold", "the threshold must be more than zero"),
		problem(in.CUC != "" && !cucPattern(in.CUC), "cuc", "the CUC is 8 letters or digits"),
		problem(len(in.DebtorName) > 70, "debtor_name", "the account holder's name is at most 70 characters"),
		problem(in.DebtorIBAN != "" && (!sepa.ValidIBAN(in.DebtorIBAN) || sepa.ABI(in.DebtorIBAN) == ""), "iban", "the fund's account must be a valid Italian IBAN"))
}

// SaveSettings changes the territory, the four-eyes threshold and the
// bank details (fund manager; audited). Errors: forbidden, invalid.
func (s *Service) SaveSettings(ctx context.Context, p *auth.Principal, in Settings) (Settings, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Settings{}, err
	}
	in.normalise()
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := s.ensureFund(ctx, tx, fund); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE funds SET territory = $2, approval_threshold = $3, cuc = $4, debtor_name = $5, debtor_iban = $6
			WHERE organisation_id = $1`, fund, strings.TrimSpace(in.Territory), in.ApprovalThreshold, in.CUC, in.DebtorName, in.DebtorIBAN); err != nil {
			return apperr.Wrap(err, "saving settings")
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_settings_changed", p, fund, map[string]any{"approval_threshold": in.ApprovalThreshold, "cuc": in.CUC})
	})
	if err != nil {
		return Settings{}, err
	}
	return s.GetSettings(ctx, p)
}

func cucPattern(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
