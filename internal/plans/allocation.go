package plans

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Allocation statuses.
const (
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// holdLife is how long an allocation's hold reserves the budget. The
// worker finishes an allocation in seconds; the hold outlives any outage
// the worker could plausibly have, and if it ever expires the chunks go on
// against the budget as it then is.
const holdLife = 30 * 24 * time.Hour

// Allocation is one plan allocation or one correction.
type Allocation struct {
	ID         uuid.UUID  `json:"id" db:"id"`
	PlanID     uuid.UUID  `json:"plan_id" db:"plan_id"`
	Kind       string     `json:"kind" db:"kind"`
	Status     string     `json:"status" db:"status"`
	Reason     string     `json:"reason" db:"reason"`
	TotalCents int64      `json:"total_cents" db:"total_cents"`
	Employees  int        `json:"employees" db:"employees"`
	Credited   int        `json:"credited" db:"credited"`
	LastError  string     `json:"last_error" db:"last_error"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	FinishedAt *time.Time `json:"finished_at" db:"finished_at"`
}

// allocRow is an allocation row with the fields only this package reads.
type allocRow struct {
	Allocation
	CompanyID uuid.UUID `db:"company_id"`
	HoldTx    *int64    `db:"hold_tx"`
	HoldSeq   int       `db:"hold_seq"`
}

const allocCols = `id, plan_id, company_id, kind, status, reason, total_cents, employees, credited, last_error, created_at,
	finished_at, hold_tx, hold_seq`

// Line is one employee's credit in a preview or an allocation.
type Line struct {
	UserID      uuid.UUID `json:"user_id" db:"user_id"`
	Name        string    `json:"name" db:"name"`
	Email       string    `json:"email" db:"email"`
	Category    string    `json:"category" db:"category"`
	AmountCents int64     `json:"amount_cents" db:"amount_cents"`
	Basis       string    `json:"basis" db:"basis"`
}

// Preview is what allocating a plan would do now.
type Preview struct {
	Plan           Plan   `json:"plan"`
	Lines          []Line `json:"lines"`
	TotalCents     int64  `json:"total_cents"`
	AvailableCents int64  `json:"available_cents"`
	// MissingCents is how much the budget lacks (0: it covers the total).
	MissingCents int64 `json:"missing_cents"`
}

// eligible lists the employees of company the plan's rules give credits to
// now: a category with a rule, not deactivated, not left, not already
// credited (or being credited) by another allocation of this plan.
func eligible(ctx context.Context, q sqlx.QueryerContext, company uuid.UUID, pl Plan) ([]Line, int64, error) {
	if pl.Kind == PdR {
		return eligiblePdR(ctx, q, company, pl)
	}
	var rows []struct {
		UserID   uuid.UUID  `db:"user_id"`
		Name     string     `db:"name"`
		Email    string     `db:"email"`
		Category string     `db:"category"`
		Base     int64      `db:"base"`
		HiredOn  *time.Time `db:"hired_on"`
		PartTime int        `db:"part_time_pct"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT e.user_id, u.name, u.email::text AS email, c.name AS category, r.amount_cents AS base, e.hired_on, e.part_time_pct
		FROM employees e
		JOIN users u ON u.id = e.user_id AND u.status <> 'deactivated'
		JOIN employee_categories c ON c.id = e.category_id
		JOIN welfare_plan_rules r ON r.plan_id = $1 AND r.category_id = e.category_id
		WHERE e.company_id = $2 AND (e.leaves_on IS NULL OR e.leaves_on >= $3)
		  AND NOT EXISTS (SELECT 1 FROM welfare_allocation_items i JOIN welfare_allocations a ON a.id = i.allocation_id
		                  WHERE a.plan_id = $1 AND a.kind = 'plan' AND a.status <> 'failed' AND i.user_id = e.user_id)
		ORDER BY u.name, e.user_id`, pl.ID, company, today())
	if err != nil {
		return nil, 0, db.MapError(err, "eligible employees")
	}
	lines := make([]Line, 0, len(rows))
	var total int64
	for _, r := range rows {
		sh := ProRata(r.Base, pl.Year, r.HiredOn, r.PartTime)
		if sh.Cents <= 0 {
			continue
		}
		lines = append(lines, Line{UserID: r.UserID, Name: r.Name, Email: r.Email, Category: r.Category, AmountCents: sh.Cents, Basis: sh.Basis})
		total += sh.Cents
	}
	return lines, total, nil
}

// PreviewAllocation shows who would get how much from plan id, and
// whether the budget covers it.
func (s *Service) PreviewAllocation(ctx context.Context, p *auth.Principal, id uuid.UUID) (Preview, error) {
	company, err := companyOf(p)
	if err != nil {
		return Preview{}, err
	}
	pl, err := s.plan(ctx, s.db, company, id)
	if err != nil {
		return Preview{}, err
	}
	lines, total, err := eligible(ctx, s.db, company, pl)
	if err != nil {
		return Preview{}, err
	}
	avail, err := s.available(ctx, company)
	if err != nil {
		return Preview{}, err
	}
	return Preview{Plan: pl, Lines: lines, TotalCents: total, AvailableCents: avail, MissingCents: max(total-avail, 0)}, nil
}

// available is the company budget's available balance (0 before any top-up).
func (s *Service) available(ctx context.Context, company uuid.UUID) (int64, error) {
	b, err := ledger.GetBalance(ctx, s.db, budgetAccount(company))
	if apperr.CodeOf(err) == apperr.NotFound {
		return 0, nil
	}
	return b.Available, err
}

// Allocate starts allocating plan id to every eligible employee: all or
// nothing. In one transaction it records the allocation and its lines and
// holds the whole amount on the budget; if the budget does not cover it,
// nothing is recorded and the error says how much is missing
// (insufficient_funds, details.missing_cents). The credits are then made
// by RunAllocation: at once in the background when RunAllocationsAtOnce
// was set, and by the worker (RunAllocations) whatever happens to this
// process. Retrying with the same
// key returns the same allocation.
//
// Errors: forbidden, not_found (plan), invalid (deadline past, nobody to
// credit), conflict (plan closed; key reused), insufficient_funds.
func (s *Service) Allocate(ctx context.Context, p *auth.Principal, id uuid.UUID, key string) (Allocation, error) {
	company, err := companyOf(p)
	if err != nil {
		return Allocation{}, err
	}
	var out Allocation
	req := struct {
		Plan uuid.UUID `json:"plan"`
	}{id}
	_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "plans.allocate"}, key, req, &out, func(tx *sqlx.Tx) error {
		out, err = s.start(ctx, tx, company, p.UserID, id)
		return err
	})
	if err != nil {
		return Allocation{}, err
	}
	if s.runNow {
		go s.runInBackground(out.ID)
	}
	return out, nil
}

// start records an allocation of plan id and holds its total on the
// budget, inside tx.
func (s *Service) start(ctx context.Context, tx *sqlx.Tx, company, by, id uuid.UUID) (Allocation, error) {
	pl, err := s.lockPlan(ctx, tx, company, id)
	if err != nil {
		return Allocation{}, err
	}
	if err := pl.allocatable(); err != nil {
		return Allocation{}, err
	}
	lines, total, err := eligible(ctx, tx, company, pl)
	if err != nil {
		return Allocation{}, err
	}
	if len(lines) == 0 {
		return Allocation{}, invalid("plan", "no employee is due credits from this plan: set categories on your employees, or they already have them").
			With("reason", "nobody_eligible")
	}
	if err := ensureCompanyAccounts(ctx, tx, company); err != nil {
		return Allocation{}, err
	}
	a, err := insertAllocation(ctx, tx, company, pl.ID, "plan", "", by, lines, total)
	if err != nil {
		return Allocation{}, err
	}
	hold, err := holdRest(ctx, tx, allocRow{Allocation: a, CompanyID: company}, total)
	if err != nil {
		return Allocation{}, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE welfare_allocations SET hold_tx = $2 WHERE id = $1`, a.ID, hold)
	return a, err
}

