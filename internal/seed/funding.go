package seed

import (
	"context"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/funding"
)

// fundingSet gives both demo companies a funded budget, paid by card
// through the top-up state machine (funding.SeedCardTopUp), so the plans
// data set can allocate from it: Officine Brianza €50,000, Studio Verdi
// €20,000.
var fundingSet = set{
	name: "funding-v1",
	load: loadFunding,
}

// The demo top-ups have fixed ids, like the organisations.
var (
	demoTopUpA = uuid.MustParse("0d000000-0000-4000-8000-0000000011a1")
	demoTopUpB = uuid.MustParse("0d000000-0000-4000-8000-0000000011a2")
)

func loadFunding(ctx context.Context, tx *sqlx.Tx) error {
	for _, d := range []struct {
		id, company uuid.UUID
		admin       string
		amount      int64
	}{
		{demoTopUpA, OrgCompanyA, "hr@officinebrianza.example", 50_000_00},
		{demoTopUpB, OrgCompanyB, "hr@studioverdi.example", 20_000_00},
	} {
		var admin uuid.UUID
		if err := tx.GetContext(ctx, &admin, `SELECT id FROM users WHERE email = $1`, d.admin); err != nil {
			return err
		}
		if err := funding.SeedCardTopUp(ctx, tx, d.id, d.company, admin, d.amount); err != nil {
			return err
		}
	}
	return nil
}
