package fund

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Theme is what an envelope's money is for.
type Theme string

// The envelope themes.
const (
	ThemeEmergencies     Theme = "emergencies"
	ThemeJobPlacement    Theme = "job_placement"
	ThemeTraining        Theme = "training"
	ThemeBusinessStartup Theme = "business_startup"
	ThemeCarePathways    Theme = "care_pathways"
)

// Themes lists the themes in the order pages show them.
var Themes = []Theme{ThemeEmergencies, ThemeJobPlacement, ThemeTraining, ThemeBusinessStartup, ThemeCarePathways}

// Validate reports an unknown theme as invalid.
func (t Theme) Validate() error {
	if !slices.Contains(Themes, t) {
		return invalidField("theme", "theme %q is not one of emergencies, job_placement, training, business_startup, care_pathways", t)
	}
	return nil
}

// Envelope is an envelope with its figures, all from the ledger.
type Envelope struct {
	ID        uuid.UUID `json:"id" db:"id"`
	Theme     Theme     `json:"theme" db:"theme"`
	YearlyCap int64     `json:"yearly_cap" db:"yearly_cap"`
	// Available is the envelope account's balance: earmarked and not yet
	// committed.
	Available int64 `json:"available" db:"available"`
	// CommittedYear is what approvals committed from it this calendar
	// year, net of what came back (the figure the cap bounds).
	CommittedYear int64 `json:"committed_year" db:"committed_year"`
	// Committed is approved and not yet paid (its commitments' balances).
	Committed int64 `json:"committed" db:"committed"`
	// Disbursed is what left the fund from it, net of returns.
	Disbursed int64 `json:"disbursed" db:"disbursed"`
}

// CapLeft is what the yearly cap still allows to commit.
func (e Envelope) CapLeft() int64 { return max(0, e.YearlyCap-e.CommittedYear) }

