package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/apidoc"
	"github.com/thaili/thaili/internal/browsertest"
)

// docsEval evaluates a JavaScript expression in the page.
func docsEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

const docsWidths = `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`

// docsScreen saves what the viewport shows (browsertest.Screenshot takes
// the whole page, which for this page is 30,000 px and half a minute) as
// name.png under $THAILI_ARTIFACTS.
func docsScreen(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("THAILI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserDocs opens the API reference in Chromium and runs the page
// checks of docs/pages.md on it (no sideways scrolling at 390 px,
// contrast, focus; screenshots docs-1280 and docs-390), then its own: the
// stylesheet applies under the page's CSP, a wide window shows the
// sidebar and a phone the Contents list instead, every operation shows
// its example, and on a phone the Contents list opens and leads to an
// operation (screens docs-390-contents and docs-390-operation).
func TestBrowserDocs(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 240*time.Second)
	doc, err := apidoc.Document()
	if err != nil {
		t.Fatal(err)
	}
	ops, err := apidoc.Operations(doc)
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open /docs/", chromedp.Navigate(s.URL+"/docs/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	browsertest.Check(t, ctx, "docs")

	for _, vp := range []struct {
		w, h  int64
		phone bool
	}{{1280, 900, false}, {390, 844, true}} {
		var opts []chromedp.EmulateViewportOption
		if vp.phone {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		step(t, ctx, fmt.Sprint(vp.w), chromedp.EmulateViewport(vp.w, vp.h, opts...), chromedp.Navigate(s.URL+"/docs/"),
			chromedp.WaitVisible(chromedp.CSS("h1")))
		if !docsEval[bool](t, ctx, `!!document.getElementById("quick-start")`) {
			t.Errorf("at %d px: no quick start", vp.w)
		}
		overflow := docsEval[string](t, ctx, `(e => e ? getComputedStyle(e).overflowX : "no example")(document.querySelector("pre.example"))`)
		if overflow != "auto" {
			t.Errorf("at %d px: code blocks have overflow-x %q: the stylesheet did not apply", vp.w, overflow)
		}
		shown := func(sel string) string {
			return `(e => !!e && e.getBoundingClientRect().width > 0)(document.querySelector("` + sel + `"))`
		}
		if sidebar, contents := docsEval[bool](t, ctx, shown("nav.sidebar")), docsEval[bool](t, ctx, shown("details.toc-phone")); sidebar == vp.phone || contents != vp.phone {
			t.Errorf("at %d px: sidebar shown %v, Contents list shown %v", vp.w, sidebar, contents)
		}
		examples := docsEval[int](t, ctx, `[...document.querySelectorAll("section.op pre.example")].filter(p => p.getBoundingClientRect().height > 0 && p.textContent.trim() !== "").length`)
		if examples != len(ops) {
			t.Errorf("at %d px: %d operations show an example, the document has %d", vp.w, examples, len(ops))
		}
	}
	if t.Failed() {
		t.FailNow() // the page is not the one the steps below use
	}

	// On the phone, the Contents list opens and leads to an operation.
	step(t, ctx, "open Contents", chromedp.Click(chromedp.CSS("details.toc-phone summary")),
		chromedp.WaitVisible(chromedp.CSS(`details.toc-phone a[href="#legacyVerify"]`)))
	if widths := docsEval[[]int](t, ctx, docsWidths); widths[0] > widths[1] {
		t.Errorf("at 390 px with Contents open the page scrolls sideways: %v", widths)
	}
	docsScreen(t, ctx, "docs-390-contents")
	step(t, ctx, "follow a link", chromedp.Click(chromedp.CSS(`details.toc-phone a[href="#legacyVerify"]`)))
	if top := docsEval[float64](t, ctx, `document.getElementById("legacyVerify").getBoundingClientRect().top`); top < -1 || top > 100 {
		t.Errorf("after following the link, #legacyVerify is %v px from the top", top)
	}
	docsScreen(t, ctx, "docs-390-operation")
}
