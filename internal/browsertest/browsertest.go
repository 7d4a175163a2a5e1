// Package browsertest starts headless Chromium for tests, through
// chromedp. Tests are skipped with a loud message when no Chromium is
// installed, or fail when THAILI_REQUIRE_BROWSER=1 (as CI sets it).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Find returns the Chromium binary to use: $THAILI_CHROMIUM, else the
// first of chromium, chromium-browser, google-chrome on PATH.
func Find() string {
	if p := os.Getenv("THAILI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New returns a chromedp context on a fresh headless Chromium with its own
// profile directory, closed when the test ends. Every action should run
// under a deadline; New gives the whole browser one of timeout.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	bin := Find()
	if bin == "" {
		if os.Getenv("THAILI_REQUIRE_BROWSER") == "1" {
			t.Fatal("Chromium is required (THAILI_REQUIRE_BROWSER=1) but none was found; install Debian's chromium")
		}
		t.Skip("SKIPPING browser test: no Chromium found (install Debian's chromium, or set THAILI_CHROMIUM); set THAILI_REQUIRE_BROWSER=1 to make this a failure")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(412, 915), // a phone: the pages are mobile-first
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so failures are clear
		t.Fatalf("starting Chromium %s: %v", bin, err)
	}
	return ctx
}

// Screenshot saves a full-page PNG of the current page as name under
// $THAILI_ARTIFACTS (default: the test's temp dir) and returns its path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("THAILI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
