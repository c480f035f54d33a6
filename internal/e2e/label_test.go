package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// asVisitor drops every cookie: nobody is signed in.
func asVisitor() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error { return network.ClearBrowserCookies().Do(ctx) })
}

// noSidewaysScroll fails when the page is wider than the window.
func noSidewaysScroll(t *testing.T, page string, width int64) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var wide bool
		if err := chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &wide).Do(ctx); err != nil {
			return err
		}
		if wide {
			t.Errorf("%s at %d px scrolls sideways", page, width)
		}
		return nil
	})
}

// A social co-operative asks for the inclusion label with its Albo
// number; the platform admin approves it until a date in the review
// queue; a visitor then sees the label on the public offering page. The
// pages are looked at on a phone and on a laptop, in Italian and English.
func TestInclusionLabelRequestApprovedAndShown(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	bg := context.Background()
	vat := catalog.CompleteVAT("0284713016")
	if _, err := a.Catalog.SaveProfile(bg, staff.Principal(), staff.Org.ID, catalog.ProfileInput{LegalName: "Cooperativa Sociale Il Telaio",
		LegalForm: catalog.FormSocialCooperative, VATNumber: vat, FiscalCode: vat, PlaceCode: "097042"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.ReviewProvider(bg, admin.Principal(), staff.Org.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	o, err := a.Catalog.CreateOffering(bg, staff.Principal(), staff.Org.ID, catalog.OfferingInput{Title: "Stireria a domicilio",
		Description: "Ritiro e consegna in giornata.", Category: "laundry", PriceCents: 1200, Unit: "hour", PlaceCode: "097042"}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := Browser(t, 120*time.Second)
	base := a.URL()

	var pending, done, label, evidence string
	err = chromedp.Run(ctx,
		signInAs(k, base, staff),
		chromedp.Navigate(base+"/erogatore"),
		chromedp.WaitVisible("#label-link", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#label-link", chromedp.ByID),
		chromedp.WaitVisible("#label-form", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#evidence-coop", chromedp.ByID),
		chromedp.SendKeys("#albo_number", "a 187342", chromedp.ByID),
		chromedp.Click("#request-label", chromedp.ByID),
		chromedp.WaitVisible("#label-pending", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#label-pending", &pending, chromedp.ByID),

		signInAs(k, base, admin),
		chromedp.Navigate(base+"/admin/erogatori"),
		chromedp.WaitVisible("#pending-labels", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#pending-labels .approve-label button", chromedp.ByQuery),
		chromedp.WaitVisible("#done", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#done", &done, chromedp.ByID),

		asVisitor(),
		chromedp.Navigate(base+"/catalogo/"+o.ID.String()),
		chromedp.WaitVisible("#inclusion-label", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#inclusion-label", &label, chromedp.ByID),
		chromedp.Text("#label-evidence", &evidence, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pending, "Richiesta in verifica") {
		t.Errorf("after the request the provider reads %q", pending)
	}
	if !strings.Contains(done, "Etichetta approvata") {
		t.Errorf("after approving the admin reads %q", done)
	}
	if !strings.Contains(label, "Dà lavoro a persone dei percorsi di inclusione") || !strings.Contains(evidence, "valida fino al") {
		t.Errorf("the public page shows %q / %q", label, evidence)
	}

	// Every page this adds, on a phone and a laptop, in both languages:
	// no sideways scroll, and the Italian page carries no English.
	pages := []pageCheck{
		{"label-form", "/erogatore/etichetta", "#label-form", staff},
		{"admin-queue", "/admin/erogatori", "#label-queue", admin},
		{"admin-changes", "/admin/modifiche", "h1", admin},
		{"offering", "/catalogo/" + o.ID.String(), "#inclusion-label", nil},
	}
	lookAtPages(t, ctx, k, base, "label", pages,
		[]string{"inclusion pathways", "Request", "Approve", "valid until", "Never give names"})
}
