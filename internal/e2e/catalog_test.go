package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
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

// signInAs replaces the browser's cookies with a session of u.
func signInAs(k *identitytest.Kit, base string, u *identitytest.User) chromedp.Action {
	return withSession(base, k.SessionCookie(u))
}

// withSession makes the browser carry the session cookie ck, alone.
func withSession(base string, ck *http.Cookie) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := network.ClearBrowserCookies().Do(ctx); err != nil {
			return err
		}
		return network.SetCookie(ck.Name, ck.Value).WithURL(base).WithPath("/").WithHTTPOnly(true).Do(ctx)
	})
}

// A provider signs up its profile and creates an offering with a photo;
// the platform admin approves the provider; an employee searching near a
// town finds the offering, with its photo, and opens its page.
func TestProviderOfferingFoundByEmployee(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := k.As(auth.OrgProvider, auth.RoleProviderStaff)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	employee := k.As(auth.OrgCompany, auth.RoleEmployee)
	ctx := Browser(t, 90*time.Second)
	base := a.URL()

	// A small landscape photo, as a phone would upload it.
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1000))
	for x := 0; x < 1600; x++ {
		for y := 0; y < 1000; y++ {
			img.Set(x, y, color.RGBA{uint8(x / 7), uint8(120 + y/10), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "ceramica.png")
	if err := os.WriteFile(photo, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	vat := catalog.CompleteVAT("0284713015")
	var status, rows string
	err := chromedp.Run(ctx,
		signInAs(k, base, staff),
		chromedp.Navigate(base+"/erogatore"),
		chromedp.WaitVisible("#save-profile", chromedp.ByID), // no profile yet: the form
		checkA11y(t),
		chromedp.SendKeys("#legal_name", "Cooperativa Sociale Terra e Fuoco", chromedp.ByID),
		chromedp.SetValue("#legal_form", "social_cooperative", chromedp.ByID),
		chromedp.SendKeys("#vat_number", vat, chromedp.ByID),
		chromedp.SendKeys("#fiscal_code", vat, chromedp.ByID),
		chromedp.SendKeys("#address", "Via dei Vasai 4", chromedp.ByID),
		chromedp.SendKeys("#town", "Merate", chromedp.ByID),
		chromedp.Click("#save-profile", chromedp.ByID),
		chromedp.WaitVisible("#provider-status", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#provider-status .status", &status, chromedp.ByQuery),

		chromedp.Click("#new-offering", chromedp.ByID),
		chromedp.WaitVisible("#save-offering", chromedp.ByID),
		checkA11y(t),
		chromedp.SendKeys("#title", "Laboratorio di ceramica per adulti", chromedp.ByID),
		chromedp.SendKeys("#description", "Dieci serate al tornio con i nostri ceramisti.", chromedp.ByID),
		chromedp.SetValue("#category", "courses", chromedp.ByID),
		chromedp.SendKeys("#price", "120,00", chromedp.ByID),
		chromedp.SetValue("#unit", "course", chromedp.ByID),
		chromedp.SendKeys("#town", "Merate", chromedp.ByID),
		chromedp.SetUploadFiles("#photo", []string{photo}, chromedp.ByID),
		chromedp.Click("#save-offering", chromedp.ByID),
		chromedp.WaitVisible("#my-offerings", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#my-offerings", &rows, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "In attesa") || !strings.Contains(rows, "Laboratorio di ceramica per adulti") || !strings.Contains(rows, "📷") {
		t.Fatalf("provider dashboard: status %q, offerings %q", status, rows)
	}

	// Not visible to anyone yet.
	var none string
	err = chromedp.Run(ctx,
		signInAs(k, base, employee),
		chromedp.Navigate(base+"/catalogo?q=ceramica&vicino=Lecco"),
		chromedp.Text("#no-results", &none, chromedp.ByID),
		checkA11y(t),
	)
	if err != nil {
		t.Fatalf("search before approval: %v", err)
	}

	var queue, done string
	err = chromedp.Run(ctx,
		signInAs(k, base, admin),
		chromedp.Navigate(base+"/admin/erogatori"),
		chromedp.Text("#pending-providers", &queue, chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#pending-providers button.approve", chromedp.ByQuery),
		chromedp.WaitVisible("#queue-empty", chromedp.ByID),
		checkA11y(t),
		chromedp.Text(".notice", &done, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(queue, "Cooperativa Sociale Terra e Fuoco") || !strings.Contains(done, "approvato") {
		t.Fatalf("approval queue %q, after approving %q", queue, done)
	}

	var results, place, title, provider string
	var photoWidth int
	err = chromedp.Run(ctx,
		signInAs(k, base, employee),
		chromedp.Navigate(base+"/catalogo"),
		checkA11y(t),
		chromedp.SendKeys("#q", "ceramiche", chromedp.ByID),
		chromedp.SendKeys("#vicino", "Lecco", chromedp.ByID),
		chromedp.Click("#search-submit", chromedp.ByID),
		// /catalogo already lists results: wait for the search's own page.
		waitURL("q=ceramiche"),
		chromedp.WaitVisible("#results", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#search-place", &place, chromedp.ByID),
		chromedp.Text("#results", &results, chromedp.ByID),
		chromedp.Click("#results .offer-title a", chromedp.ByQuery),
		chromedp.WaitVisible("#offering-title", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#offering-title", &title, chromedp.ByID),
		chromedp.Text("#offering-provider", &provider, chromedp.ByID),
		chromedp.Poll(`document.getElementById("offering-photo").complete && document.getElementById("offering-photo").naturalWidth`, &photoWidth),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(place, "Lecco (LC)") || !strings.Contains(results, "Laboratorio di ceramica per adulti") ||
		!strings.Contains(results, "km") || !strings.Contains(results, "€ 120,00") {
		t.Fatalf("search near Lecco: place %q, results %q", place, results)
	}
	if title != "Laboratorio di ceramica per adulti" || !strings.Contains(provider, "Terra e Fuoco") || photoWidth != 1200 {
		t.Fatalf("offering page: title %q, provider %q, photo width %d (want the resized 1200)", title, provider, photoWidth)
	}
}
