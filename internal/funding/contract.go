package funding

import (
	"context"
	"math/big"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// ContractEnd is the return of a company's unallocated budget by bank
// transfer when its contract ends.
type ContractEnd struct {
	ID        uuid.UUID `json:"id" db:"id"`
	CompanyID uuid.UUID `json:"company_id" db:"company_id"`
	Company   string    `json:"company" db:"company"`
	Amount    int64     `json:"amount" db:"amount"`
	IBAN      string    `json:"iban" db:"iban"`
	CRO       string    `json:"cro" db:"cro"`
	ValueDate time.Time `json:"value_date" db:"value_date"`
	Note      string    `json:"note" db:"note"`
	LedgerTx  int64     `json:"ledger_tx" db:"ledger_tx"`
	DoneAt    time.Time `json:"done_at" db:"done_at"`
}

// ContractEndInput is what the platform admin did: the transfer of the
// whole unallocated budget to the company's IBAN.
type ContractEndInput struct {
	CompanyID uuid.UUID `json:"company_id"`
	IBAN      string    `json:"iban"`
	CRO       string    `json:"cro"`
	ValueDate time.Time `json:"value_date"`
	Note      string    `json:"note"`
}

// EndContract records that the company's whole unallocated budget went
// back to it by bank transfer: company budget → platform:bank, under a
// key made from the record's id, effective on the transfer's value date.
// The budget must have no allocation in progress (pending holds) and the
// company no open item (it owes the platform: settle that first).
// Recording the same transfer again (same CRO, company and amount)
// returns it.
//
// Errors: forbidden, invalid (company_id, iban, cro, value_date: nothing
// to return), conflict (cro used, open items, an allocation in progress,
// or the budget changed meanwhile).
func (s *Service) EndContract(ctx context.Context, p *auth.Principal, in ContractEndInput) (ContractEnd, error) {
	if err := platformAdmin(p); err != nil {
		return ContractEnd{}, err
	}
	in.IBAN, in.CRO = NormaliseReference(in.IBAN), NormaliseReference(in.CRO)
	if err := apperr.AllInvalid(
		problem(!ValidIBAN(in.IBAN), "iban", "%q is not an IBAN with valid check digits", in.IBAN),
		problem(in.CRO == "" || len(in.CRO) > 64, "cro", "the transfer's CRO/TRN is required, at most 64 characters"),
		checkValueDate(in.ValueDate, time.Now()),
		problem(len(in.Note) > 500, "note", "the note is at most 500 characters")); err != nil {
		return ContractEnd{}, err
	}
	if prev, err := s.contractEndBy(ctx, `c.cro = $1`, in.CRO); err == nil {
		if prev.CompanyID == in.CompanyID && prev.IBAN == in.IBAN {
			return prev, nil
		}
		return ContractEnd{}, apperr.New(apperr.Conflict, "the transfer %s is already recorded", in.CRO).With("field", "cro")
	}
	id := uuid.New()
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var kind string
		if err := tx.GetContext(ctx, &kind, `SELECT kind FROM organisations WHERE id = $1`, in.CompanyID); err != nil || kind != "company" {
			return invalidField("company_id", "no company has this id")
		}
		var open int
		if err := tx.GetContext(ctx, &open, `SELECT count(*) FROM funding_open_items WHERE company_id = $1 AND status = 'open'`,
			in.CompanyID); err != nil {
			return err
		}
		if open > 0 {
			return apperr.New(apperr.Conflict, "the company has %d open items: settle them before returning its budget", open)
		}
		bal, err := ledger.GetBalance(ctx, tx, BudgetAccount(in.CompanyID))
		if apperr.Is(err, apperr.NotFound) || err == nil && bal.Available <= 0 {
			return invalidField("company_id", "the company has no unallocated budget to return")
		}
		if err != nil {
			return err
		}
		if bal.PendingOut > 0 {
			return apperr.New(apperr.Conflict, "an allocation is in progress on this budget: wait for it to finish")
		}
		res, err := ledger.Post(ctx, tx, ledger.Request{Key: "contract-end:" + id.String(), Kind: "contract_end",
			Reference: in.CompanyID.String(), EffectiveAt: effectiveAt(in.ValueDate, time.Now()),
			Metadata: map[string]any{"iban": in.IBAN, "cro": in.CRO},
			Postings: []ledger.Posting{{From: BudgetAccount(in.CompanyID), To: BankAccount, Amount: bal.Available}}})
		if apperr.Is(err, apperr.InsufficientFunds) {
			return apperr.New(apperr.Conflict, "the budget changed meanwhile: try again")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO funding_contract_ends (id, company_id, amount, iban, cro, value_date, note, ledger_tx, done_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, in.CompanyID, bal.Available, in.IBAN, in.CRO, in.ValueDate, in.Note, res.TxID, p.UserID)
		if db.IsUniqueViolation(err, "funding_contract_ends_cro_key") {
			return apperr.New(apperr.Conflict, "the transfer %s is already recorded", in.CRO).With("field", "cro")
		}
		return err
	})
	if err != nil {
		return ContractEnd{}, err
	}
	return s.contractEndBy(ctx, `c.id = $1`, id)
}

