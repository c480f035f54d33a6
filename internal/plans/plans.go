package plans

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/db"
)

// Plan kinds.
const (
	Ordinary = "ordinary"
	PdR      = "pdr" // performance bonus converted into welfare
)

// Residual policies: what happens to credits left when they expire.
// Ordinary plans return, carry over or donate; PdR plans send the rest to
// the pension fund or back through payroll, by export.
const (
	ResidualReturn      = "return"
	ResidualCarryOver   = "carry_over"
	ResidualDonate      = "donate"
	ResidualPensionFund = "pension_fund"
	ResidualPayroll     = "payroll"
)

// MaxRuleAmount bounds what one rule gives one employee (€1,000,000).
const MaxRuleAmount int64 = 100_000_000

// PlanInput is a plan as HR defines it.
type PlanInput struct {
	Kind           string
	Name           string
	Year           int
	StartsOn       time.Time
	EndsOn         time.Time // spending deadline: credits expire at the end of this day
	Categories     []string  // allowed service categories (catalogue codes)
	ResidualPolicy string
	CarryOverUntil *time.Time
	// Rules: amount in cents per homogeneous category code (ordinary plans).
	Rules map[string]int64
}

// Rule is one amount rule of a plan.
type Rule struct {
	Category     string `json:"category" db:"code"`
	CategoryName string `json:"category_name" db:"name"`
	AmountCents  int64  `json:"amount_cents" db:"amount_cents"`
}

// Plan is a welfare plan.
type Plan struct {
	ID             uuid.UUID      `json:"id" db:"id"`
	CompanyID      uuid.UUID      `json:"company_id" db:"company_id"`
	Kind           string         `json:"kind" db:"kind"`
	Name           string         `json:"name" db:"name"`
	Year           int            `json:"plan_year" db:"plan_year"`
	StartsOn       time.Time      `json:"starts_on" db:"starts_on"`
	EndsOn         time.Time      `json:"ends_on" db:"ends_on"`
	Categories     pq.StringArray `json:"categories" db:"categories"`
	ResidualPolicy string         `json:"residual_policy" db:"residual_policy"`
	CarryOverUntil *time.Time     `json:"carry_over_until" db:"carry_over_until"`
	Status         string         `json:"status" db:"status"`
	CreatedAt      time.Time      `json:"created_at" db:"created_at"`
	// AllocatedCents is what the plan has credited so far; once it is
	// above zero the money rules are frozen.
	AllocatedCents int64  `json:"allocated_cents" db:"allocated_cents"`
	Rules          []Rule `json:"rules" db:"-"`
}

// Expiry is when the plan's credits expire: the end of its deadline day.
func (p Plan) Expiry() time.Time { return endOfDay(p.EndsOn) }

// Locked reports whether the plan's money rules can no longer change.
func (p Plan) Locked() bool { return p.AllocatedCents > 0 }

// validate checks the plan. Every field at fault is named
// (details.fields), the first also as details.field with its message, so
// a form can mark them all at once.
func (in *PlanInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Kind == "" {
		in.Kind = Ordinary
	}
	var faults []*apperr.Error
	fault := func(e *apperr.Error) { faults = append(faults, e) }
	if in.Kind != Ordinary && in.Kind != PdR {
		return invalid("kind", "a plan is ordinary or pdr, not %q", in.Kind)
	}
	if in.Name == "" || len([]rune(in.Name)) > 120 {
		fault(invalid("name", "a plan needs a name of at most 120 characters"))
	}
	if in.Year < 2000 || in.Year > 2100 {
		fault(invalid("plan_year", "the plan year must be between 2000 and 2100"))
	}
	if in.StartsOn.IsZero() {
		fault(invalid("starts_on", "a plan needs a start date"))
	}
	switch {
	case in.EndsOn.IsZero():
		fault(invalid("ends_on", "a plan needs a spending deadline"))
	case !in.StartsOn.IsZero() && in.EndsOn.Before(in.StartsOn):
		fault(invalid("ends_on", "the spending deadline cannot be before the start date"))
	}
	slices.Sort(in.Categories)
	in.Categories = slices.Compact(in.Categories)
	if len(in.Categories) == 0 {
		fault(invalid("categories", "a plan allows at least one service category"))
	}
	for _, c := range in.Categories {
		if _, ok := catalog.CategoryByCode(c); !ok {
			fault(invalid("categories", "%q is not a service category", c))
			break
		}
	}
	ordinaryPolicy := in.ResidualPolicy == ResidualReturn || in.ResidualPolicy == ResidualCarryOver || in.ResidualPolicy == ResidualDonate
	pdrPolicy := in.ResidualPolicy == ResidualPensionFund || in.ResidualPolicy == ResidualPayroll
	switch {
	case in.Kind == Ordinary && !ordinaryPolicy:
		fault(invalid("residual_policy", "an ordinary plan's residual credits return to the budget, carry over or are donated to the inclusion fund"))
	case in.Kind == PdR && !pdrPolicy:
		fault(invalid("residual_policy", "a PdR plan's residual credits go to the pension fund or back through payroll; never to the budget or the fund"))
	case in.ResidualPolicy == ResidualCarryOver && (in.CarryOverUntil == nil || !in.CarryOverUntil.After(in.EndsOn)):
		fault(invalid("carry_over_until", "carried-over credits need a new deadline after the plan's"))
	case in.ResidualPolicy != ResidualCarryOver:
		in.CarryOverUntil = nil
	}
	switch {
	case in.Kind == Ordinary && len(in.Rules) == 0:
		fault(invalid("rules", "an ordinary plan needs an amount for at least one category of employees"))
	case in.Kind == PdR && len(in.Rules) > 0:
		fault(invalid("rules", "a PdR plan's amounts are each employee's choice, not rules"))
	}
	for _, code := range slices.Sorted(maps.Keys(in.Rules)) {
		if cents := in.Rules[code]; cents <= 0 || cents > MaxRuleAmount {
			fault(invalid("rules", "the amount for %q must be between 1 cent and €1,000,000", code).With("category", code))
			break
		}
	}
	return allFaults(faults)
}