// AllocateInTx allocates plan id to every eligible employee and makes all
// the credits inside the caller's transaction, at once: for the demo
// data, which loads in one transaction. The API and the web use
// Allocate.
func (s *Service) AllocateInTx(ctx context.Context, tx *sqlx.Tx, p *auth.Principal, id uuid.UUID) (Allocation, error) {
	company, err := companyOf(p)
	if err != nil {
		return Allocation{}, err
	}
	a, err := s.start(ctx, tx, company, p.UserID, id)
	if err != nil {
		return Allocation{}, err
	}
	for done := false; !done; {
		if done, err = s.step(ctx, tx, a.ID); err != nil {
			return Allocation{}, err
		}
	}
	err = tx.GetContext(ctx, &a, `SELECT id, plan_id, kind, status, reason, total_cents, employees, credited, last_error, created_at,
		finished_at FROM welfare_allocations WHERE id = $1`, a.ID)
	return a, err
}

// allocatable refuses credits from a closed plan or one past its
// deadline.
func (p Plan) allocatable() error {
	switch {
	case p.Status != "open":
		return apperr.New(apperr.Conflict, "the plan is closed").With("reason", "plan_closed")
	case today().After(p.EndsOn):
		return invalid("plan", "the plan's spending deadline has passed")
	}
	return nil
}

