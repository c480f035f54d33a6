package plans

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
)

// Performance-bonus (PdR, "premio di risultato") conversion. HR records
// each eligible employee's bonus on a PdR plan with their previous year's
// employment income (eligibility: at most the rule set's income ceiling).
// The employee then chooses how much of it to convert into welfare
// credit, up to the smaller of the bonus and the rule set's cap for the
// plan year (counting what they converted on the year's other PdR plans);
// the rest is paid through payroll, taxed at the rule set's substitute
// rate. They may change their mind until the plan credits them.
// Allocating a PdR plan credits each choice above zero, as an ordinary
// allocation does (a hold on the budget, then chunks): the amount is the
// employee's, never a rule's. Unused PdR credit never returns to the
// budget (see SweepExpiredLots).

// PdRBonus is one employee's bonus on a PdR plan and their choice.
type PdRBonus struct {
	PlanID           uuid.UUID `json:"plan_id" db:"plan_id"`
	UserID           uuid.UUID `json:"user_id" db:"user_id"`
	Name             string    `json:"name" db:"name"`
	Email            string    `json:"email" db:"email"`
	BonusCents       int64     `json:"bonus_cents" db:"bonus_cents"`
	PriorIncomeCents int64     `json:"prior_income_cents" db:"prior_income_cents"`
	// ConvertCents is the employee's choice; nil until they choose.
	ConvertCents *int64     `json:"convert_cents" db:"convert_cents"`
	ChosenAt     *time.Time `json:"chosen_at" db:"chosen_at"`
	// Credited: the plan has credited the choice; it can no longer change.
	Credited bool `json:"credited" db:"credited"`
}

// PdROffer is what an employee sees of an open PdR plan: their bonus,
// how much of it they may convert and what each choice is worth.
type PdROffer struct {
	PdRBonus
	PlanName string    `json:"plan_name"`
	EndsOn   time.Time `json:"ends_on"`
	// MaxCents is the most they may convert now: the bonus, within the
	// year's cap net of other PdR plans' conversions.
	MaxCents  int64 `json:"max_cents"`
	CapCents  int64 `json:"cap_cents"`
	TaxRateBP int   `json:"tax_rate_bp"`
	// Open: the choice can still be made or changed.
	Open bool `json:"open"`
}

// CashNet is what the unconverted part of the bonus pays after the
// substitute tax, for a choice of convert cents (rounded down).
func (o PdROffer) CashNet(convert int64) int64 {
	cash := o.BonusCents - convert
	return cash - (cash*int64(o.TaxRateBP)+9999)/10000
}

// PdRBonusInput is what HR records.
type PdRBonusInput struct {
	UserID           uuid.UUID
	BonusCents       int64
	PriorIncomeCents int64
}

const bonusCols = `b.plan_id, b.user_id, u.name, u.email::text AS email, b.bonus_cents, b.prior_income_cents, b.convert_cents, b.chosen_at,
	EXISTS (SELECT 1 FROM welfare_allocation_items i JOIN welfare_allocations a ON a.id = i.allocation_id
	        WHERE a.plan_id = b.plan_id AND a.status <> 'failed' AND i.user_id = b.user_id) AS credited`

// SavePdRBonus records (or corrects) an employee's bonus on PdR plan id.
// A correction that leaves their choice above the new bonus clears the
// choice: they choose again. Once credited, the bonus is frozen.
//
// Errors: forbidden, not_found (plan, employee of another company),
// invalid (not a PdR plan; amounts; income above the ceiling), conflict
// (plan closed; already credited).
func (s *Service) SavePdRBonus(ctx context.Context, p *auth.Principal, id uuid.UUID, in PdRBonusInput) (PdRBonus, error) {
	company, err := companyOf(p)
	if err != nil {
		return PdRBonus{}, err
	}
	if in.BonusCents <= 0 || in.BonusCents > MaxRuleAmount {
		return PdRBonus{}, invalid("bonus_cents", "a bonus is between 1 cent and €1,000,000")
	}
	if in.PriorIncomeCents < 0 {
		return PdRBonus{}, invalid("prior_income_cents", "the previous year's income cannot be negative")
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		pl, err := s.lockPlan(ctx, tx, company, id)
		if err != nil {
			return err
		}
		if err := pl.openPdR(); err != nil {
			return err
		}
		rules, err := RulesFor(ctx, tx, pl.Year)
		if err != nil {
			return err
		}
		if in.PriorIncomeCents > rules.PdRIncomeCeiling {
			return invalid("prior_income_cents", "an income above %s the year before makes the bonus ineligible for conversion",
				euro(rules.PdRIncomeCeiling)).With("reason", "income_above_ceiling").With("ceiling_cents", rules.PdRIncomeCeiling)
		}
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM employees WHERE user_id = $1 AND company_id = $2)`,
			in.UserID, company); err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "no employee with this id in your company").With("field", "user_id")
		}
		cur, err := bonusOf(ctx, tx, id, in.UserID, true)
		if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		if cur.Credited {
			return apperr.New(apperr.Conflict, "the employee's choice was already credited: the bonus cannot change").
				With("reason", "already_credited")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pdr_bonuses (plan_id, user_id, company_id, bonus_cents, prior_income_cents, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (plan_id, user_id) DO UPDATE SET bonus_cents = $4, prior_income_cents = $5, recorded_by = $6, updated_at = now(),
				convert_cents = CASE WHEN pdr_bonuses.convert_cents > $4 THEN NULL ELSE pdr_bonuses.convert_cents END,
				chosen_at = CASE WHEN pdr_bonuses.convert_cents > $4 THEN NULL ELSE pdr_bonuses.chosen_at END`,
			id, in.UserID, company, in.BonusCents, in.PriorIncomeCents, p.UserID)
		return db.MapError(err, "bonus")
	})
	if err != nil {
		return PdRBonus{}, err
	}
	return bonusOf(ctx, s.db, id, in.UserID, false)
}

