package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/seed"
)

// setLang chooses the page language as the language switch does.
func setLang(base, lang string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		return network.SetCookie("lang", lang).WithURL(base).WithPath("/").Do(ctx)
	})
}

// screenshot saves the page to $E2E_SCREENSHOTS/name.png when that
// directory is set (to look at a page at a phone's and a laptop's width).
func screenshot(t *testing.T, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		dir := os.Getenv("E2E_SCREENSHOTS")
		if dir == "" {
			return nil
		}
		var png []byte
		if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
			return err
		}
		t.Logf("screenshot %s", name)
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// An employee searching the demo catalogue sees how many services match;
// one whose search finds nothing near them is told how far the nearest
// one is and reaches it with one tap; in Italian and in English, on a
// phone and on a laptop.
func TestSearchPageCountAndNearest(t *testing.T) {
	a := apptest.Start(t)
	if _, err := seed.Run(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	ctx := Browser(t, 120*time.Second)
	base := a.URL()
	want := map[string]struct{ count, nearest, wider string }{
		"it": {"servizi trovati", "Il più vicino è a 4", "Cerca entro 50 km"},
		"en": {"services found", "The nearest is 4", "Search within 50 km"},
	}
	for _, lang := range []string{"it", "en"} {
		for _, width := range []int64{390, 1280} {
			var count, none, nearest, wider, results string
			err := chromedp.Run(ctx,
				chromedp.EmulateViewport(width, 900),
				setLang(base, lang),
				chromedp.Navigate(base+"/catalogo?q=baby+sitter&vicino=Lecco"),
				chromedp.WaitVisible("#results", chromedp.ByID),
				checkA11y(t),
				chromedp.Text("#result-count", &count, chromedp.ByID),
				screenshot(t, "search-count-"+lang+"-"+strconv.FormatInt(width, 10)),
				// Climbing is offered around Lecco, about 45 km from Milan.
				chromedp.Navigate(base+"/catalogo?q=arrampicata&vicino=Milano"),
				chromedp.WaitVisible("#no-results", chromedp.ByID),
				checkA11y(t),
				chromedp.Text("#no-results", &none, chromedp.ByID),
				chromedp.Text("#nearest", &nearest, chromedp.ByID),
				chromedp.Text("#search-wider", &wider, chromedp.ByID),
				screenshot(t, "search-nearest-"+lang+"-"+strconv.FormatInt(width, 10)),
				chromedp.Click("#search-wider", chromedp.ByID),
				chromedp.WaitVisible("#results", chromedp.ByID),
				checkA11y(t),
				chromedp.Text("#results", &results, chromedp.ByID),
			)
			if err != nil {
				t.Fatalf("%s at %d px: %v", lang, width, err)
			}
			w := want[lang]
			if !regexp.MustCompile(`^[0-9]+ ` + w.count + `$`).MatchString(count) {
				t.Errorf("%s at %d px: count %q", lang, width, count)
			}
			if !strings.Contains(none, "Milano") || !strings.Contains(nearest, w.nearest) || !strings.Contains(nearest, " km") || wider != w.wider {
				t.Errorf("%s at %d px: empty state %q, nearest %q, button %q", lang, width, none, nearest, wider)
			}
			if !strings.Contains(results, "Arrampicata in falesia") {
				t.Errorf("%s at %d px: wider search found %q", lang, width, results)
			}
		}
	}
}