// SetEnvelope creates the envelope of theme or changes its yearly cap
// (fund manager). Errors: forbidden, invalid.
func (s *Service) SetEnvelope(ctx context.Context, p *auth.Principal, theme Theme, yearlyCap int64) (Envelope, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Envelope{}, err
	}
	if err := theme.Validate(); err != nil {
		return Envelope{}, err
	}
	if yearlyCap < 0 || yearlyCap > ledger.MaxAmount {
		return Envelope{}, invalidField("yearly_cap", "the yearly cap must be between 0 and 10 billion euro")
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := s.ensureFund(ctx, tx, fund); err != nil {
			return err
		}
		if _, err := ledger.CreateAccount(ctx, tx, fundAccount(envelopePath(fund, theme))); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_envelopes (fund_id, theme, yearly_cap) VALUES ($1, $2, $3)
			ON CONFLICT (fund_id, theme) DO UPDATE SET yearly_cap = EXCLUDED.yearly_cap`, fund, theme, yearlyCap); err != nil {
			return apperr.Wrap(err, "saving envelope")
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_envelope_set", p, fund, map[string]any{"theme": theme, "yearly_cap": yearlyCap})
	})
	if err != nil {
		return Envelope{}, err
	}
	return s.envelope(ctx, s.db, fund, theme)
}

// Envelopes lists the fund's envelopes with their figures (fund staff).
// Errors: forbidden.
func (s *Service) Envelopes(ctx context.Context, p *auth.Principal) ([]Envelope, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker)
	if err != nil {
		return nil, err
	}
	return s.envelopes(ctx, s.db, fund, "")
}

func (s *Service) envelope(ctx context.Context, q sqlx.QueryerContext, fund uuid.UUID, theme Theme) (Envelope, error) {
	list, err := s.envelopes(ctx, q, fund, theme)
	if err != nil {
		return Envelope{}, err
	}
	if len(list) == 0 {
		return Envelope{}, apperr.New(apperr.NotFound, "the fund has no %s envelope", theme).With("field", "theme")
	}
	return list[0], nil
}

// envelopes reads the envelopes (one theme, or all with "") with figures
// computed from ledger balances and entries: the envelope's balance, its
// interventions' commitment balances, and their payments.
func (s *Service) envelopes(ctx context.Context, q sqlx.QueryerContext, fund uuid.UUID, theme Theme) ([]Envelope, error) {
	from, to := yearBounds(s.now())
	var out []Envelope
	err := sqlx.SelectContext(ctx, q, &out, `
		SELECT e.id, e.theme, e.yearly_cap,
		  coalesce((SELECT sum(b.posted - b.pending_out) FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		            WHERE a.path = 'fund:' || e.fund_id || ':envelope:' || e.theme), 0)::bigint AS available,
		  coalesce((SELECT sum(i.amount - i.released) FROM fund_interventions i
		            WHERE i.envelope_id = e.id AND i.approved_at >= $3 AND i.approved_at < $4), 0)::bigint AS committed_year,
		  coalesce((SELECT sum(b.posted) FROM fund_interventions i
		            JOIN ledger_accounts a ON a.path = 'fund:' || e.fund_id || ':committed:' || i.id
		            JOIN ledger_balances b ON b.account_id = a.id WHERE i.envelope_id = e.id), 0)::bigint AS committed,
		  coalesce((SELECT sum(i.paid) FROM fund_interventions i WHERE i.envelope_id = e.id), 0)::bigint AS disbursed
		FROM fund_envelopes e
		WHERE e.fund_id = $1 AND ($2 = '' OR e.theme = $2)
		ORDER BY array_position(ARRAY['emergencies','job_placement','training','business_startup','care_pathways'], e.theme)`,
		fund, string(theme), from, to)
	return out, apperr.Wrap(err, "listing envelopes")
}

// Earmark moves amount from the pool to the envelope of theme (fund
// manager): a ledger posting whose contributor lots move along. Errors:
// forbidden, invalid, not_found (no such envelope), insufficient_funds
// (the pool holds less), conflict (key reused).
func (s *Service) Earmark(ctx context.Context, p *auth.Principal, theme Theme, amount int64, key string) (Envelope, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return Envelope{}, err
	}
	if err := theme.Validate(); err != nil {
		return Envelope{}, err
	}
	if amount <= 0 || amount > ledger.MaxAmount {
		return Envelope{}, invalidField("amount", "the amount must be between 1 cent and 10 billion euro")
	}
	req := struct {
		Theme  Theme `json:"theme"`
		Amount int64 `json:"amount"`
	}{theme, amount}
	var done struct{ OK bool }
	_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "fund.earmark"}, key, req, &done, func(tx *sqlx.Tx) error {
		var envID uuid.UUID
		err := tx.GetContext(ctx, &envID, `SELECT id FROM fund_envelopes WHERE fund_id = $1 AND theme = $2`, fund, theme)
		if err != nil {
			return db.MapError(err, "envelope "+string(theme))
		}
		if err := s.ensureFund(ctx, tx, fund); err != nil {
			return err
		}
		res, err := ledger.Post(ctx, tx, ledger.Request{Key: ledgerKey("earmark", p, key), Kind: "fund.earmark",
			Reference: envID.String(), Postings: []ledger.Posting{{From: poolPath(fund), To: envelopePath(fund, theme), Amount: amount}}})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_earmarks (envelope_id, amount, tx_id, created_by) VALUES ($1, $2, $3, $4)`,
			envID, amount, res.TxID, p.UserID); err != nil {
			return apperr.Wrap(err, "recording earmark")
		}
		done.OK = true
		return s.orgs.RecordEvent(ctx, tx, "fund_earmark", p, fund, map[string]any{"theme": theme, "amount": amount, "tx": res.TxID})
	})
	if err != nil {
		return Envelope{}, err
	}
	return s.envelope(ctx, s.db, fund, theme)
}

// ledgerKey is the ledger's idempotency key for an event the caller sent
// with an HTTP key (a retry that outlives the HTTP layer's memory still
// posts once), or a fresh one.
func ledgerKey(kind string, p *auth.Principal, key string) string {
	if key == "" {
		return newKey(kind)
	}
	return "fund." + kind + ":" + p.UserID.String() + ":" + key
}

// FundRef is a fund a company may give to.
type FundRef struct {
	ID        uuid.UUID `json:"id" db:"organisation_id"`
	Name      string    `json:"name" db:"name"`
	Territory string    `json:"territory" db:"territory"`
}

