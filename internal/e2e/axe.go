package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Every page a journey visits is checked with axe-core (WCAG 2.1 A and
// AA rules) at a phone's width and a desktop's; a serious or critical
// violation fails the test, and so does a page wider than the screen. Journeys call checkA11y after each page they
// reach; Browser records every page loaded and, when the test ends, fails
// it for any page that was never checked, so a journey cannot skip one.

// widths are the screen widths every page is checked at: axe at a
// desktop's and a phone's, sideways scrolling also at the narrowest phones.
var widths = []screenWidth{{1280, 900, false, true}, {360, 740, true, false}, {390, 844, true, true}} // the phone last: journeys go on at 390 px

// screenWidth is a screen to check a page at, and whether axe runs there.
type screenWidth struct {
	w, h        int64
	mobile, axe bool
}

// axeSource is the pinned axe-core that scripts/test-env.sh installs.
var axeSource = sync.OnceValues(func() (string, error) {
	p := os.Getenv("AXE_CORE_PATH")
	if p == "" {
		return "", fmt.Errorf("AXE_CORE_PATH is not set: run `make test` (it installs axe-core) or point it at axe.min.js")
	}
	b, err := os.ReadFile(p)
	return string(b), err
})

// a11yLog is what one test's browser loaded and what was checked.
type a11yLog struct {
	mu      sync.Mutex
	loaded  []string
	checked map[string]bool
}

type a11yKey struct{}

// trackPages records every page ctx's tab loads (its main frame's URL)
// and, when the test ends, fails it for any page not checked.
func trackPages(t testing.TB, ctx context.Context) context.Context {
	log := &a11yLog{checked: map[string]bool{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame.ParentID == "" {
			log.mu.Lock()
			log.loaded = append(log.loaded, pageKey(e.Frame.URL))
			log.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		log.mu.Lock()
		defer log.mu.Unlock()
		var missed []string
		for _, u := range log.loaded {
			if !log.checked[u] && u != "about:blank" && !slices.Contains(missed, u) {
				missed = append(missed, u)
			}
		}
		// A journey checks every page it reaches.
		if len(missed) > 0 {
			t.Errorf("the journey reached pages it never checked with axe (call checkA11y): %s", strings.Join(missed, " "))
		}
	})
	return context.WithValue(ctx, a11yKey{}, log)
}

// pageKey is a page's URL without its fragment.
func pageKey(u string) string {
	u, _, _ = strings.Cut(u, "#")
	return u
}

// axeViolation is the part of an axe-core result the test reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the current page at each width and fails
// the test on a serious or critical violation.
func checkA11y(t testing.TB) chromedp.Action { return checkA11yAt(t, widths) }

// phoneWidths are the crawl's widths: sideways scrolling at the
// narrowest phones, axe at 390 px (the journeys check the desktop).
var phoneWidths = widths[1:]

// checkA11yAt is checkA11y at the widths ws.
func checkA11yAt(t testing.TB, ws []screenWidth) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		t.Helper()
		src, err := axeSource()
		if err != nil {
			t.Fatal(err)
		}
		var url string
		if err := chromedp.Location(&url).Do(ctx); err != nil {
			return err
		}
		for _, w := range ws {
			if err := settled(ctx); err != nil {
				return err
			}
			if err := emulation.SetDeviceMetricsOverride(w.w, w.h, 1, w.mobile).Do(ctx); err != nil {
				return err
			}
			var wide bool
			if err := chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &wide).Do(ctx); err != nil {
				return err
			}
			if wide {
				t.Errorf("%s scrolls sideways at %d px", url, w.w)
			}
			if !w.axe {
				continue
			}
			var raw string
			run := `(async () => {
  if (!window.axe) { ` + src + ` }
  const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]});
  return JSON.stringify(r.violations);
})()`
			if err := chromedp.Evaluate(run, &raw, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
				return p.WithAwaitPromise(true)
			}).Do(ctx); err != nil {
				return fmt.Errorf("running axe on %s: %w", url, err)
			}
			var vs []axeViolation
			if err := json.Unmarshal([]byte(raw), &vs); err != nil {
				return err
			}
			for _, v := range vs {
				if v.Impact != "serious" && v.Impact != "critical" {
					continue
				}
				var where []string
				for _, n := range v.Nodes {
					where = append(where, fmt.Sprint(n.Target...))
				}
				t.Errorf("axe at %d px on %s: %s (%s): %s — %s", w.w, url, v.ID, v.Impact, v.Help, strings.Join(where, ", "))
			}
		}
		if log, ok := ctx.Value(a11yKey{}).(*a11yLog); ok {
			log.mu.Lock()
			log.checked[pageKey(url)] = true
			log.mu.Unlock()
		}
		return nil
	})
}

// settled waits until the page has loaded (a form sent with Enter may
// still be on its way to the next page when a step starts).
func settled(ctx context.Context) error {
	for range 100 {
		var done bool
		err := chromedp.Evaluate(`document.readyState === "complete" && document.documentElement !== null && document.body !== null`, &done).Do(ctx)
		if err == nil && done {
			return nil
		}
		if err := chromedp.Sleep(50 * time.Millisecond).Do(ctx); err != nil {
			return err
		}
	}
	return fmt.Errorf("the page never finished loading")
}
