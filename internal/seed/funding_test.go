package seed

import (
	"context"
	"testing"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/funding"
)

// Both demo companies have a funded budget, paid through the top-up state
// machine (a paid card top-up and its ledger credit to the budget);
// loading again credits nothing twice.
func TestFundingSeed(t *testing.T) {
	app := dbtest.OpenApp(t, dbtest.New(t))
	ctx := context.Background()
	for range 2 {
		if _, err := Run(ctx, app); err != nil {
			t.Fatal(err)
		}
	}
	for company, want := range map[string]int64{OrgCompanyA.String(): 50_000_00, OrgCompanyB.String(): 20_000_00} {
		var credited, posted int64
		var n int
		err := app.QueryRow(`SELECT count(*), coalesce(sum(t.credited), 0),
				coalesce(sum((SELECT sum(e.amount) FROM ledger_transactions x JOIN ledger_entries e ON e.tx_id = x.id
				  JOIN ledger_accounts a ON a.id = e.account_id
				  WHERE x.idempotency_key = 'topup:' || t.id || ':credit' AND a.path = $2)), 0)
			FROM funding_topups t WHERE t.company_id = $1 AND t.status = 'paid'`, company, "company:"+company+":budget").Scan(&n, &credited, &posted)
		if err != nil || n != 1 || credited != want || posted != want {
			t.Fatalf("%s: %d paid top-ups, %d credited, %d posted to the budget (%v); want one of %d", company, n, credited, posted, err, want)
		}
	}
	if funding.BudgetAccount(OrgCompanyA) != "company:"+OrgCompanyA.String()+":budget" {
		t.Fatal("the budget account's name changed")
	}
}
