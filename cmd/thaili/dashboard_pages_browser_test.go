package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// dashPage opens path in the merchant's browser, waits for sel, and runs
// the page checks (browsertest.Check, screenshots dashboard-<name>-1280
// and -390). It also checks what every dashboard page has: the side
// navigation with section marked, the Test/Live switch with book marked,
// and tables that show every column at 1280 px (rows become cards on a
// phone, which Check's no-sideways-scroll covers).
func dashPage(t *testing.T, ctx context.Context, s *testServer, path, sel, name, section, book string) {
	t.Helper()
	step(t, ctx, "open "+name, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS(sel)))
	if got := journeyText(t, ctx, `nav.side a[aria-current="page"]`); got != section {
		t.Errorf("%s: the navigation marks %q, want %q", name, got, section)
	}
	if got := journeyText(t, ctx, `nav.books a[aria-current="page"]`); !strings.EqualFold(got, book) {
		t.Errorf("%s: the book switch marks %q, want %q", name, got, book)
	}
	if n := journeyCount(t, ctx, "nav.side a"); n != 7 {
		t.Errorf("%s: %d navigation links, want 7", name, n)
	}
	browsertest.Check(t, ctx, "dashboard-"+name)
	step(t, ctx, "laptop width", chromedp.EmulateViewport(1280, 900))
	clipped, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".table-wrap")]
		.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => (w.closest("section[id]") || w).id + ": " + w.scrollWidth + " > " + w.clientWidth)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(clipped) > 0 {
		t.Errorf("%s: tables hide columns at 1280 px: %q", name, clipped)
	}
}