func insertAllocation(ctx context.Context, tx *sqlx.Tx, company, plan uuid.UUID, kind, reason string, by uuid.UUID,
	lines []Line, total int64) (Allocation, error) {
	var a Allocation
	err := tx.GetContext(ctx, &a, `INSERT INTO welfare_allocations (plan_id, company_id, kind, status, reason, total_cents, employees, created_by)
		VALUES ($1, $2, $3, 'running', $4, $5, $6, $7)
		RETURNING id, plan_id, kind, status, reason, total_cents, employees, credited, last_error, created_at, finished_at`,
		plan, company, kind, reason, total, len(lines), by)
	if err != nil {
		return Allocation{}, db.MapError(err, "allocation")
	}
	users, amounts, bases := make([]uuid.UUID, len(lines)), make([]int64, len(lines)), make([]string, len(lines))
	for i, l := range lines {
		users[i], amounts[i], bases[i] = l.UserID, l.AmountCents, l.Basis
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO welfare_allocation_items (allocation_id, user_id, amount_cents, basis)
		SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::text[])`, a.ID, pq.Array(users), pq.Array(amounts), pq.Array(bases))
	if err != nil {
		return Allocation{}, db.MapError(err, "allocation lines")
	}
	return a, nil
}

// holdRest places the allocation's hold number a.HoldSeq for amount on the
// budget and returns its transaction.
func holdRest(ctx context.Context, tx *sqlx.Tx, a allocRow, amount int64) (int64, error) {
	res, err := ledger.Hold(ctx, tx, ledger.HoldRequest{ExpiresAt: time.Now().Add(holdLife), Request: ledger.Request{
		Key: fmt.Sprintf("plans:allocation:%s:hold:%d", a.ID, a.HoldSeq), Kind: "allocation_hold", Reference: a.ID.String(),
		Metadata: map[string]any{"plan_id": a.PlanID.String(), "allocation_id": a.ID.String()},
		Postings: []ledger.Posting{{From: budgetAccount(a.CompanyID), To: allocatingAccount(a.CompanyID), Amount: amount}},
	}})
	if err != nil {
		return 0, shortfall(err)
	}
	return res.TxID, nil
}

// shortfall turns the ledger's refusal of a budget debit into the error
// HR reads: how much is missing.
func shortfall(err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.InsufficientFunds {
		return err
	}
	avail, _ := ae.Fields["available"].(int64)
	req, _ := ae.Fields["required"].(int64)
	missing := req - avail
	return apperr.New(apperr.InsufficientFunds, "the budget does not cover this: %s is missing", euro(missing)).
		With("missing_cents", missing).With("available_cents", avail).With("required_cents", req)
}

// euro formats cents for messages: €1.234,56.
func euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole, frac := cents/100, cents%100
	s := fmt.Sprint(whole)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return fmt.Sprintf("%s€%s,%02d", sign, s, frac)
}

// GetAllocation returns an allocation of the caller's company: its
// progress (credited of employees) and status.
func (s *Service) GetAllocation(ctx context.Context, p *auth.Principal, id uuid.UUID) (Allocation, error) {
	company, err := companyOf(p)
	if err != nil {
		return Allocation{}, err
	}
	var r allocRow
	err = s.db.GetContext(ctx, &r, `SELECT `+allocCols+` FROM welfare_allocations WHERE id = $1 AND company_id = $2`, id, company)
	return r.Allocation, db.MapError(err, "allocation")
}

// Allocations lists a plan's allocations, newest first.
func (s *Service) Allocations(ctx context.Context, p *auth.Principal, plan uuid.UUID) ([]Allocation, error) {
	company, err := companyOf(p)
	if err != nil {
		return nil, err
	}
	var rows []allocRow
	err = s.db.SelectContext(ctx, &rows, `SELECT `+allocCols+` FROM welfare_allocations WHERE plan_id = $1 AND company_id = $2
		ORDER BY created_at DESC`, plan, company)
	out := make([]Allocation, len(rows))
	for i, r := range rows {
		out[i] = r.Allocation
	}
	return out, db.MapError(err, "allocations")
}
