package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/auth"
)

// A platform admin creates a company in the browser, lands on its page and
// invites its first HR administrator there (the administrator role of a
// company preselected); she follows the link from the development
// mail page, chooses a password, signs in and manages her company's users.
func TestPlatformAdminInvitesACompanysFirstAdmin(t *testing.T) {
	a, k := startDev(t)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	ctx := Browser(t, 90*time.Second)
	base := a.URL()

	const company, name, email, password = "Cooperativa Sole", "Rita Marino", "rita.marino@example.com", "un caffè al mattino presto"
	var notice, people, heading string
	err := chromedp.Run(ctx,
		signInAs(k, base, admin),
		chromedp.Navigate(base+"/admin/organisations"),
		checkA11y(t),
		chromedp.SendKeys("#org-name", company, chromedp.ByQuery),
		chromedp.SetValue("#kind", "company", chromedp.ByQuery),
		chromedp.Submit("#org-name", chromedp.ByQuery),
		chromedp.WaitVisible(`form[action$="/invite"]`, chromedp.ByQuery),
		checkA11y(t),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.SendKeys(`form[action$="/invite"] #email`, email, chromedp.ByQuery),
		chromedp.SendKeys(`form[action$="/invite"] #name`, name, chromedp.ByQuery),
		chromedp.Submit(`form[action$="/invite"] #name`, chromedp.ByQuery),
		chromedp.WaitVisible(".notice", chromedp.ByQuery),
		checkA11y(t),
		chromedp.Text(".notice", &notice, chromedp.ByQuery),
		chromedp.Text("#users", &people, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if heading != company || notice != "Invito inviato." {
		t.Fatalf("organisation page %q, notice %q", heading, notice)
	}
	if !strings.Contains(people, name) || !strings.Contains(people, "Amministratore") {
		t.Fatalf("the page lists %q, want %s as the company's administrator", people, name)
	}

	var who, page string
	err = chromedp.Run(ctx,
		chromedp.ActionFunc(clearCookies),
		acceptFromDevMail(t, base, password, &page),
		chromedp.Navigate(base+"/login?next=/users"),
		checkA11y(t),
		chromedp.SendKeys("#email", email, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Submit("#password", chromedp.ByQuery),
		chromedp.WaitVisible("#users", chromedp.ByQuery),
		checkA11y(t),
		openMenu(),
		chromedp.Text("#nav-user", &who, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, company) {
		t.Fatalf("the invitation page does not name %s: %q", company, page)
	}
	if who != name {
		t.Fatalf("signed in as %q, want %q", who, name)
	}
}

// clearCookies signs the browser out by forgetting its cookies.
func clearCookies(ctx context.Context) error { return network.ClearBrowserCookies().Do(ctx) }