// allFaults is the first fault naming every field at fault
// (details.fields), or nil.
func allFaults(faults []*apperr.Error) error {
	if len(faults) == 0 {
		return nil
	}
	var fields []string
	for _, f := range faults {
		if field := apperr.FieldOf(f); !slices.Contains(fields, field) {
			fields = append(fields, field)
		}
	}
	return faults[0].With("fields", fields)
}

// Check validates in as CreatePlan would, without the database: forms
// use it to tell every field at fault at once.
func (in PlanInput) Check() error { return in.validate() }

// CreatePlan creates a plan of the caller's company.
//
// Errors: forbidden, invalid (field named), not_found (a rule's category).
func (s *Service) CreatePlan(ctx context.Context, p *auth.Principal, in PlanInput) (Plan, error) {
	company, err := companyOf(p)
	if err != nil {
		return Plan{}, err
	}
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	var id uuid.UUID
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		id, err = createPlan(ctx, tx, company, p.UserID, in)
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, s.db, company, id)
}

// CreatePlanInTx creates a plan inside the caller's transaction (the demo
// data) and returns its id. Errors as CreatePlan.
func (s *Service) CreatePlanInTx(ctx context.Context, tx *sqlx.Tx, p *auth.Principal, in PlanInput) (uuid.UUID, error) {
	company, err := companyOf(p)
	if err != nil {
		return uuid.Nil, err
	}
	if err := in.validate(); err != nil {
		return uuid.Nil, err
	}
	return createPlan(ctx, tx, company, p.UserID, in)
}

func createPlan(ctx context.Context, tx *sqlx.Tx, company, by uuid.UUID, in PlanInput) (uuid.UUID, error) {
	var id uuid.UUID
	if err := tx.GetContext(ctx, &id, `INSERT INTO welfare_plans (company_id, kind, name, plan_year, starts_on, ends_on, categories,
			residual_policy, carry_over_until, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		company, in.Kind, in.Name, in.Year, in.StartsOn, in.EndsOn, pq.Array(in.Categories), in.ResidualPolicy,
		in.CarryOverUntil, by); err != nil {
		return uuid.Nil, db.MapError(err, "plan")
	}
	return id, saveRules(ctx, tx, company, id, in.Rules)
}

// UpdatePlan changes a plan's definition while nothing has been credited
// from it; afterwards only its name may change (and it may be closed).
//
// Errors: forbidden, not_found, invalid, conflict (money rules frozen).
func (s *Service) UpdatePlan(ctx context.Context, p *auth.Principal, id uuid.UUID, in PlanInput) (Plan, error) {
	company, err := companyOf(p)
	if err != nil {
		return Plan{}, err
	}
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		cur, err := s.lockPlan(ctx, tx, company, id)
		if err != nil {
			return err
		}
		if cur.Kind != in.Kind {
			return invalid("kind", "a plan's kind cannot change")
		}
		if cur.Locked() || cur.Status == "closed" {
			if !sameMoneyRules(cur, in) {
				return apperr.New(apperr.Conflict, "credits were already allocated from this plan: its money rules cannot change; close it or create a new plan").
					With("reason", "plan_locked")
			}
			_, err := tx.ExecContext(ctx, `UPDATE welfare_plans SET name = $2 WHERE id = $1`, id, in.Name)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE welfare_plans SET name = $2, plan_year = $3, starts_on = $4, ends_on = $5,
				categories = $6, residual_policy = $7, carry_over_until = $8 WHERE id = $1`,
			id, in.Name, in.Year, in.StartsOn, in.EndsOn, pq.Array(in.Categories), in.ResidualPolicy, in.CarryOverUntil); err != nil {
			return db.MapError(err, "plan")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM welfare_plan_rules WHERE plan_id = $1`, id); err != nil {
			return err
		}
		return saveRules(ctx, tx, company, id, in.Rules)
	})
	if err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, s.db, company, id)
}

// ClosePlan closes a plan: no more allocations from it. Credits already
// given stay until they expire.
func (s *Service) ClosePlan(ctx context.Context, p *auth.Principal, id uuid.UUID) (Plan, error) {
	company, err := companyOf(p)
	if err != nil {
		return Plan{}, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE welfare_plans SET status = 'closed' WHERE id = $1 AND company_id = $2`, id, company)
	if err != nil {
		return Plan{}, db.MapError(err, "plan")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Plan{}, apperr.New(apperr.NotFound, "plan not found")
	}
	return s.plan(ctx, s.db, company, id)
}

