package plans_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}

// fixture is one test database with the plans service running as the
// app's role, one company and its HR administrator.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      *sqlx.DB // the app's role
	admin   *sqlx.DB // the schema's owner: ledger verify
	svc     *plans.Service
	kit     *identitytest.Kit
	company identitytest.Org
	hr      *identitytest.User
	n       atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	url := dbtest.New(t)
	admin, err := db.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	app := dbtest.OpenApp(t, url)
	f := &fixture{t: t, ctx: context.Background(), db: app, admin: admin, svc: plans.New(app, "http://reciproca.test"),
		kit: identitytest.New(t, app, nil)}
	f.company = f.kit.Org(auth.OrgCompany, "")
	f.hr = f.kit.User(f.company, auth.RoleCompanyAdmin)
	return f
}

func (f *fixture) hrp() *auth.Principal { return f.hr.Principal() }

// fund tops the company's budget up by cents, as the funding domain's
// bank transfer will: platform:bank → company:{id}:budget.
func (f *fixture) fund(company uuid.UUID, cents int64) {
	f.t.Helper()
	if _, err := ledger.CreateAccount(f.ctx, f.db, ledger.AccountSpec{Path: "platform:bank", Kind: ledger.Asset}); err != nil {
		f.t.Fatal(err)
	}
	if err := plans.EnsureBudget(f.ctx, f.db, company); err != nil {
		f.t.Fatal(err)
	}
	if _, err := ledger.Post(f.ctx, f.db, ledger.Request{Key: fmt.Sprintf("test-topup-%s-%d", company, f.n.Add(1)), Kind: "topup",
		Postings: []ledger.Posting{{From: "platform:bank", To: "company:" + company.String() + ":budget", Amount: cents}}}); err != nil {
		f.t.Fatal(err)
	}
}

// category creates a homogeneous category of the company.
func (f *fixture) category(code string) {
	f.t.Helper()
	if _, err := f.svc.SaveCategory(f.ctx, f.hrp(), code, "Categoria "+code); err != nil {
		f.t.Fatal(err)
	}
}

// employee creates an employee of the company in category with HR data.
func (f *fixture) employee(category string, edit func(*plans.EmployeeInput)) *identitytest.User {
	f.t.Helper()
	u := f.kit.User(f.company, auth.RoleEmployee)
	in := plans.EmployeeInput{UserID: u.ID, Category: category, EmployeeNumber: fmt.Sprint(f.n.Add(1))}
	if edit != nil {
		edit(&in)
	}
	if _, err := f.svc.SaveEmployee(f.ctx, f.hrp(), in); err != nil {
		f.t.Fatal(err)
	}
	return u
}

var rome, _ = time.LoadLocation("Europe/Rome")

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// thisYear is a plan input for the current year, sport and culture,
// residual back to the budget, with rules.
func thisYear(rules map[string]int64) plans.PlanInput {
	y := time.Now().Year()
	return plans.PlanInput{Name: fmt.Sprintf("Welfare %d", y), Year: y, StartsOn: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC),
		EndsOn: time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC), Categories: []string{"sport", "culture"},
		ResidualPolicy: plans.ResidualReturn, Rules: rules}
}

func (f *fixture) plan(in plans.PlanInput) plans.Plan {
	f.t.Helper()
	pl, err := f.svc.CreatePlan(f.ctx, f.hrp(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	return pl
}

func (f *fixture) balance(path string) ledger.Balance {
	f.t.Helper()
	b, err := ledger.GetBalance(f.ctx, f.db, path)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) budget() ledger.Balance {
	return f.balance("company:" + f.company.ID.String() + ":budget")
}

func (f *fixture) lots(user uuid.UUID) []ledger.Lot {
	f.t.Helper()
	lots, err := ledger.Lots(f.ctx, f.db, "employee:"+user.String()+":wallet")
	if err != nil {
		f.t.Fatal(err)
	}
	return lots
}

// verify runs every ledger invariant check.
func (f *fixture) verify() {
	f.t.Helper()
	rep, err := ledger.Verify(f.ctx, f.admin)
	if err != nil {
		f.t.Fatal(err)
	}
	if !rep.OK {
		var b bytes.Buffer
		rep.Write(&b)
		f.t.Fatalf("ledger verify failed:\n%s", b.String())
	}
}

// mails counts the outbox's mails to addr.
func (f *fixture) mails(addr string) int {
	f.t.Helper()
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM mail_outbox WHERE to_addr = $1`, addr); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// newFixtureSharing is a second company (and its HR admin) in f's database.
func newFixtureSharing(f *fixture) *fixture {
	g := &fixture{t: f.t, ctx: f.ctx, db: f.db, admin: f.admin, svc: f.svc, kit: f.kit}
	g.company = f.kit.Org(auth.OrgCompany, "")
	g.hr = f.kit.User(g.company, auth.RoleCompanyAdmin)
	return g
}
