package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/apidoc"
	"github.com/thaili/thaili/internal/browsertest"
)

// docsContrastJS lists visible text whose colour has less than 4.5:1
// contrast with the background behind it (WCAG's formula; a background is
// the first opaque one up the tree, white at the top).
const docsContrastJS = `(() => {
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return m.length > 3 ? m : m.concat([1]); };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c[3] > 0.99) return c;
    }
    return [255, 255, 255, 1];
  };
  const bad = [];
  let checked = 0;
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
    const r = el.getBoundingClientRect();
    if (!own || r.width === 0 || r.height === 0 || getComputedStyle(el).visibility !== "visible") continue;
    checked++;
    const fg = lum(rgba(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + "." + el.className + " " + ratio.toFixed(2) + ": " + el.textContent.trim().slice(0, 40));
  }
  return {checked, bad: bad.slice(0, 10)};
})()`

type docsContrast struct {
	Checked int      `json:"checked"`
	Bad     []string `json:"bad"`
}

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

// TestBrowserDocs opens the API reference in Chromium at 1280 and 390 px:
// its own stylesheet applies under the page's CSP, the desktop shows the
// sidebar and the phone the Contents list instead, nothing scrolls
// sideways on the phone (code scrolls inside its box), every operation
// shows its example, text contrast is at least 4.5:1 and the keyboard
// focus is visible. Screenshots: docs-1280 and docs-390 (whole pages),
// docs-390-contents, docs-390-operation and docs-1280-focus (screens).
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

	for _, vp := range []struct {
		name  string
		w, h  int64
		phone bool
	}{{"docs-1280", 1280, 900, false}, {"docs-390", 390, 844, true}} {
		step(t, ctx, vp.name, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(s.URL+"/docs/"),
			chromedp.WaitVisible(chromedp.CSS("h1")))
		if !docsEval[bool](t, ctx, `!!document.getElementById("quick-start")`) {
			t.Errorf("%s: no quick start", vp.name)
		}
		overflow := docsEval[string](t, ctx, `(e => e ? getComputedStyle(e).overflowX : "no example")(document.querySelector("pre.example"))`)
		shown := func(sel string) string {
			return `(e => !!e && e.getBoundingClientRect().width > 0)(document.querySelector("` + sel + `"))`
		}
		sidebar := docsEval[bool](t, ctx, shown("nav.sidebar"))
		contents := docsEval[bool](t, ctx, shown("details.toc-phone"))
		examples := docsEval[int](t, ctx, `[...document.querySelectorAll("section.op pre.example")].filter(p => p.getBoundingClientRect().height > 0 && p.textContent.trim() !== "").length`)
		widths := docsEval[[]int](t, ctx, docsWidths)
		if overflow != "auto" {
			t.Errorf("%s: code blocks have overflow-x %q: the stylesheet did not apply", vp.name, overflow)
		}
		if sidebar == vp.phone || contents != vp.phone {
			t.Errorf("%s: sidebar shown %v, Contents list shown %v", vp.name, sidebar, contents)
		}
		if examples != len(ops) {
			t.Errorf("%s: %d operations show an example, the document has %d", vp.name, examples, len(ops))
		}
		if len(widths) != 2 || widths[0] > widths[1] {
			t.Errorf("%s: the page scrolls sideways: scrollWidth, clientWidth = %v", vp.name, widths)
		}
		c := docsEval[docsContrast](t, ctx, docsContrastJS)
		if c.Checked < 500 || len(c.Bad) > 0 {
			t.Errorf("%s: contrast below 4.5:1 (of %d texts checked): %q", vp.name, c.Checked, c.Bad)
		}
		browsertest.Screenshot(t, ctx, vp.name)
	}

	if t.Failed() {
		t.FailNow() // the page is not the one the steps below use
	}
	// On the phone, the Contents list opens and leads to an operation.
	step(t, ctx, "open Contents", chromedp.Click(chromedp.CSS("details.toc-phone summary")),
		chromedp.WaitVisible(chromedp.CSS(`details.toc-phone a[href="#legacyVerify"]`)))
	if widths := docsEval[[]int](t, ctx, docsWidths); widths[0] > widths[1] {
		t.Errorf("docs-390 with Contents open scrolls sideways: %v", widths)
	}
	docsScreen(t, ctx, "docs-390-contents")
	step(t, ctx, "follow a link", chromedp.Click(chromedp.CSS(`details.toc-phone a[href="#legacyVerify"]`)))
	if top := docsEval[float64](t, ctx, `document.getElementById("legacyVerify").getBoundingClientRect().top`); top < -1 || top > 100 {
		t.Errorf("after following the link, #legacyVerify is %v px from the top", top)
	}
	docsScreen(t, ctx, "docs-390-operation")

	// The keyboard focus is visible: Tab reaches the skip link first,
	// then the header's links, each with an outline.
	step(t, ctx, "desktop again", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.URL+"/docs/"),
		chromedp.WaitVisible(chromedp.CSS("h1")))
	for i := range 3 {
		step(t, ctx, "tab", chromedp.KeyEvent("\t"))
		focus := docsEval[struct {
			Tag, Text, Style string
			Width            float64
		}](t, ctx, `(() => { const e = document.activeElement, s = getComputedStyle(e);
			return {Tag: e.tagName, Text: e.textContent.trim().slice(0, 30), Style: s.outlineStyle, Width: parseFloat(s.outlineWidth)}; })()`)
		if focus.Tag != "A" || focus.Style == "none" || focus.Width < 2 {
			t.Errorf("tab %d: focus on %s %q with outline %s %vpx", i+1, focus.Tag, focus.Text, focus.Style, focus.Width)
		}
		if i == 0 && !strings.Contains(focus.Text, "Skip") {
			t.Errorf("the first tab stop is %q, not the skip link", focus.Text)
		}
	}
	docsScreen(t, ctx, "docs-1280-focus")
}
