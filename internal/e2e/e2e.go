// Package e2e drives the real app in a real browser: Debian's chromium,
// headless, through chromedp. Tests start the app on 127.0.0.1:0 with
// apptest and act as a person would: open pages, click, type, read.
//
// The browser is never optional: without chromium the tests fail (`make
// test` installs it), so CI cannot pass by skipping them.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser: CHROMIUM_PATH, else the usual names on PATH.
func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: run `make test` (it installs Debian's chromium) or set CHROMIUM_PATH")
	return ""
}

// Browser returns a context bound to a fresh headless browser tab, closed
// when the test ends. Every action in a test should finish well within
// timeout.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	// Not t.TempDir: chromium may still be writing its profile for a moment
	// after it is told to quit, and that must not fail the test.
	profile, err := os.MkdirTemp("", "reciproca-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(390, 844), // a phone first: the app is mobile-first
		// A first start on a fresh or busy machine (font caches, a cold
		// disk) can take longer than chromedp's default 20 s.
		chromedp.WSURLReadTimeout(90*time.Second),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx = trackPages(t, ctx)
	// Every page is also checked with axe at two widths (checkA11y), which
	// takes a few seconds a page on a busy machine.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil { // start the browser now, to fail early
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// openMenu opens the navigation menu, as a person on a phone taps
// "Menu" before reaching the links in it.
func openMenu() chromedp.Action {
	return chromedp.Click("#menu-toggle", chromedp.ByQuery)
}
