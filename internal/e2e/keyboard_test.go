package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/seed"
)

// tabTo presses Tab until the element matching sel has the focus, as a
// person without a mouse moves through a page, and fails when it never
// gets there or when the focused element shows no focus ring.
func tabTo(t *testing.T, sel string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for range 80 {
			var state struct {
				Here    bool   `json:"here"`
				Outline string `json:"outline"`
			}
			js := fmt.Sprintf(`(() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {here: !!e && e.matches(%q), outline: s.outlineStyle === "none" && s.boxShadow === "none" ? "" : s.outlineStyle + " " + s.boxShadow}; })()`, sel)
			if err := chromedp.Evaluate(js, &state).Do(ctx); err != nil {
				return err
			}
			if state.Here {
				if state.Outline == "" {
					t.Errorf("%s has the keyboard focus but shows no focus ring", sel)
				}
				return nil
			}
			if err := chromedp.KeyEvent(kb.Tab).Do(ctx); err != nil {
				return err
			}
		}
		return fmt.Errorf("pressing Tab never reaches %s", sel)
	})
}

// waitURL waits until the page's address contains part: after a key press
// that submits a form, the page being left can still be read for a while.
func waitURL(part string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			var url string
			if err := chromedp.Location(&url).Do(ctx); err == nil && strings.Contains(url, part) {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("the address never contained %q", part)
	})
}

// Someone who cannot use a mouse signs in, searches the catalogue, opens
// a service and invites a colleague, with the keyboard alone.
func TestKeyboardOnlyJourney(t *testing.T) {
	a := apptest.Start(t)
	if _, err := seed.Run(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	ctx := Browser(t, 120*time.Second)
	var notice, title string
	err := chromedp.Run(ctx,
		chromedp.Navigate(a.URL()+"/login"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		checkA11y(t),
		tabTo(t, "#email"), chromedp.KeyEvent("hr@officinebrianza.example"),
		tabTo(t, "#password"), chromedp.KeyEvent(seed.DemoPassword), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#home-h", chromedp.ByID),
		checkA11y(t),
		tabTo(t, `#home-links a[href="/catalogo"]`), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#q", chromedp.ByID),
		checkA11y(t),
		tabTo(t, "#q"), chromedp.KeyEvent("baby sitter"), chromedp.KeyEvent(kb.Enter),
		// /catalogo already lists results: wait for the search's own page.
		waitURL("q=baby"),
		chromedp.WaitVisible("#results", chromedp.ByID),
		checkA11y(t),
		tabTo(t, "#results .offer-title a"), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#offering-title", chromedp.ByID),
		chromedp.Text("#offering-title", &title, chromedp.ByID),
		checkA11y(t),
		tabTo(t, "#menu-toggle"), chromedp.KeyEvent(kb.Enter),
		tabTo(t, `#menu a[href="/users"]`), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#users", chromedp.ByID),
		checkA11y(t),
		tabTo(t, `form[action="/users/invite"] #email`), chromedp.KeyEvent("nuova.collega@officinebrianza.example"),
		tabTo(t, `form[action="/users/invite"] #name`), chromedp.KeyEvent("Nuova Collega"), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(".notice", chromedp.ByQuery),
		chromedp.Text(".notice", &notice, chromedp.ByQuery),
		checkA11y(t),
	)
	if err != nil {
		t.Fatal(err)
	}
	if title == "" || notice != "Invito inviato." {
		t.Fatalf("keyboard journey: offering %q, after inviting %q", title, notice)
	}
}
