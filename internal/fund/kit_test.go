package fund_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// kit is a running app with one fund and its staff, two companies, and
// another fund (a hostile tenant).
type kit struct {
	a                    *app.App
	k                    *identitytest.Kit
	ctx                  context.Context
	fund, otherFund      identitytest.Org
	companyA, companyB   identitytest.Org
	manager, approver    *identitytest.User
	approver2, worker    *identitytest.User
	worker2, otherWorker *identitytest.User
	otherManager, hr     *identitytest.User
}

func newKit(t *testing.T) *kit {
	t.Helper()
	return newKitOn(t, apptest.Start(t))
}

// newKitOn is the kit on an app the test started itself (without its
// worker, say, when the test runs a job by hand).
func newKitOn(t *testing.T, a *app.App) *kit {
	t.Helper()
	k := identitytest.New(t, a.DB, a.Identity)
	x := &kit{a: a, k: k, ctx: context.Background()}
	x.fund = k.Org(auth.OrgFund, "Fondo di prova")
	x.otherFund = k.Org(auth.OrgFund, "Altro fondo")
	x.companyA = k.Org(auth.OrgCompany, "Azienda A")
	x.companyB = k.Org(auth.OrgCompany, "Azienda B")
	x.manager = k.User(x.fund, auth.RoleFundManager)
	x.approver = k.User(x.fund, auth.RoleFundApprover)
	x.approver2 = k.User(x.fund, auth.RoleFundApprover)
	x.worker = k.User(x.fund, auth.RoleCaseWorker)
	x.worker2 = k.User(x.fund, auth.RoleCaseWorker)
	x.otherWorker = k.User(x.otherFund, auth.RoleCaseWorker)
	x.otherManager = k.User(x.otherFund, auth.RoleFundManager)
	x.hr = k.User(x.companyA, auth.RoleCompanyAdmin)
	return x
}

func (x *kit) svc() *fund.Service { return x.a.Fund }

// envelope creates theme with cap and earmarks amount into it.
func (x *kit) envelope(t *testing.T, theme fund.Theme, cap, amount int64) {
	t.Helper()
	if _, err := x.svc().SetEnvelope(x.ctx, x.manager.Principal(), theme, cap); err != nil {
		t.Fatal(err)
	}
	if amount > 0 {
		if _, err := x.svc().Earmark(x.ctx, x.manager.Principal(), theme, amount, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func balance(t *testing.T, x *kit, path string) int64 {
	t.Helper()
	b, err := ledger.GetBalance(x.ctx, x.a.DB, path)
	if err != nil {
		t.Fatal(err)
	}
	return b.Available
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// post submits a form and, when the answer is a redirect, follows it.
func post(t *testing.T, web *identitytest.Browser, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, body := web.PostForm(path, form)
	if res.StatusCode == http.StatusSeeOther {
		return web.Get(res.Header.Get("Location"))
	}
	return res, body
}
