package seed

import (
	"context"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/funding"
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
	var chosen int
	if err := dbx.Get(&chosen, `SELECT count(convert_cents) FROM pdr_bonuses b JOIN welfare_plans p ON p.id = b.plan_id
		WHERE p.company_id = $1`, OrgCompanyA); err != nil || chosen != 1 {
		t.Fatalf("demo PdR choices: %d %v, want one", chosen, err)
	}
	// Every euro the demo data spends is a top-up the funding domain
	// explains: no data set posts to a budget on its own.
	y, m, _ := time.Now().Date()
	from := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	r, err := funding.New(dbx, nil, funding.Settings{}).Reconcile(ctx, &auth.Principal{OrgKind: auth.OrgPlatform, Roles: []auth.Role{auth.RolePlatformAdmin}},
		from, time.Now().AddDate(0, 0, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Differences {
		t.Errorf("the demo data reconciles with a difference: %+v", d)
	}
	if n, err := Run(ctx, dbx); err != nil || n != 0 {
		t.Fatalf("seeding again loaded %d sets (%v)", n, err)
	}
	rep, err := ledger.Verify(ctx, dbx)
	if err != nil || !rep.OK {
		t.Fatalf("ledger verify after the demo data: %v %v", rep.OK, err)
	}
}
