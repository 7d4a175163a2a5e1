package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// TestBrowserHomePage: / is the home page, with the sandbox's keys and
// payers on a sandbox and only the public links on a server that is not
// one, whose /sandbox/inbox/ does not exist; a pidx keeps / the hosted
// payment page.
func TestBrowserHomePage(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 90*time.Second)
	step(t, ctx, "home", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#test-keys")))
	wantText(t, ctx, "#test-keys", testPK, testSK, "demo@thaili.local")
	wantText(t, ctx, "#test-payers", "9800000000 to 9800000005", "1111", "987654", "Rs 10,00,000.00", "9800000013", "locked")
	wantText(t, ctx, "#links", "Demo shop", "API docs", "Sign up", "Log in", "Open a wallet", "Console")
	for _, link := range []string{"/demo/", "/docs/", "/join/merchant/", "/login/", "/join/", "/me/login/", "/admin/", "/sandbox/inbox/"} {
		if journeyCount(t, ctx, `main a[href="`+link+`"]`) == 0 {
			t.Errorf("the sandbox home page has no link to %s", link)
		}
	}
	browsertest.Check(t, ctx, "home")
	step(t, ctx, "the demo shop from home", chromedp.Click(chromedp.CSS("#demo-link")), chromedp.WaitReady(chromedp.CSS("body")))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/demo/") {
		t.Errorf("the demo shop link went to %q (%v)", loc, err)
	}

	// A pidx makes / the hosted page, an unknown one its "not found".
	r := s.do(t, "GET", "/?pidx=unknown", "", "")
	mustStatus(t, r, 404)
	step(t, ctx, "unknown pidx", chromedp.Navigate(s.URL+"/?pidx=unknown"), chromedp.WaitVisible(chromedp.CSS("body")))
	if text := pageText(t, ctx); !strings.Contains(text, "Payment not found") || strings.Contains(text, testSK) {
		t.Errorf("/?pidx=unknown: %q", text)
	}
	rr := newReturnRecorder(t)
	_, payURL := browserEPayment(t, s, rr)
	step(t, ctx, "a payment's page", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	if text := pageText(t, ctx); !strings.Contains(text, "Dhaka topi") || strings.Contains(text, testSK) {
		t.Errorf("payment_url shows %q", text)
	}

	// A server that is not a sandbox.
	live := startServerDB(t, filepath.Join(t.TempDir(), "live.db"), liveCosts, "--sandbox=false")
	step(t, ctx, "live home", chromedp.Navigate(live.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#links")))
	text := pageText(t, ctx)
	for _, secret := range []string{testPK, testSK, "test_public_key_", "test_secret_key_", "9800000001", "987654", "1111", "sandbox", "Sandbox"} {
		if strings.Contains(text, secret) {
			t.Errorf("a live server's home page shows %q", secret)
		}
	}
	for _, link := range []string{"/docs/", "/join/merchant/", "/login/", "/join/", "/me/login/", "/admin/"} {
		if journeyCount(t, ctx, `main a[href="`+link+`"]`) == 0 {
			t.Errorf("the live home page has no link to %s", link)
		}
	}
	if n := journeyCount(t, ctx, `#test-keys, #test-payers, a[href="/demo/"], a[href="/sandbox/inbox/"]`); n != 0 {
		t.Errorf("the live home page has %d sandbox elements", n)
	}
	browsertest.Check(t, ctx, "home-live")
	mustStatus(t, live.do(t, "GET", "/sandbox/inbox/", "", ""), 404)
}

// TestBrowserSandboxInbox: a merchant who signs up in the sandbox finds
// the code in this browser's inbox and confirms with it; another
// browser's inbox is empty, and stays empty after it asks for an MPIN
// reset code for a wallet that is not its own.
func TestBrowserSandboxInbox(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 90*time.Second)
	const phone = "9812370001"
	step(t, ctx, "sign up", chromedp.Navigate(s.URL+"/join/merchant/"), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Bhaktapur Pottery"), chromedp.SendKeys(chromedp.CSS("#email"), "pots@bhaktapur.example"),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone), chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))

	// The inbox, in another tab of the same browser.
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	step(t, tab, "inbox", chromedp.Navigate(s.URL+"/sandbox/inbox/"), chromedp.WaitVisible(chromedp.CSS("#messages")))
	logged := s.lastAccountCode(t, phone)
	wantText(t, tab, "#messages", "98XXXXX001", "Phone confirmation code", logged)
	if n := journeyCount(t, tab, "#messages tr.message"); n != 1 {
		t.Errorf("the inbox shows %d messages, want 1", n)
	}
	code := journeyText(t, tab, "#code-0")
	browsertest.Check(t, tab, "inbox")

	step(t, ctx, "confirm with the inbox's code", chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-test"))) // a confirmed phone lands on Keys, with the test secret once

	// A stranger's browser: nothing, even after asking for a reset code
	// for a sandbox payer's wallet.
	other := browsertest.New(t, 90*time.Second)
	step(t, other, "reset a payer's MPIN", chromedp.Navigate(s.URL+"/me/reset/"), chromedp.WaitVisible(chromedp.CSS("#send-code")),
		chromedp.SendKeys(chromedp.CSS("#mobile"), "9800000001"), chromedp.Click(chromedp.CSS("#send-code")), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	step(t, other, "a stranger's inbox", chromedp.Navigate(s.URL+"/sandbox/inbox/"), chromedp.WaitVisible(chromedp.CSS("#empty")))
	text := pageText(t, other)
	if strings.Contains(text, code) || strings.Contains(text, "98XXXXX001") || journeyCount(t, other, "#messages") != 0 {
		t.Errorf("another browser's inbox shows messages: %q", text)
	}
	if !strings.Contains(s.Stderr.String(), "reset MPIN") {
		t.Error("no MPIN reset code was sent: the test does not test that it stays out of the inbox")
	}
	browsertest.Check(t, other, "inbox-empty")
}
