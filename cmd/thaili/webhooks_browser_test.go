package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// TestBrowserWebhookLog: a merchant registers two endpoints in Chromium
// and sends each a test event with its button; the delivery log shows
// the result and, opened, each delivery's payload and response, in blocks
// that wrap (one answer is a single 4 KB word) without widening the page
// at 390 px. The pages pass browsertest.Check closed and open.
func TestBrowserWebhookLog(t *testing.T) {
	s := startServer(t, "--webhooks-allow-private")
	ok := newAnsweringReceiver(t, 200, `{"received": true, "order": "ORD-2081", "handled_by": "shop-worker-3"}`)
	wide := newAnsweringReceiver(t, 500, "<!doctype html><title>Error</title><pre>"+strings.Repeat("Traceback", 600)+"</pre>")
	ctx := browsertest.New(t, 120*time.Second)
	const phone = "9812340091"

	step(t, ctx, "sign up", chromedp.Navigate(s.URL+"/join/merchant/"), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Janakpur Paintings"), chromedp.SendKeys(chromedp.CSS("#email"), "art@janakpur.example"),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone), chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	step(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, phone)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#keys")))

	register := func(url, event string) {
		t.Helper()
		step(t, ctx, "register "+url, chromedp.Navigate(s.URL+"/dashboard/webhooks/"), chromedp.WaitVisible(chromedp.CSS("#url")),
			chromedp.SendKeys(chromedp.CSS("#url"), url), chromedp.Click(chromedp.CSS(`input[value="`+event+`"]`)),
			chromedp.Click(chromedp.CSS("#register-hook")), chromedp.WaitVisible(chromedp.CSS("#new-hook")))
	}
	register(ok.srv.URL+"/thaili/webhooks", "payment.completed")
	register(wide.srv.URL+"/hooks/with/a/rather/long/path/that/must/wrap/on/a/phone?token=0123456789abcdef0123456789abcdef", "payment.refunded")
	step(t, ctx, "the endpoints", chromedp.Navigate(s.URL+"/dashboard/webhooks/"), chromedp.WaitVisible(chromedp.CSS("#endpoints")))
	if n := journeyCount(t, ctx, `#endpoints button[id^="test-"]`); n != 2 {
		t.Fatalf("%d Send test event buttons, want 2", n)
	}
	browsertest.Check(t, ctx, "webhooks")

	// The second endpoint's button: it answers 500 with a wide page.
	step(t, ctx, "test the failing endpoint", chromedp.Click(chromedp.CSS(`#endpoints tbody tr:nth-child(2) button[id^="test-"]`)),
		chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	wantText(t, ctx, ".flash", "The test event was not delivered (HTTP 500).")
	if n := len(wide.requests()); n != 1 {
		t.Errorf("the failing endpoint got %d requests", n)
	}
	// Send another from the log page itself, then look at both.
	wide.answer(200) // the receiver was fixed meanwhile
	step(t, ctx, "test again from the log", chromedp.Click(chromedp.CSS("#send-test")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, ctx, "#notice", "The test event was delivered: the endpoint answered HTTP 200.")
	if n := journeyCount(t, ctx, "#deliveries tr.sent"); n != 2 {
		t.Fatalf("%d deliveries in the log, want 2", n)
	}
	wantText(t, ctx, "#deliveries", "webhook.test", "Payload sent", "Response: HTTP 200", "Response: HTTP 500")
	browsertest.Check(t, ctx, "webhook-log")

	step(t, ctx, "open every payload and response", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#deliveries details").forEach(d => d.open = true)`))
	wantText(t, ctx, "#deliveries", `"type": "webhook.test"`, "TracebackTraceback", "Truncated: only the first 4 KB of the body are kept.")
	browsertest.Check(t, ctx, "webhook-log-open")

	// The first endpoint's log, opened: a short JSON answer.
	step(t, ctx, "the first endpoint", chromedp.Navigate(s.URL+"/dashboard/webhooks/"), chromedp.WaitVisible(chromedp.CSS("#endpoints")),
		chromedp.Click(chromedp.CSS(`#endpoints tbody tr:nth-child(1) button[id^="test-"]`)), chromedp.WaitVisible(chromedp.CSS("#notice")),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#deliveries details").forEach(d => d.open = true)`))
	wantText(t, ctx, "#deliveries", `"received": true`, `"endpoint":`)
	browsertest.Check(t, ctx, "webhook-log-json")
}
