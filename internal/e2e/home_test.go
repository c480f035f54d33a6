package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
)

// A visitor lands on the Italian home page, switches to English, and the
// page they see — and the next one they open — is in English.
func TestHomePageSwitchesLanguage(t *testing.T) {
	a := apptest.Start(t)
	ctx := Browser(t, 60*time.Second)

	var h1, lang, roles string
	err := chromedp.Run(ctx,
		chromedp.Navigate(a.URL()+"/"),
		chromedp.Text("h1", &h1, chromedp.ByQuery),
		chromedp.AttributeValue("html", "lang", &lang, nil, chromedp.ByQuery),
		chromedp.Text("#roles-h", &roles, chromedp.ByQuery),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	if lang != "it" || h1 != "Il welfare aziendale che resta sul territorio" || roles != "Per chi è Reciproca" {
		t.Fatalf("first visit: lang=%q h1=%q roles=%q, want the Italian home page", lang, h1, roles)
	}

	var link string
	err = chromedp.Run(ctx,
		openMenu(),
		chromedp.Text("a.lang", &link, chromedp.ByQuery),
		chromedp.Click("a.lang", chromedp.ByQuery),
		chromedp.WaitVisible(`html[lang="en"]`, chromedp.ByQuery),
		checkA11y(t),
		chromedp.Text("h1", &h1, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if link != "English" || h1 != "Corporate welfare that stays in your community" {
		t.Fatalf("after clicking %q: h1=%q, want the English home page", link, h1)
	}

	var body string
	err = chromedp.Run(ctx,
		chromedp.Navigate(a.URL()+"/pagina-che-non-esiste"),
		chromedp.Text("main", &body, chromedp.ByQuery),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Page not found") {
		t.Fatalf("the language did not stick: %q", body)
	}
}
