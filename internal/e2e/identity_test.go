package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// An HR admin invites an employee from the web; the employee opens the
// link from the development mail page, chooses a password, signs in, sees
// their name, and signs out.
func TestInvitedEmployeeJoinsSignsInAndOut(t *testing.T) {
	a, k := startDev(t)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	ctx := Browser(t, 90*time.Second)

	const name, email, password = "Giovanna Esposito", "giovanna.esposito@example.com", "il mio orto sul balcone"
	var notice, who, after string
	err := chromedp.Run(ctx,
		// The HR admin signs in and invites her.
		chromedp.Navigate(a.URL()+"/login?next=/users"),
		checkA11y(t),
		chromedp.SendKeys("#email", hr.Email, chromedp.ByQuery),
		chromedp.SendKeys("#password", identitytest.Password, chromedp.ByQuery),
		chromedp.Submit("#password", chromedp.ByQuery),
		chromedp.WaitVisible("#users", chromedp.ByQuery),
		checkA11y(t),
		chromedp.SendKeys(`form[action="/users/invite"] #email`, email, chromedp.ByQuery),
		chromedp.SendKeys(`form[action="/users/invite"] #name`, name, chromedp.ByQuery),
		chromedp.Submit(`form[action="/users/invite"] #name`, chromedp.ByQuery),
		chromedp.WaitVisible(".notice", chromedp.ByQuery),
		checkA11y(t),
		chromedp.Text(".notice", &notice, chromedp.ByQuery),
		openMenu(),
		chromedp.Click("#sign-out", chromedp.ByQuery),
		chromedp.WaitVisible("#login-notice", chromedp.ByQuery),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	if notice != "Invito inviato." {
		t.Fatalf("after inviting: %q", notice)
	}
	err = chromedp.Run(ctx,
		// She opens the mail on the development mail page and follows the link.
		acceptFromDevMail(t, a.URL(), password, nil),
		chromedp.Text("#login-notice", &notice, chromedp.ByQuery),
		// She signs in and sees her name.
		chromedp.SendKeys("#email", email, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Submit("#password", chromedp.ByQuery),
		chromedp.WaitVisible("#home-h", chromedp.ByID), // her home page, then the menu
		checkA11y(t),
		openMenu(),
		chromedp.WaitVisible("#nav-user", chromedp.ByQuery),
		checkA11y(t),
		chromedp.Text("#nav-user", &who, chromedp.ByQuery),
		// She signs out.
		chromedp.Click("#sign-out", chromedp.ByQuery),
		chromedp.WaitVisible("#login-notice", chromedp.ByQuery),
		checkA11y(t),
		openMenu(),
		chromedp.Text("header", &after, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notice, "Account attivato") {
		t.Fatalf("after choosing a password: %q", notice)
	}
	if who != name {
		t.Fatalf("signed in as %q, want %q", who, name)
	}
	if strings.Contains(after, name) || !strings.Contains(after, "Accedi") {
		t.Fatalf("after signing out the header still shows %q", after)
	}
	// Her account page is closed to the signed-out browser.
	var url string
	if err := chromedp.Run(ctx, chromedp.Navigate(a.URL()+"/account"), chromedp.Location(&url), checkA11y(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "/login?next=") {
		t.Fatalf("/account after sign-out went to %s", url)
	}
}

// startDev starts the app in development (the dev mail page) and a kit.
func startDev(t *testing.T) (*app.App, *identitytest.Kit) {
	cfg := apptest.Config(dbtest.New(t))
	cfg.Env = "development"
	a := apptest.StartWith(t, cfg)
	return a, identitytest.New(t, a.DB, a.Identity)
}

// acceptFromDevMail follows the invitation link of the development mail
// page, reads the invitation page's main text into page (when not nil),
// chooses password and waits for the sign-in page.
func acceptFromDevMail(t testing.TB, base, password string, page *string) chromedp.Tasks {
	tasks := chromedp.Tasks{
		chromedp.Navigate(base + "/dev/mail"),
		checkA11y(t),
		chromedp.Click(`.mail-body a[href*="/invite?token="]`, chromedp.ByQuery),
		chromedp.WaitVisible("#invite-email", chromedp.ByQuery),
		checkA11y(t),
	}
	if page != nil {
		tasks = append(tasks, chromedp.Text("main", page, chromedp.ByQuery))
	}
	return append(tasks,
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.SendKeys("#password2", password, chromedp.ByQuery),
		chromedp.Submit("#password2", chromedp.ByQuery),
		chromedp.WaitVisible("#login-notice", chromedp.ByQuery),
		checkA11y(t),
	)
}
