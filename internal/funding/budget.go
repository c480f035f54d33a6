package funding

import (
	"context"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Budget is a company's unallocated budget as the ledger has it.
type Budget struct {
	CompanyID uuid.UUID
	Company   string
	// Available is what can be allocated now: Posted − PendingOut.
	Available  int64
	Posted     int64
	PendingOut int64
	// OpenItems are what the company owes, unresolved first.
	OpenItems []OpenItem
}

// company resolves whose budget a caller reads: a company admin's own, or
// the one a platform admin names (required for them).
func (s *Service) company(p *auth.Principal, asked uuid.UUID) (uuid.UUID, error) {
	c, err := scopeCompany(p, asked)
	if err == nil && c == uuid.Nil {
		return uuid.Nil, invalidField("company_id", "name the company")
	}
	return c, err
}

// Budget returns a company's budget and its open items.
//
// Errors: unauthorized, forbidden, invalid (company_id), not_found.
func (s *Service) Budget(ctx context.Context, p *auth.Principal, asked uuid.UUID) (Budget, error) {
	c, err := s.company(p, asked)
	if err != nil {
		return Budget{}, err
	}
	b := Budget{CompanyID: c}
	if err := s.db.GetContext(ctx, &b.Company, `SELECT name FROM organisations WHERE id = $1 AND kind = 'company'`, c); err != nil {
		return Budget{}, db.MapError(err, "company")
	}
	bal, err := ledger.GetBalance(ctx, s.db, BudgetAccount(c))
	switch {
	case apperr.Is(err, apperr.NotFound): // never funded: zero
	case err != nil:
		return Budget{}, err
	default:
		b.Available, b.Posted, b.PendingOut = bal.Available, bal.Posted, bal.PendingOut
	}
	b.OpenItems, err = s.OpenItems(ctx, p, c, false)
	return b, err
}

// Movement is one change of a budget.
type Movement = ledger.Entry

// Movements lists a company's budget movements newest first, limit at a
// time, from the cursor before (0: the newest); it returns the next cursor
// (0: no more).
func (s *Service) Movements(ctx context.Context, p *auth.Principal, asked uuid.UUID, before int64, limit int) ([]Movement, int64, error) {
	c, err := s.company(p, asked)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 50
	}
	out, next, err := ledger.Entries(ctx, s.db, BudgetAccount(c), before, limit)
	if apperr.Is(err, apperr.NotFound) {
		return []Movement{}, 0, nil
	}
	return out, next, err
}