// hidden reports whether the element sel is on the page but not drawn
// (inside a closed <details>, say, or hidden by a style).
func hidden(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	h, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(e => !!e && !e.checkVisibility())(document.querySelector(%q))`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBrowserDashboardPages: a new merchant in Chromium sees no key before
// its phone is confirmed (and, in a sandbox, where the code is), then its
// test secret once behind a reveal and copy, gone after "I have saved
// it"; Live explains why it is not there yet; the test payment the
// checklist asks for is made from the dashboard on the hosted page and
// issues the live keys, whose secret Keys shows once; payments are
// found by pidx and by the payer's mobile; and every page, in both books
// where it has data, passes the page checks at 1280 and 390 px.
func TestBrowserDashboardPages(t *testing.T) {
	s := startServer(t, "--webhooks-allow-private", "--webhook-interval", "50ms")
	recv := newHookReceiver(t, 0)
	ctx := browsertest.New(t, 400*time.Second)
	const phone, email = "9812370001", "pages@dashboard.example"

	step(t, ctx, "sign-up form", chromedp.Navigate(s.URL+"/join/merchant/"), chromedp.WaitVisible(chromedp.CSS("#name")))
	browsertest.Check(t, ctx, "dashboard-signup")
	step(t, ctx, "sign up", chromedp.SendKeys(chromedp.CSS("#name"), "Thamel Thangka Gallery"), chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone), chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	if text := pageText(t, ctx); dashTestSecretRE.MatchString(text) || dashTestPublicRE.MatchString(text) {
		t.Fatalf("a key on the code page, before the phone is confirmed: %q", text)
	}
	wantText(t, ctx, "#sandbox-inbox", "sandbox inbox")
	if journeyCount(t, ctx, `#sandbox-inbox a[href="/sandbox/inbox/"]`) != 1 {
		t.Error("the sandbox's code page does not link the sandbox inbox")
	}
	browsertest.Check(t, ctx, "dashboard-confirm")

	// Confirmed: Keys, with the new test secret behind a reveal.
	step(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, phone)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-test")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/dashboard/keys/") {
		t.Errorf("after confirming the phone the browser is at %q, want Keys", loc)
	}
	wantText(t, ctx, "#new-secret-test", "shown only this once")
	if !hidden(t, ctx, "#new-secret-key-test") {
		t.Error("the new secret is shown before it is revealed")
	}
	step(t, ctx, "reveal", chromedp.Click(chromedp.CSS("#reveal-test summary")), chromedp.WaitVisible(chromedp.CSS("#new-secret-key-test")))
	sk := journeyText(t, ctx, "#new-secret-key-test")
	pk := journeyText(t, ctx, ".key-test-public code")
	if !dashTestSecretRE.MatchString(sk) || !dashTestPublicRE.MatchString(pk) {
		t.Fatalf("keys on Keys: public %q, secret %q", pk, sk)
	}
	if hidden(t, ctx, `button.copy[data-copy="new-secret-key-test"]`) {
		t.Error("the new secret has no copy button")
	}
	if got := journeyText(t, ctx, ".key-test-secret code"); !strings.HasPrefix(sk, strings.TrimSuffix(got, "…")) || len(got) >= len(sk) {
		t.Errorf("the keys table shows the secret as %q (secret %q)", got, sk)
	}
	browsertest.Check(t, ctx, "dashboard-keys-new-secret")
	step(t, ctx, "I have saved it", forget("#keys"), chromedp.Click(chromedp.CSS("#saved-test")), chromedp.WaitVisible(chromedp.CSS("#keys")))
	if text := pageText(t, ctx); strings.Contains(text, sk) || journeyCount(t, ctx, "#new-secret-test") != 0 {
		t.Fatalf("the secret is still shown after I have saved it: %q", text)
	}
	step(t, ctx, "reload keys", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys")))
	if strings.Contains(pageText(t, ctx), sk) {
		t.Fatal("the test secret is shown again")
	}

	// Live before live keys: the switch explains.
	step(t, ctx, "live too early", chromedp.Click(chromedp.CSS(`nav.books a[href$="book=live"]`)), chromedp.WaitVisible(chromedp.CSS("#message")))
	wantText(t, ctx, "#message", "no live keys yet", "first completed test payment")
	wantText(t, ctx, "h1", "Live mode is not available yet")
	browsertest.Check(t, ctx, "dashboard-not-live")

	// The checklist's test payment, made from the dashboard on the hosted page.
	dashPage(t, ctx, s, "/dashboard/go-live/", "#checklist", "go-live", "Go live", "test")
	wantText(t, ctx, "#check-test-payment", "○ Complete a test payment")
	step(t, ctx, "the way to a test payment", chromedp.Click(chromedp.CSS("#check-test-payment-link")), chromedp.WaitVisible(chromedp.CSS("#start-test-payment")))
	wantText(t, ctx, "#pay-hosted", "9800000000", "1111", "987654")
	wantText(t, ctx, "#curl-initiate", s.URL+"/api/v2/epayment/initiate/", "Authorization: Key $SK")
	dashPage(t, ctx, s, "/dashboard/test-payment/", "#start-test-payment", "test-payment", "Go live", "test")
	step(t, ctx, "start it", chromedp.Click(chromedp.CSS("#start-test-payment")), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	wantText(t, ctx, "body", "Rs 100.00")
	step(t, ctx, "sign in to pay", chromedp.SendKeys(chromedp.CSS("#mobile"), "9800000002"), chromedp.SendKeys(chromedp.CSS("#mpin"), "1111"),
		chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS("#code")))
	step(t, ctx, "pay", chromedp.SendKeys(chromedp.CSS("#code"), "987654"),
		chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#test-result")))
	wantText(t, ctx, "#test-result", "Rs 100.00", "Completed")
	back, _ := chromedp.Run(ctx, chromedp.Location())
	u, err := url.Parse(back)
	if err != nil || u.Path != "/dashboard/test-payment/" || u.Query().Get("pidx") == "" {
		t.Fatalf("the hosted page returned to %q", back)
	}
	testPidx := u.Query().Get("pidx")
	step(t, ctx, "go live again", chromedp.Navigate(s.URL+"/dashboard/go-live/"), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	wantText(t, ctx, "#check-test-payment", "✓ Completed a test payment")
	wantText(t, ctx, "#live-ready", "live keys were issued")

	// The live secret waits, sealed, for Keys, where it is shown once.
	step(t, ctx, "overview after going live", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#secret-waiting")))
	wantText(t, ctx, "#secret-waiting", "live")
	step(t, ctx, "live keys", chromedp.Click(chromedp.CSS("#reveal-link")), chromedp.WaitVisible(chromedp.CSS("#new-secret-live")))
	step(t, ctx, "reveal the live secret", chromedp.Click(chromedp.CSS("#reveal-live summary")), chromedp.WaitVisible(chromedp.CSS("#new-secret-key-live")))
	liveSK := journeyText(t, ctx, "#new-secret-key-live")
	if !dashLiveSecretRE.MatchString(liveSK) {
		t.Fatalf("live secret %q", liveSK)
	}
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/", liveSK, ""); r.Status != 200 {
		t.Fatalf("the live secret from Keys: %d %s", r.Status, r.Raw)
	}
	step(t, ctx, "saved the live secret", forget("#keys"), chromedp.Click(chromedp.CSS("#saved-live")), chromedp.WaitVisible(chromedp.CSS("#keys")))

	// Payments in both books to list: a few payers, a refund or two, one
	// not completed; a webhook endpoint that receives them.
	step(t, ctx, "webhooks", chromedp.Navigate(s.URL+"/dashboard/webhooks/"), chromedp.WaitVisible(chromedp.CSS("#url")))
	step(t, ctx, "register an endpoint", chromedp.SendKeys(chromedp.CSS("#url"), recv.srv.URL+"/thaili/webhooks/payments"),
		chromedp.Click(chromedp.CSS(`input[value="payment.completed"]`)), chromedp.Click(chromedp.CSS(`input[value="payment.refunded"]`)),
		chromedp.Click(chromedp.CSS("#register-hook")), chromedp.WaitVisible(chromedp.CSS("#new-hook")))
	if !hidden(t, ctx, "#new-hook-secret") {
		t.Error("the endpoint's secret is shown before it is revealed")
	}
	step(t, ctx, "reveal the endpoint's secret", chromedp.Click(chromedp.CSS("#reveal-hook summary")), chromedp.WaitVisible(chromedp.CSS("#new-hook-secret")))
	if !dashHookSecretRE.MatchString(journeyText(t, ctx, "#new-hook-secret")) {
		t.Errorf("endpoint secret %q", journeyText(t, ctx, "#new-hook-secret"))
	}
	step(t, ctx, "saved the endpoint's secret", forget("#endpoints"), chromedp.Click(chromedp.CSS("#saved-hook")), chromedp.WaitVisible(chromedp.CSS("#endpoints")))
	if journeyCount(t, ctx, "#new-hook") != 0 || strings.Contains(pageText(t, ctx), "whsec_") {
		t.Error("the endpoint's secret is still shown after I have saved it")
	}
	var payIdx []string
	for i, payer := range []string{"9800000001", "9800000003", "9800000004", "9800000005", "9800000001", "9800000003"} {
		payIdx = append(payIdx, payAs(t, s, pk, sk, payer, fmt.Sprintf("ORD-2082-%04d", 1001+i), fmt.Sprintf("Thangka painting, Green Tara no. %d", i+1),
			2500+i*1731, true))
	}
	payAs(t, s, pk, sk, "9800000004", "ORD-2082-1099", "Prayer flags, a set of five", 1200, false)
	mustStatus(t, s.do(t, "POST", "/api/merchant-transaction/"+payIdx[1]+"/refund/", sk, `{"amount": 500}`), 200)
	mustStatus(t, s.do(t, "POST", "/api/merchant-transaction/"+payIdx[2]+"/refund/", sk, ""), 200)
	waitFor(t, "deliveries", func() bool { return len(recv.requests()) >= 7 })

	// Every page in the test book.
	dashPage(t, ctx, s, "/dashboard/", "#chart-test", "overview", "Overview", "test")
	wantText(t, ctx, "#merchant-name", "Thamel Thangka Gallery")
	wantText(t, ctx, "#checklist", "2 of 3 done")
	dashPage(t, ctx, s, "/dashboard/transactions/", "#transactions", "payments", "Payments", "test")
	wantText(t, ctx, "#count", "8 transactions")
	if hidden(t, ctx, "#q") {
		t.Error("the search is folded away at 1280 px")
	}
	step(t, ctx, "phone width", chromedp.EmulateViewport(390, 844))
	if !hidden(t, ctx, "#q") {
		t.Error("the filters take the phone's first screen: they should fold into their <details>")
	}
	step(t, ctx, "laptop width", chromedp.EmulateViewport(1280, 900))
	dashPage(t, ctx, s, "/dashboard/transactions/"+payIdx[1]+"/?book=test", "#record", "payment", "Payments", "test")
	wantText(t, ctx, "#state", "Partially refunded")
	dashPage(t, ctx, s, "/dashboard/refunds/", "#refunds-help", "refunds", "Refunds", "test")
	wantText(t, ctx, "#count", "2 refunded payments")
	dashPage(t, ctx, s, "/dashboard/webhooks/", "#endpoints", "webhooks", "Webhooks", "test")
	step(t, ctx, "the delivery log", chromedp.Click(chromedp.CSS(`#endpoints a[id^="log-"]`)), chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	logURL, _ := chromedp.Run(ctx, chromedp.Location())
	dashPage(t, ctx, s, strings.TrimPrefix(logURL, s.URL), "#deliveries", "webhook-log", "Webhooks", "test")
	dashPage(t, ctx, s, "/dashboard/keys/", "#keys", "keys", "Keys", "test")
	dashPage(t, ctx, s, "/dashboard/settings/", "#security", "settings", "Settings", "test")

	// Search by pidx and by the payer's mobile, in the search box.
	step(t, ctx, "search by pidx", chromedp.Navigate(s.URL+"/dashboard/transactions/"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), testPidx), forget("#transactions"), chromedp.Click(chromedp.CSS("#filter")), chromedp.WaitVisible(chromedp.CSS("#transactions")))
	if n := journeyCount(t, ctx, "#transactions tbody tr"); n != 1 || !strings.Contains(journeyText(t, ctx, "#transactions"), "Dashboard test payment") {
		t.Errorf("search by pidx found %d rows: %q", n, journeyText(t, ctx, "#transactions"))
	}
	step(t, ctx, "search by mobile", chromedp.Navigate(s.URL+"/dashboard/transactions/"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "+977 9800000003"), forget("#transactions"), chromedp.Click(chromedp.CSS("#filter")), chromedp.WaitVisible(chromedp.CSS("#transactions")))
	if n := journeyCount(t, ctx, "#transactions tbody tr"); n != 2 {
		t.Errorf("search by the payer's mobile found %d rows, want 2: %q", n, journeyText(t, ctx, "#transactions"))
	}

	// Live: the overview and keys of the live book.
	dashPage(t, ctx, s, "/dashboard/?book=live", "#chart-live", "overview-live", "Overview", "live")
	if journeyCount(t, ctx, "#test-mode") != 0 {
		t.Error("the live book shows the test-mode ribbon")
	}
	step(t, ctx, "live keys", chromedp.Navigate(s.URL+"/dashboard/keys/?book=live"), chromedp.WaitVisible(chromedp.CSS("#keys")))
	if text := pageText(t, ctx); strings.Contains(text, liveSK) || !dashLivePublicRE.MatchString(text) {
		t.Fatalf("live keys after I have saved it: %q", text)
	}
	step(t, ctx, "live payments", chromedp.Navigate(s.URL+"/dashboard/transactions/?book=live"), chromedp.WaitVisible(chromedp.CSS("#no-transactions")))
	// The navigation keeps the book.
	if href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('nav.side a[href^="/dashboard/refunds/"]').getAttribute("href")`)); err != nil || href != "/dashboard/refunds/?book=live" {
		t.Errorf("in live mode the navigation leads to %q (%v)", href, err)
	}
	s.ledgerOK(t)
}

// payAs completes (or only confirms) a legacy payment by payer.
func payAs(t *testing.T, s *testServer, pk, sk, payer, order, name string, amount int, complete bool) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{
		"public_key": pk, "mobile": payer, "transaction_pin": "1111", "amount": amount, "product_identity": order, "product_name": name}))
	mustStatus(t, r, 200)
	token := r.Body["token"].(string)
	idx := s.confirm(t, pk, token)
	if complete {
		mustStatus(t, s.verify(t, sk, token, amount), 200)
	}
	return idx
}