// PdRBonuses lists the bonuses and choices of PdR plan id, by name.
func (s *Service) PdRBonuses(ctx context.Context, p *auth.Principal, id uuid.UUID) ([]PdRBonus, error) {
	company, err := companyOf(p)
	if err != nil {
		return nil, err
	}
	if _, err := s.plan(ctx, s.db, company, id); err != nil {
		return nil, err
	}
	out := []PdRBonus{}
	err = s.db.SelectContext(ctx, &out, `SELECT `+bonusCols+` FROM pdr_bonuses b JOIN users u ON u.id = b.user_id
		WHERE b.plan_id = $1 AND b.company_id = $2 ORDER BY u.name, u.email`, id, company)
	return out, db.MapError(err, "bonuses")
}

func bonusOf(ctx context.Context, q sqlx.QueryerContext, plan, user uuid.UUID, lock bool) (PdRBonus, error) {
	var b PdRBonus
	query := `SELECT ` + bonusCols + ` FROM pdr_bonuses b JOIN users u ON u.id = b.user_id WHERE b.plan_id = $1 AND b.user_id = $2`
	if lock {
		query += ` FOR UPDATE OF b`
	}
	err := sqlx.GetContext(ctx, q, &b, query, plan, user)
	if errors.Is(err, sql.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "no bonus of this employee on this plan")
	}
	return b, db.MapError(err, "bonus")
}

// openPdR refuses bonuses and choices on anything but an open PdR plan
// whose deadline has not passed.
func (p Plan) openPdR() error {
	switch {
	case p.Kind != PdR:
		return invalid("plan", "bonuses are converted on performance-bonus (PdR) plans only")
	case p.Status != "open":
		return apperr.New(apperr.Conflict, "the plan is closed").With("reason", "plan_closed")
	case today().After(p.EndsOn):
		return invalid("plan", "the plan's deadline has passed")
	}
	return nil
}

// MyPdROffers lists the caller's bonuses on their company's PdR plans
// that are open or were credited, newest plan first.
func (s *Service) MyPdROffers(ctx context.Context, p *auth.Principal) ([]PdROffer, error) {
	if p == nil || !p.Has(auth.RoleEmployee) {
		return nil, apperr.New(apperr.Forbidden, "only employees convert their bonus")
	}
	all, err := s.offers(ctx, s.db, p.UserID, nil)
	out := make([]PdROffer, 0, len(all))
	for _, o := range all {
		if o.Open || o.Credited {
			out = append(out, o)
		}
	}
	return out, err
}

