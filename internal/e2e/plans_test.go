package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/mail/mailtest"
	"github.com/reciproca/reciproca/internal/plans"
)

// The welfare journey end to end: an HR admin tops the budget up by card
// (stripe-mock gives the Checkout Session, the test delivers Stripe's
// signed webhook), creates a plan on the web and allocates it to every
// employee; the employee gets the mail (Mailpit) and, signed in, sees the
// credit with its categories and expiry on /portafoglio. Every page is
// checked with axe.
func TestWelfareJourneyFromTopUpToWallet(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Officina Test")
	hr := k.User(company, auth.RoleCompanyAdmin)
	emp := k.User(company, auth.RoleEmployee)
	if _, err := a.Plans.SaveCategory(t.Context(), hr.Principal(), "impiegati", "Impiegati"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Plans.SaveEmployee(t.Context(), hr.Principal(), plans.EmployeeInput{UserID: emp.ID, Category: "impiegati"}); err != nil {
		t.Fatal(err)
	}
	ctx := Browser(t, 150*time.Second)
	base := a.URL()

	// The top-up by card.
	err := chromedp.Run(ctx,
		signInAs(k, base, hr),
		chromedp.Navigate(base+"/budget"),
		chromedp.WaitVisible("#topup-form", chromedp.ByID),
		checkA11y(t),
		chromedp.SendKeys("#amount", "500,00", chromedp.ByID),
		chromedp.Click("#channel-card", chromedp.ByID),
		chromedp.Click("#topup-submit", chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for deadline := time.Now().Add(20 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_ = a.DB.Get(&id, `SELECT id::text FROM funding_topups WHERE company_id = $1 AND checkout_url IS NOT NULL`, company.ID)
	}
	if id == "" {
		t.Fatal("no top-up with a Checkout Session")
	}
	deliverPaid(t, base, a.Config.StripeWebhookSecret, id, 500_00)
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/budget/ricariche/"+id),
		chromedp.WaitVisible("#topup-receipt", chromedp.ByID),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}

	// The plan, on the web, then its allocation.
	y := time.Now().Year()
	var allocated, progress string
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/azienda/piani/nuovo"),
		chromedp.WaitVisible("#plan-form", chromedp.ByID),
		checkA11y(t),
		chromedp.SendKeys("#name", "Welfare e2e", chromedp.ByID),
		chromedp.Click(`input[name="categories"][value="sport"]`, chromedp.ByQuery),
		chromedp.SendKeys("#amount_impiegati", "250,00", chromedp.ByID),
		chromedp.Click("#save-plan", chromedp.ByID),
		chromedp.WaitVisible("#allocate", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#allocate", chromedp.ByID),
		chromedp.WaitVisible("#allocations", chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	for deadline := time.Now().Add(30 * time.Second); status != plans.Done; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the allocation does not finish: %q", status)
		}
		_ = a.DB.Get(&status, `SELECT status FROM welfare_allocations WHERE company_id = $1`, company.ID)
	}
	var planURL string
	err = chromedp.Run(ctx,
		chromedp.Location(&planURL),
		chromedp.Navigate(base+"/azienda/piani"),
		chromedp.WaitVisible("#plans", chromedp.ByID),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(pageKey(planURL)),
		chromedp.WaitVisible("#allocations", chromedp.ByID),
		chromedp.Text("#allocations", &progress, chromedp.ByID),
		chromedp.Text("#plan-allocated", &allocated, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress, "1/1") {
		t.Errorf("the plan page shows the allocation as %q, want 1/1", progress)
	}
	if !strings.Contains(allocated, "250,00") {
		t.Errorf("the plan page shows %q allocated, want € 250,00", allocated)
	}

	// The employee's mail and wallet.
	mails := mailtest.Wait(t, emp.Email, 1)
	if !strings.Contains(mails[0].Subject, "250,00") || !strings.Contains(mails[0].Text, "Welfare e2e") || !strings.Contains(mails[0].Text, fmt.Sprintf("31/12/%d", y)) {
		t.Errorf("the credits mail: %q\n%s", mails[0].Subject, mails[0].Text)
	}
	var wallet string
	err = chromedp.Run(ctx,
		signInAs(k, base, emp),
		chromedp.Navigate(base+plans.WalletPath),
		chromedp.WaitVisible("#wallet-lots", chromedp.ByID),
		chromedp.Text("main", &wallet, chromedp.ByQuery),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"250,00", "Sport e benessere", fmt.Sprintf("scade il 31/12/%d", y), "Welfare e2e"} {
		if !strings.Contains(wallet, want) {
			t.Errorf("the wallet lacks %q:\n%s", want, wallet)
		}
	}
}
