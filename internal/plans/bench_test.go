package plans_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// BenchmarkAllocation allocates one plan to ALLOCATION_BENCH_EMPLOYEES
// (default 10,000) employees through the API, end to end: from the POST
// that holds the budget to the allocation reported done, every credit a
// ledger transaction with its lot and a mail in the outbox. Then ledger
// verify must pass. `make bench-allocation`; results in docs/benchmarks.md.
func BenchmarkAllocation(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("ALLOCATION_BENCH_EMPLOYEES")); err == nil && v > 0 {
		n = v
	}
	url := dbtest.New(b)
	a := apptest.StartWith(b, apptest.Config(url))
	k := identitytest.New(b, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Bench")
	hr := k.User(company, auth.RoleCompanyAdmin)
	tok := k.Token(hr)
	ctx := context.Background()
	owner, err := db.Open(ctx, url, 2)
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()

	setup := time.Now()
	var cat uuid.UUID
	if err := a.DB.Get(&cat, `INSERT INTO employee_categories (company_id, code, name) VALUES ($1, 'impiegati', 'Impiegati') RETURNING id`, company.ID); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	emails := make([]string, n)
	for i := range ids {
		ids[i] = uuid.New()
		emails[i] = fmt.Sprintf("bench.%d.%s@test.example", i, ids[i].String()[:8])
	}
	if _, err := a.DB.Exec(`INSERT INTO users (id, organisation_id, email, name, status)
		SELECT u, $2, e, 'Dipendente ' || i, 'active' FROM unnest($1::uuid[], $3::text[]) WITH ORDINALITY AS x(u, e, i)`,
		pq.Array(ids), company.ID, pq.Array(emails)); err != nil {
		b.Fatal(err)
	}
	if _, err := a.DB.Exec(`INSERT INTO user_roles (user_id, role) SELECT u, 'employee' FROM unnest($1::uuid[]) u`, pq.Array(ids)); err != nil {
		b.Fatal(err)
	}
	if _, err := a.DB.Exec(`INSERT INTO employees (user_id, company_id, category_id) SELECT u, $2, $3 FROM unnest($1::uuid[]) u`,
		pq.Array(ids), company.ID, cat); err != nil {
		b.Fatal(err)
	}
	zero := int64(0)
	for _, id := range ids { // as SaveEmployee does for each employee
		if _, err := ledger.CreateAccount(ctx, a.DB, ledger.AccountSpec{Path: "employee:" + id.String() + ":wallet", Kind: ledger.Liability, Floor: &zero, Lots: true}); err != nil {
			b.Fatal(err)
		}
	}
	fundBudget(b, a, company.ID.String(), int64(n)*500_00)
	y := time.Now().Year()
	var pl map[string]any
	if st := call(b, a, "POST", "/plans", tok, map[string]any{"name": "Bench", "plan_year": y, "starts_on": fmt.Sprintf("%d-01-01", y),
		"ends_on": fmt.Sprintf("%d-12-31", y), "categories": []string{"sport", "culture"}, "residual_policy": "return",
		"rules": []map[string]any{{"category": "impiegati", "amount_cents": 500_00}}}, &pl); st != 201 {
		b.Fatalf("plan: %d %v", st, pl)
	}
	b.Logf("setup: %d employees in %v", n, time.Since(setup).Round(time.Millisecond))
	rows := func() int64 {
		var r int64
		if err := owner.Get(&r, `SELECT (SELECT count(*) FROM ledger_transactions) + (SELECT count(*) FROM ledger_entries)
			+ (SELECT count(*) FROM ledger_lots) + (SELECT count(*) FROM ledger_lot_moves)`); err != nil {
			b.Fatal(err)
		}
		return r
	}
	before := rows()

	b.ResetTimer()
	start := time.Now()
	var alloc map[string]any
	if st := call(b, a, "POST", "/plans/"+pl["id"].(string)+"/allocations", tok, nil, &alloc, "Idempotency-Key", "bench"); st != 202 {
		b.Fatalf("allocation: %d %v", st, alloc)
	}
	held := time.Since(start)
	for alloc["status"] == "running" {
		time.Sleep(10 * time.Millisecond)
		call(b, a, "GET", "/allocations/"+alloc["id"].(string), tok, nil, &alloc)
	}
	took := time.Since(start)
	b.StopTimer()
	if alloc["status"] != "done" || alloc["credited"] != float64(n) {
		b.Fatalf("allocation ended %v", alloc)
	}
	written := rows() - before
	b.ReportMetric(took.Seconds(), "s/allocation")
	b.ReportMetric(float64(written)/took.Seconds(), "ledger-rows/s")
	b.Logf("allocation to %d employees: %v end to end (budget held after %v); %d ledger rows (transactions, entries, lots, lot moves), %.0f rows/s",
		n, took.Round(time.Millisecond), held.Round(time.Millisecond), written, float64(written)/took.Seconds())
	vstart := time.Now()
	rep, err := ledger.Verify(ctx, owner)
	if err != nil || !rep.OK {
		b.Fatalf("ledger verify after the allocation: ok=%v err=%v", rep.OK, err)
	}
	b.Logf("ledger verify: ok in %v", time.Since(vstart).Round(time.Millisecond))
}