// Funds lists the funds (company admins choose one to give to).
func (s *Service) Funds(ctx context.Context) ([]FundRef, error) {
	var out []FundRef
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT f.organisation_id, o.name, f.territory
		FROM funds f JOIN organisations o ON o.id = f.organisation_id ORDER BY o.name`)
	return out, apperr.Wrap(err, "listing funds")
}

// Donation is a direct donation from a company's budget.
type Donation struct {
	ID        uuid.UUID `json:"id" db:"id"`
	FundID    uuid.UUID `json:"fund_id" db:"fund_id"`
	FundName  string    `json:"fund_name" db:"fund_name"`
	CompanyID uuid.UUID `json:"company_id" db:"company_id"`
	Amount    int64     `json:"amount" db:"amount"`
	TxID      int64     `json:"transaction_id" db:"tx_id"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// Donate gives amount from the caller's company budget to fundID (company
// admin): a ledger posting company:{id}:budget → fund:{fund}:pool whose
// credit is a contributor lot attributed to the company. Errors:
// forbidden, invalid, not_found (no such fund), insufficient_funds (the
// budget holds less; details say what is available), conflict.
func (s *Service) Donate(ctx context.Context, p *auth.Principal, fundID uuid.UUID, amount int64, key string) (Donation, error) {
	if p == nil || p.OrgKind != auth.OrgCompany || !p.Has(auth.RoleCompanyAdmin) {
		return Donation{}, apperr.New(apperr.Forbidden, "only a company's administrators give from its budget")
	}
	if amount <= 0 || amount > ledger.MaxAmount {
		return Donation{}, invalidField("amount", "the amount must be between 1 cent and 10 billion euro")
	}
	var fundName string
	err := s.db.GetContext(ctx, &fundName, `SELECT o.name FROM funds f JOIN organisations o ON o.id = f.organisation_id
		WHERE f.organisation_id = $1`, fundID)
	if err != nil {
		return Donation{}, db.MapError(err, "fund")
	}
	req := struct {
		Fund   uuid.UUID `json:"fund"`
		Amount int64     `json:"amount"`
	}{fundID, amount}
	var d Donation
	_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "fund.donate"}, key, req, &d, func(tx *sqlx.Tx) error {
		if _, err := ledger.CreateAccount(ctx, tx, PoolSpec(fundID)); err != nil {
			return err
		}
		d = Donation{ID: uuid.New(), FundID: fundID, FundName: fundName, CompanyID: p.OrgID, Amount: amount}
		res, err := ledger.Post(ctx, tx, ledger.Request{Key: ledgerKey("donation", p, key), Kind: "fund.donation",
			Reference: d.ID.String(), Postings: []ledger.Posting{{From: companyBudget(p.OrgID), To: poolPath(fundID), Amount: amount,
				Lot: &ledger.LotSpec{Attrs: map[string]any{"company": p.OrgID.String(), "source": SourceDonation}}}}})
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.InsufficientFunds, "the company has no budget to give from yet").
				With("account", companyBudget(p.OrgID)).With("available", 0).With("required", amount)
		}
		if err != nil {
			return err
		}
		d.TxID = res.TxID
		err = tx.GetContext(ctx, &d.CreatedAt, `INSERT INTO fund_donations (id, fund_id, company_id, amount, tx_id, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`, d.ID, fundID, p.OrgID, amount, res.TxID, p.UserID)
		if err != nil {
			return apperr.Wrap(err, "recording donation")
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_donation", p, p.OrgID, map[string]any{"fund": fundID, "amount": amount, "tx": res.TxID})
	})
	return d, err
}

// Donations lists the caller company's donations, newest first.
func (s *Service) Donations(ctx context.Context, p *auth.Principal) ([]Donation, error) {
	if p == nil || p.OrgKind != auth.OrgCompany || !p.Has(auth.RoleCompanyAdmin) {
		return nil, apperr.New(apperr.Forbidden, "only a company's administrators see its donations")
	}
	var out []Donation
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT d.id, d.fund_id, o.name AS fund_name, d.company_id, d.amount, d.tx_id, d.created_at
		FROM fund_donations d JOIN organisations o ON o.id = d.fund_id WHERE d.company_id = $1 ORDER BY d.created_at DESC LIMIT 200`, p.OrgID)
	return out, apperr.Wrap(err, "listing donations")
}

func companyBudget(company uuid.UUID) string { return "company:" + company.String() + ":budget" }

// Where pool money comes from: the source attribute of a contributor lot.
const (
	SourceRedemption = "redemption"
	SourceResidual   = "residual"
	SourcePledge     = "pledge"
	SourceDonation   = "donation"
)

// SeedEnvelope creates fund's envelope of theme with its cap and earmarks
// fill into it under the ledger key key, inside the caller's transaction:
// demo data, written as a fund manager would.
func SeedEnvelope(ctx context.Context, tx *sqlx.Tx, fund uuid.UUID, theme Theme, yearlyCap, fill int64, key string) error {
	if _, err := ledger.CreateAccount(ctx, tx, fundAccount(envelopePath(fund, theme))); err != nil {
		return err
	}
	var id uuid.UUID
	if err := tx.GetContext(ctx, &id, `INSERT INTO fund_envelopes (fund_id, theme, yearly_cap) VALUES ($1, $2, $3)
		ON CONFLICT (fund_id, theme) DO UPDATE SET yearly_cap = EXCLUDED.yearly_cap RETURNING id`, fund, theme, yearlyCap); err != nil {
		return err
	}
	if fill == 0 {
		return nil
	}
	res, err := ledger.Post(ctx, tx, ledger.Request{Key: key, Kind: "fund.earmark", Reference: id.String(),
		Postings: []ledger.Posting{{From: poolPath(fund), To: envelopePath(fund, theme), Amount: fill}}})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO fund_earmarks (envelope_id, amount, tx_id) VALUES ($1, $2, $3)`, id, fill, res.TxID)
	return err
}