func sameMoneyRules(cur Plan, in PlanInput) bool {
	sameDate := func(a, b *time.Time) bool {
		return (a == nil) == (b == nil) && (a == nil || a.Format(time.DateOnly) == b.Format(time.DateOnly))
	}
	rules := map[string]int64{}
	for _, r := range cur.Rules {
		rules[r.Category] = r.AmountCents
	}
	sameRules := len(rules) == len(in.Rules)
	for k, v := range in.Rules {
		sameRules = sameRules && rules[k] == v
	}
	return sameRules && cur.Year == in.Year && sameDate(&cur.StartsOn, &in.StartsOn) && sameDate(&cur.EndsOn, &in.EndsOn) &&
		slices.Equal([]string(cur.Categories), in.Categories) && cur.ResidualPolicy == in.ResidualPolicy &&
		sameDate(cur.CarryOverUntil, in.CarryOverUntil)
}

func saveRules(ctx context.Context, tx *sqlx.Tx, company, plan uuid.UUID, rules map[string]int64) error {
	for code, cents := range rules {
		res, err := tx.ExecContext(ctx, `INSERT INTO welfare_plan_rules (plan_id, category_id, amount_cents)
			SELECT $1, id, $4 FROM employee_categories WHERE company_id = $2 AND code = $3`, plan, company, code, cents)
		if err != nil {
			return db.MapError(err, "plan rule")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "no category of employees %q in your company", code).With("field", "rules").With("category", code)
		}
	}
	return nil
}

const planCols = `p.id, p.company_id, p.kind, p.name, p.plan_year, p.starts_on, p.ends_on, p.categories, p.residual_policy,
	p.carry_over_until, p.status, p.created_at,
	coalesce((SELECT sum(i.amount_cents) FROM welfare_allocations a JOIN welfare_allocation_items i ON i.allocation_id = a.id
	          WHERE a.plan_id = p.id AND i.tx_id IS NOT NULL), 0)::bigint AS allocated_cents`

// plan reads one plan of company with its rules.
func (s *Service) plan(ctx context.Context, q sqlx.QueryerContext, company, id uuid.UUID) (Plan, error) {
	var pl Plan
	err := sqlx.GetContext(ctx, q, &pl, `SELECT `+planCols+` FROM welfare_plans p WHERE p.id = $1 AND p.company_id = $2`, id, company)
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, apperr.New(apperr.NotFound, "plan not found")
	}
	if err != nil {
		return Plan{}, db.MapError(err, "plan")
	}
	pl.Rules = []Rule{}
	err = sqlx.SelectContext(ctx, q, &pl.Rules, `SELECT c.code, c.name, r.amount_cents FROM welfare_plan_rules r
		JOIN employee_categories c ON c.id = r.category_id WHERE r.plan_id = $1 ORDER BY c.name`, id)
	return pl, db.MapError(err, "plan rules")
}

// lockPlan reads a plan FOR UPDATE: allocations and changes of one plan
// go one at a time.
func (s *Service) lockPlan(ctx context.Context, tx *sqlx.Tx, company, id uuid.UUID) (Plan, error) {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM welfare_plans WHERE id = $1 AND company_id = $2 FOR UPDATE`, id, company); err != nil {
		return Plan{}, db.MapError(err, "plan")
	}
	return s.plan(ctx, tx, company, id)
}

// GetPlan returns one plan of the caller's company.
func (s *Service) GetPlan(ctx context.Context, p *auth.Principal, id uuid.UUID) (Plan, error) {
	company, err := companyOf(p)
	if err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, s.db, company, id)
}

// Plans lists the company's plans, newest first.
func (s *Service) Plans(ctx context.Context, p *auth.Principal) ([]Plan, error) {
	company, err := companyOf(p)
	if err != nil {
		return nil, err
	}
	out := []Plan{}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+planCols+` FROM welfare_plans p WHERE p.company_id = $1 ORDER BY p.created_at DESC`, company); err != nil {
		return nil, db.MapError(err, "plans")
	}
	return out, nil
}
