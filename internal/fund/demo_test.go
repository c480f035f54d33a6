package fund_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/seed"
)

// The demo data: one fund with its envelopes, a dozen cases in every
// state, payments whose attribution names both demo companies, and a
// ledger that verifies.
func TestDemoData(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	if _, err := seed.Run(t.Context(), a.DB); err != nil {
		t.Fatal(err)
	}
	if n, err := seed.Run(t.Context(), a.DB); err != nil || n != 0 {
		t.Fatalf("seeding again loaded %d sets, %v", n, err)
	}
	var states map[string]int = map[string]int{}
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := a.DB.Select(&rows, `SELECT status, count(*) AS n FROM fund_cases WHERE fund_id = $1 GROUP BY status`, seed.OrgFund); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		states[r.Status] = r.N
	}
	if states["open"] == 0 || states["active"] == 0 || states["closed"] == 0 || states["open"]+states["active"]+states["closed"] < 12 {
		t.Fatalf("demo cases by state: %v", states)
	}
	var companies []string
	if err := a.DB.Select(&companies, `SELECT DISTINCT company_id FROM fund_disbursement_lots ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(companies) != 2 {
		t.Fatalf("demo payments attributed to %v, want both demo companies", companies)
	}
	manager := &auth.Principal{UserID: seedUser(t, a.DB, "gestore@fondobrianza.example"), OrgID: seed.OrgFund, OrgKind: auth.OrgFund,
		Roles: []auth.Role{auth.RoleFundManager}}
	d, err := a.Fund.Dashboard(t.Context(), manager)
	if err != nil || len(d.Envelopes) != 5 || d.Pool.Available <= 0 {
		t.Fatalf("demo dashboard %+v %v", d, err)
	}
	rep, err := ledger.Verify(t.Context(), a.DB)
	if err != nil || !rep.OK {
		t.Fatalf("ledger verify after the demo data: %+v %v", rep, err)
	}
}

func seedUser(t *testing.T, db *sqlx.DB, email string) (id uuid.UUID) {
	t.Helper()
	if err := db.Get(&id, `SELECT id FROM users WHERE email = $1`, email); err != nil {
		t.Fatal(err)
	}
	return id
}
