package seed

import (
	"context"
	"testing"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Both demo companies have a funded budget and an ordinary plan whose
// credits every demo employee holds, some expiring within days; one has a
// PdR plan; the books balance; seeding again changes nothing.
func TestPlansSeed(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	if _, err := Run(ctx, dbx); err != nil {
		t.Fatal(err)
	}
	var perEmployee []struct {
		Email string `db:"email"`
		Plans int    `db:"plans"`
		Soon  int    `db:"soon"`
	}
	if err := dbx.Select(&perEmployee, `SELECT u.email::text AS email,
			count(DISTINCT l.attrs->>'plan_id') AS plans,
			count(*) FILTER (WHERE l.expires_at < now() + interval '30 days') AS soon
		FROM employees e JOIN users u ON u.id = e.user_id
		JOIN ledger_accounts a ON a.path = 'employee:' || u.id || ':wallet'
		JOIN ledger_lots l ON l.account_id = a.id AND l.attrs ? 'plan_id'
		GROUP BY u.email`); err != nil {
		t.Fatal(err)
	}
	if len(perEmployee) != len(demoHR) {
		t.Fatalf("%d demo employees hold plan credits, want %d: %+v", len(perEmployee), len(demoHR), perEmployee)
	}
	for _, e := range perEmployee {
		if e.Plans != 2 || e.Soon < 1 {
			t.Errorf("%s holds credits of %d plans, %d expiring within 30 days; want 2 plans, one close to expiry", e.Email, e.Plans, e.Soon)
		}
	}
	var pdr int
	if err := dbx.Get(&pdr, `SELECT count(*) FROM welfare_plans WHERE kind = 'pdr' AND company_id = $1`, OrgCompanyA); err != nil || pdr != 1 {
		t.Fatalf("PdR plans of Officine Brianza: %d %v", pdr, err)
	}
	if n, err := Run(ctx, dbx); err != nil || n != 0 {
		t.Fatalf("seeding again loaded %d sets (%v)", n, err)
	}
	rep, err := ledger.Verify(ctx, dbx)
	if err != nil || !rep.OK {
		t.Fatalf("ledger verify after the demo data: %v %v", rep.OK, err)
	}
}
