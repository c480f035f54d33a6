package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// pageCheck is a page to look at: its path, what shows once it is ready,
// and who looks (nil: a visitor).
type pageCheck struct {
	name, path, ready string
	who               *identitytest.User
}

// lookAtPages opens every page on a phone and a laptop, in Italian and
// English: no sideways scroll, and the Italian page shows none of the
// English words given. Screenshots are named prefix-page-lang-width.
func lookAtPages(t *testing.T, ctx context.Context, k *identitytest.Kit, base, prefix string, pages []pageCheck, english []string) {
	t.Helper()
	for _, lang := range []string{"it", "en"} {
		for _, p := range pages {
			for _, width := range []int64{390, 1280} {
				var text string
				as := asVisitor()
				if p.who != nil {
					as = signInAs(k, base, p.who)
				}
				err := chromedp.Run(ctx,
					as,
					setLang(base, lang),
					chromedp.EmulateViewport(width, 900),
					chromedp.Navigate(base+p.path),
					chromedp.WaitVisible(p.ready, chromedp.ByQuery),
					chromedp.Text("main", &text, chromedp.ByQuery),
					noSidewaysScroll(t, p.name+" "+lang, width),
					screenshot(t, prefix+"-"+p.name+"-"+lang+"-"+strconv.FormatInt(width, 10)),
					checkA11y(t),
				)
				if err != nil {
					t.Fatalf("%s %s at %d px: %v", p.name, lang, width, err)
				}
				if lang == "it" {
					for _, w := range english {
						if strings.Contains(text, w) {
							t.Errorf("%s in Italian at %d px shows English %q", p.name, width, w)
						}
					}
				}
			}
		}
	}
}