// ContractEnds lists a company's contract ends (its own for a company admin).
func (s *Service) ContractEnds(ctx context.Context, p *auth.Principal, company uuid.UUID) ([]ContractEnd, error) {
	company, err := scopeCompany(p, company)
	if err != nil {
		return nil, err
	}
	out := []ContractEnd{}
	err = s.db.SelectContext(ctx, &out, `SELECT `+contractEndCols+`
		WHERE ($1 = '00000000-0000-0000-0000-000000000000'::uuid OR c.company_id = $1) ORDER BY c.done_at DESC`, company)
	return out, apperr.Wrap(err, "listing contract ends")
}

const contractEndCols = `c.id, c.company_id, o.name AS company, c.amount, c.iban, c.cro, c.value_date, c.note, c.ledger_tx, c.done_at
	FROM funding_contract_ends c JOIN organisations o ON o.id = c.company_id`

func (s *Service) contractEndBy(ctx context.Context, where string, arg any) (ContractEnd, error) {
	var c ContractEnd
	err := s.db.GetContext(ctx, &c, `SELECT `+contractEndCols+` WHERE `+where, arg)
	return c, db.MapError(err, "contract end")
}

// checkValueDate refuses a value date in the future or more than 7 days
// back, in Italian time.
func checkValueDate(vd, now time.Time) error {
	today, d := dateIn(now), dateIn(vd)
	switch {
	case vd.IsZero() || d.After(today):
		return invalidField("value_date", "the value date cannot be in the future")
	case d.Before(today.AddDate(0, 0, -7)):
		return invalidField("value_date", "the value date can be at most 7 days back")
	}
	return nil
}

// ValidIBAN reports whether s (spaces and case ignored) is an IBAN whose
// check digits hold (ISO 13616: mod 97 = 1).
func ValidIBAN(s string) bool {
	s = NormaliseReference(s)
	if len(s) < 15 || len(s) > 34 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return new(big.Int).Mod(rfNumber(s[4:]+s[:4]), big.NewInt(97)).Int64() == 1
}

// Company is a company's id and name, for the platform admin's forms.
type Company struct {
	ID   uuid.UUID `db:"id"`
	Name string    `db:"name"`
}

// Companies lists every company by name (platform admins).
func (s *Service) Companies(ctx context.Context, p *auth.Principal) ([]Company, error) {
	if err := platformAdmin(p); err != nil {
		return nil, err
	}
	var out []Company
	err := s.db.SelectContext(ctx, &out, `SELECT id, name FROM organisations WHERE kind = 'company' ORDER BY name LIMIT 5000`)
	return out, apperr.Wrap(err, "listing companies")
}