// offers reads all of user's bonuses as offers (only plan's when given).
func (s *Service) offers(ctx context.Context, q sqlx.QueryerContext, user uuid.UUID, plan *uuid.UUID) ([]PdROffer, error) {
	var rows []struct {
		PdRBonus
		PlanName string    `db:"plan_name"`
		EndsOn   time.Time `db:"ends_on"`
		Year     int       `db:"plan_year"`
		Status   string    `db:"status"`
		// Others is what the user converted on the year's other PdR plans.
		Others int64 `db:"others"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+bonusCols+`, p.name AS plan_name, p.ends_on, p.plan_year, p.status,
			coalesce((SELECT sum(o.convert_cents) FROM pdr_bonuses o JOIN welfare_plans op ON op.id = o.plan_id
			          WHERE o.user_id = b.user_id AND op.plan_year = p.plan_year AND o.plan_id <> b.plan_id), 0)::bigint AS others
		FROM pdr_bonuses b JOIN users u ON u.id = b.user_id JOIN welfare_plans p ON p.id = b.plan_id AND p.company_id = b.company_id
		JOIN employees e ON e.user_id = b.user_id AND e.company_id = b.company_id
		WHERE b.user_id = $1 AND ($2::uuid IS NULL OR b.plan_id = $2)
		ORDER BY p.ends_on DESC, p.created_at DESC`, user, plan)
	if err != nil {
		return nil, db.MapError(err, "bonuses")
	}
	out := make([]PdROffer, 0, len(rows))
	for _, r := range rows {
		rules, err := RulesFor(ctx, q, r.Year)
		if err != nil {
			return nil, err
		}
		o := PdROffer{PdRBonus: r.PdRBonus, PlanName: r.PlanName, EndsOn: r.EndsOn, CapCents: rules.PdRCap, TaxRateBP: rules.PdRTaxRateBP,
			MaxCents: max(min(r.BonusCents, rules.PdRCap-r.Others), 0)}
		o.Open = r.Status == "open" && !today().After(r.EndsOn) && !r.Credited
		out = append(out, o)
	}
	return out, nil
}

// ChoosePdR records the caller's choice on PdR plan id: convert cents
// of their bonus (0: all of it through payroll). Repeating it is harmless;
// it can change until the plan credits it.
//
// Errors: forbidden, not_found (no bonus of theirs on the plan), invalid
// (convert_cents outside 0…max), conflict (closed, past its deadline or
// already credited).
func (s *Service) ChoosePdR(ctx context.Context, p *auth.Principal, id uuid.UUID, convert int64) (PdROffer, error) {
	if p == nil || !p.Has(auth.RoleEmployee) {
		return PdROffer{}, apperr.New(apperr.Forbidden, "only employees convert their bonus")
	}
	var out PdROffer
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// An allocation of the plan starting now (it locks the plan) reads
		// the choice before or after this one, never between; and the
		// user's bonus rows change one choice at a time, so two choices at
		// once cannot both fit under the year's cap.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM welfare_plans WHERE id = $1 FOR SHARE`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM pdr_bonuses WHERE user_id = $1 FOR UPDATE`, p.UserID); err != nil {
			return err
		}
		list, err := s.offers(ctx, tx, p.UserID, &id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return apperr.New(apperr.NotFound, "you have no bonus to convert on this plan")
		}
		o := list[0]
		switch {
		case o.Credited:
			return apperr.New(apperr.Conflict, "your choice was already credited").With("reason", "already_credited")
		case !o.Open:
			return apperr.New(apperr.Conflict, "the choice is closed").With("reason", "plan_closed")
		case convert < 0 || convert > o.MaxCents:
			return invalid("convert_cents", "you can convert between €0,00 and %s", euro(o.MaxCents)).With("max_cents", o.MaxCents)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pdr_bonuses SET convert_cents = $3, chosen_at = now(), updated_at = now()
			WHERE plan_id = $1 AND user_id = $2`, id, p.UserID, convert); err != nil {
			return db.MapError(err, "choice")
		}
		list, err = s.offers(ctx, tx, p.UserID, &id)
		if err == nil && len(list) > 0 {
			out = list[0]
		}
		return err
	})
	return out, err
}

// eligiblePdR lists the employees of company whose choice on PdR plan pl
// is still to credit: above zero, not left, not deactivated, not
// credited (or being credited) by another allocation of the plan.
func eligiblePdR(ctx context.Context, q sqlx.QueryerContext, company uuid.UUID, pl Plan) ([]Line, int64, error) {
	lines := []Line{}
	err := sqlx.SelectContext(ctx, q, &lines, `
		SELECT b.user_id, u.name, u.email::text AS email, coalesce(c.name, '') AS category, b.convert_cents AS amount_cents, 'PdR' AS basis
		FROM pdr_bonuses b
		JOIN users u ON u.id = b.user_id AND u.status <> 'deactivated'
		JOIN employees e ON e.user_id = b.user_id AND e.company_id = b.company_id
		LEFT JOIN employee_categories c ON c.id = e.category_id
		WHERE b.plan_id = $1 AND b.company_id = $2 AND b.convert_cents > 0 AND (e.leaves_on IS NULL OR e.leaves_on >= $3)
		  AND NOT EXISTS (SELECT 1 FROM welfare_allocation_items i JOIN welfare_allocations a ON a.id = i.allocation_id
		                  WHERE a.plan_id = $1 AND a.status <> 'failed' AND i.user_id = b.user_id)
		ORDER BY u.name, b.user_id`, pl.ID, company, today())
	var total int64
	for _, l := range lines {
		total += l.AmountCents
	}
	return lines, total, db.MapError(err, "PdR choices")
}
