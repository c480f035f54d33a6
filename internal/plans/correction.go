package plans

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/mail"
)

// CorrectionInput is a one-off credit to one employee from a plan, outside
// its rule (a late hire, a mistake put right). It must say why.
type CorrectionInput struct {
	UserID      uuid.UUID
	AmountCents int64
	Reason      string
}

// Correct credits one employee from plan id at once, with a reason: one
// ledger transaction from the budget (no hold: it is a single posting).
// The budget short is insufficient_funds with details.missing_cents.
// Retrying with the same key returns the same correction.
//
// Errors: forbidden, not_found (plan, employee of another company),
// invalid, conflict (plan closed), insufficient_funds.
func (s *Service) Correct(ctx context.Context, p *auth.Principal, id uuid.UUID, in CorrectionInput, key string) (Allocation, error) {
	company, err := companyOf(p)
	if err != nil {
		return Allocation{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.AmountCents <= 0 || in.AmountCents > MaxRuleAmount:
		return Allocation{}, invalid("amount_cents", "a correction is between 1 cent and €1,000,000")
	case in.Reason == "" || len([]rune(in.Reason)) > 500:
		return Allocation{}, invalid("reason", "a correction needs a reason (at most 500 characters)")
	}
	var out Allocation
	_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "plans.correct"}, key, struct {
		Plan uuid.UUID
		In   CorrectionInput
	}{id, in}, &out, func(tx *sqlx.Tx) error {
		pl, err := s.lockPlan(ctx, tx, company, id)
		if err != nil {
			return err
		}
		if err := pl.allocatable(); err != nil {
			return err
		}
		if pl.Kind == PdR {
			return invalid("plan", "a PdR plan's credits are each employee's own choice: no corrections")
		}
		var it chunkItem
		var leaves *time.Time
		if err := tx.QueryRowxContext(ctx, `SELECT e.user_id, u.email::text, u.name, e.leaves_on FROM employees e JOIN users u ON u.id = e.user_id
			WHERE e.user_id = $1 AND e.company_id = $2`, in.UserID, company).Scan(&it.UserID, &it.Email, &it.Name, &leaves); err != nil {
			return db.MapError(err, "employee")
		}
		if leaves != nil && leaves.Before(today()) {
			return invalid("user_id", "the employee left on %s: no more credits", leaves.Format("02/01/2006")).With("reason", "left")
		}
		it.Amount = in.AmountCents
		if err := EnsureBudget(ctx, tx, company); err != nil {
			return err
		}
		a, err := insertAllocation(ctx, tx, company, id, "correction", in.Reason, p.UserID,
			[]Line{{UserID: it.UserID, AmountCents: in.AmountCents, Basis: "correction"}}, in.AmountCents)
		if err != nil {
			return err
		}
		row := allocRow{Allocation: a, CompanyID: company}
		if _, err := s.credit(ctx, tx, row, pl, []chunkItem{it}); err != nil {
			var refused *refusal
			if errors.As(err, &refused) {
				return shortfall(refused.err)
			}
			return err
		}
		if err := tx.GetContext(ctx, &out, `UPDATE welfare_allocations SET status = 'done', credited = 1, finished_at = now()
			WHERE id = $1 RETURNING id, plan_id, kind, status, reason, total_cents, employees, credited, last_error, created_at, finished_at`, a.ID); err != nil {
			return err
		}
		return mail.EnqueueAll(ctx, tx, s.creditMails(pl, []chunkItem{it}))
	})
	return out, err
}
