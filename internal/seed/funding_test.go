package seed

import (
	"context"
	"testing"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Both demo companies have a funded budget, paid through the top-up state
// machine; loading again credits nothing twice, and the ledger verifies.
func TestFundingSeed(t *testing.T) {
	url := dbtest.New(t)
	app := dbtest.OpenApp(t, url)
	ctx := context.Background()
	for range 2 {
		if _, err := Run(ctx, app); err != nil {
			t.Fatal(err)
		}
	}
	for company, want := range map[string]int64{funding.BudgetAccount(OrgCompanyA): 50_000_00, funding.BudgetAccount(OrgCompanyB): 20_000_00} {
		b, err := ledger.GetBalance(ctx, app, company)
		if err != nil || b.Available != want {
			t.Fatalf("%s: %d (%v), want %d", company, b.Available, err, want)
		}
	}
	var paid int
	if err := app.Get(&paid, `SELECT count(*) FROM funding_topups WHERE status = 'paid' AND credited = amount`); err != nil || paid != 2 {
		t.Fatalf("%d paid top-ups (%v)", paid, err)
	}
}
