package plans

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// pdrResidualAccount holds a company's unused PdR credit: owed back to
// the employees through payroll or to the supplementary pension fund, as
// the plan's agreement says, by export. Never the welfare budget.
func pdrResidualAccount(company uuid.UUID) string {
	return fmt.Sprintf("company:%s:pdr-residual", company)
}

// SweepExpiredLots disposes of up to limit expired wallet lots by their
// plan's residual policy (the worker's job, in place of the ledger's
// undecided default):
//
//   - return: back to the company budget;
//   - carry_over: a new lot with the same categories until the plan's
//     carry_over_until; a lot that was itself carried over, one whose
//     carry-over date has passed too, or one of an employee who left,
//     returns to the budget;
//   - donate: to the inclusion fund's pool, a contributor lot keeping the
//     lot's attributes (company, plan): a collective welfare measure
//     attributed to the company;
//   - PdR plans (pension_fund, payroll): to company:{id}:pdr-residual,
//     settled by export; never the budget, never the fund.
//
// A lot that belongs to no plan is left where it is and reported: nothing
// here may guess what happens to it.
func (s *Service) SweepExpiredLots(ctx context.Context, limit int) (int, error) {
	plans := map[uuid.UUID]Plan{}
	return ledger.SweepExpiredLots(ctx, s.db, limit, func(l ledger.Lot) (ledger.Disposition, error) {
		return s.decide(ctx, l, plans)
	})
}

func (s *Service) decide(ctx context.Context, l ledger.Lot, cache map[uuid.UUID]Plan) (ledger.Disposition, error) {
	raw, _ := l.Attrs["plan_id"].(string)
	id, err := uuid.Parse(raw)
	if err != nil {
		return ledger.Disposition{}, fmt.Errorf("expired lot %d of %s belongs to no plan", l.ID, l.Account)
	}
	pl, ok := cache[id]
	if !ok {
		var company uuid.UUID
		if err := s.db.GetContext(ctx, &company, `SELECT company_id FROM welfare_plans WHERE id = $1`, id); err != nil {
			return ledger.Disposition{}, db.MapError(err, "plan of expired lot")
		}
		if pl, err = s.plan(ctx, s.db, company, id); err != nil {
			return ledger.Disposition{}, err
		}
		cache[id] = pl
	}
	back := ledger.Disposition{Action: ledger.Return, To: budgetAccount(pl.CompanyID)}
	switch pl.ResidualPolicy {
	case ResidualReturn:
		return back, nil
	case ResidualCarryOver:
		if l.ParentID != nil || pl.CarryOverUntil == nil || !endOfDay(*pl.CarryOverUntil).After(time.Now()) {
			return back, nil
		}
		if left, err := s.hasLeft(ctx, l.Account, time.Now()); err != nil || left {
			return back, err // nobody to carry a leaver's credits over for
		}
		return ledger.Disposition{Action: ledger.CarryOver, ExpiresAt: endOfDay(*pl.CarryOverUntil)}, nil
	case ResidualDonate:
		if s.fundPool == nil {
			return ledger.Disposition{}, fmt.Errorf("expired lot %d: no inclusion fund pool is configured to receive donations", l.ID)
		}
		pool, err := s.fundPool(ctx)
		if err != nil {
			return ledger.Disposition{}, fmt.Errorf("expired lot %d: finding the inclusion fund's pool: %w", l.ID, err)
		}
		return ledger.Disposition{Action: ledger.Donate, To: pool}, nil
	case ResidualPensionFund, ResidualPayroll:
		path := pdrResidualAccount(pl.CompanyID)
		if _, err := ledger.CreateAccount(ctx, s.db, ledger.AccountSpec{Path: path, Kind: ledger.Liability, Floor: &zero}); err != nil {
			return ledger.Disposition{}, err
		}
		return ledger.Disposition{Action: ledger.Return, To: path}, nil
	}
	return ledger.Disposition{}, fmt.Errorf("plan %s has an unknown residual policy %q", pl.ID, pl.ResidualPolicy)
}
