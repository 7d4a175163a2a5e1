package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// checksJS holds the checks that run inside the page; see checks.js.
//
//go:embed checks.js
var checksJS string

// A window is one size every page is laid out, checked and
// photographed at.
type window struct {
	width, height int64
	phone         bool // mobile emulation: the meta viewport counts, scrollbars overlay, touch
}

// windows are the sizes of docs/pages.md: a laptop and a phone.
func windows() []window {
	return []window{{1280, 900, false}, {390, 844, true}}
}

// Check runs the checks every page must pass (docs/pages.md) on the page
// currently loaded in ctx, and reports each problem with t.Errorf, naming
// the page, so that a test shows every problem at once:
//
//   - at 1280x900 and at 390x844 (a phone, with mobile emulation) the page
//     is saved as the full-page screenshots <name>-1280 and <name>-390
//     (see Screenshot), and must not scroll sideways; a failure names the
//     widest elements that stick out;
//   - every visible input, select and textarea has a label;
//   - all visible text has a contrast of at least 4.5:1 on its background
//     (3:1 for large text: 24px, or 18.66px bold);
//   - every control that takes focus shows it, by a changed outline or
//     box-shadow, when focused as with the keyboard; an outline (other
//     than the browser's own) has a contrast of at least 3:1 on what is
//     behind it.
//
// Check leaves the page as it found it: the focused element and the
// scroll position are put back, and the window is the browser's own size
// again by the time Check returns (an emulated size the caller had set is
// cleared). It fails the test at once (t.Fatalf) only when the checks
// themselves cannot run.
func Check(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	problems, err := audit(ctx, func(w window) {
		t.Helper()
		Screenshot(t, ctx, fmt.Sprintf("%s-%d", name, w.width))
	})
	if err != nil {
		t.Fatalf("page %s: the page checks could not run: %v", name, err)
	}
	for _, p := range problems {
		t.Errorf("page %s: %s", name, p)
	}
}

// audit lays the page out at each window, runs checks.js there and calls
// shot, and returns the problems found, each once, prefixed with the
// widths it was seen at.
func audit(ctx context.Context, shot func(window)) (problems []string, err error) {
	// Headless Chromium does not treat its page as focused, and an
	// unfocused page matches no :focus-visible.
	if err := setFocusEmulation(ctx, true); err != nil {
		return nil, err
	}
	defer func() {
		// The renderer takes the window back a moment after the override
		// is cleared, and says so with a resize event: wait for it (or,
		// when the size does not change, a while), so the caller finds
		// the page as it was.
		restore := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](restoredJS),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
				return err
			}),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{})
				return err
			}),
			chromedp.Evaluate[chromedp.Void](awaitRestoredJS, chromedp.EvalAwaitPromise),
		)
		if restore == nil {
			restore = setFocusEmulation(ctx, false)
		}
		if err == nil && restore != nil {
			err = fmt.Errorf("restoring the window: %w", restore)
		}
	}()

	var order []string
	seen := map[string][]string{} // problem -> widths
	for _, w := range windows() {
		var opts []chromedp.EmulateViewportOption
		if w.phone {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.width, w.height, opts...)); err != nil {
			return nil, fmt.Errorf("setting the window to %dx%d: %w", w.width, w.height, err)
		}
		res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Problems []string `json:"problems"`
			Broken   string   `json:"broken"`
		}](fmt.Sprintf("%s(%d)", checksJS, w.width), chromedp.EvalAwaitPromise))
		if err != nil {
			return nil, fmt.Errorf("at %d px: %w", w.width, err)
		}
		if res.Broken != "" {
			return nil, fmt.Errorf("at %d px: %s", w.width, res.Broken)
		}
		for _, p := range res.Problems {
			if _, ok := seen[p]; !ok {
				order = append(order, p)
			}
			seen[p] = append(seen[p], fmt.Sprint(w.width))
		}
		shot(w)
	}
	for _, p := range order {
		problems = append(problems, fmt.Sprintf("at %s px: %s", strings.Join(seen[p], " and "), p))
	}
	return problems, nil
}

// restoredJS keeps, on the page, a promise of the next resize or of 5
// seconds passing without one; awaitRestoredJS waits for it and removes
// it.
const (
	restoredJS = `window.__thailiRestored = new Promise(function (done) {
		function resized() { clearTimeout(timer); done(); }
		var timer = setTimeout(function () { removeEventListener("resize", resized); done(); }, 5000);
		addEventListener("resize", resized, {once: true});
	}); undefined`
	awaitRestoredJS = `window.__thailiRestored.then(function () { delete window.__thailiRestored; })`
)

func setFocusEmulation(ctx context.Context, on bool) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: on})
		return err
	}))
}
