package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// market is what a booking in the browser starts from: the split policy in
// force (10% to the fund, 5% fee), a provider the platform approved, and an
// employee whose wallet holds credits.
type market struct {
	k                 *identitytest.Kit
	staff, admin, emp *identitytest.User
}

// newMarket signs up the three people and approves the provider as
// legalName with the given VAT number's first ten digits.
func newMarket(t *testing.T, a *app.App, legalName string, form catalog.LegalForm, vat10 string) market {
	t.Helper()
	k := identitytest.New(t, a.DB, a.Identity)
	m := market{k: k, staff: k.As(auth.OrgProvider, auth.RoleProviderStaff), admin: k.As(auth.OrgPlatform, auth.RolePlatformAdmin),
		emp: k.As(auth.OrgCompany, auth.RoleEmployee)}
	bg := context.Background()
	if _, err := ledger.CreatePolicy(bg, a.DB, ledger.SplitPolicy{Name: redemption.DefaultPolicy, ValidFrom: time.Unix(0, 0),
		FundBps: 1000, FeeBps: 500, RemainderTo: ledger.ToProvider}); err != nil {
		t.Fatal(err)
	}
	vat := catalog.CompleteVAT(vat10)
	if _, err := a.Catalog.SaveProfile(bg, m.staff.Principal(), m.staff.Org.ID, catalog.ProfileInput{LegalName: legalName,
		LegalForm: form, VATNumber: vat, FiscalCode: vat, PlaceCode: "097042", Email: "erogatore@test.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.ReviewProvider(bg, m.admin.Principal(), m.staff.Org.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	return m
}

// credit puts amount cents in the employee's wallet, spendable in the given
// categories (all of them when none is named).
func (m market) credit(t *testing.T, a *app.App, amount int64, categories ...string) {
	t.Helper()
	bg := context.Background()
	for _, spec := range []ledger.AccountSpec{{Path: "platform:bank", Kind: ledger.Asset}, redemption.WalletSpec(m.emp.ID)} {
		if _, err := ledger.CreateAccount(bg, a.DB, spec); err != nil {
			t.Fatal(err)
		}
	}
	p := ledger.Posting{From: "platform:bank", To: redemption.WalletPath(m.emp.ID), Amount: amount}
	if len(categories) > 0 {
		p.Lot = &ledger.LotSpec{Categories: categories}
	}
	if _, err := ledger.Post(bg, a.DB, ledger.Request{Key: "e2e-credit-" + m.emp.ID.String(), Postings: []ledger.Posting{p}}); err != nil {
		t.Fatal(err)
	}
}
