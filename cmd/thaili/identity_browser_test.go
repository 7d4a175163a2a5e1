package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// shotBoth screenshots the current page at a desktop (1280 px) and a
// phone (390 px) width.
func shotBoth(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, vp := range []struct {
		suffix string
		w, h   int64
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		step(t, ctx, "viewport "+vp.suffix, chromedp.EmulateViewport(vp.w, vp.h))
		browsertest.Screenshot(t, ctx, name+"-"+vp.suffix)
	}
}

// TestBrowserIdentityPages walks the pages issue 11 changed, in Chromium,
// and screenshots each at 1280 and 390 px: the merchant's code form
// (no keys before the phone is confirmed), the first dashboard showing
// the test keys once, the wallet page with its lock and notices, the
// reset-code form that reads the same for any number, the hosted page
// in a second browser while the payer pays, and the console's wallet
// row with the lock.
func TestBrowserIdentityPages(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 90*time.Second)
	const phone, mobile, mpin = "9812380001", "9812380002", "2580"

	step(t, ctx, "sign up", chromedp.Navigate(s.URL+"/join/merchant/"), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Janakpur Weaves"), chromedp.SendKeys(chromedp.CSS("#email"), "weaves@janakpur.example"),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone), chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	wantText(t, ctx, "main", "We sent a 6-digit code to 98XXXXX001. Once it is confirmed, your dashboard shows your test keys.")
	shotBoth(t, ctx, "identity-1-merchant-code")
	step(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, phone)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-test")), chromedp.Click(chromedp.CSS("#reveal-test summary")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-key-test")))
	wantText(t, ctx, "#new-secret-test", "test_secret_key_", "shown only this once")
	shotBoth(t, ctx, "identity-2-first-dashboard")

	// A wallet, locked by three wrong MPINs on its log-in page.
	s.cliOK(t, "consumer", "create", "--mobile", mobile, "--name", "Gita Yadav", "--mpin", mpin)
	w := browsertest.New(t, 90*time.Second)
	step(t, w, "log in", chromedp.Navigate(s.URL+"/me/login/"), chromedp.WaitVisible(chromedp.CSS("#mpin")),
		chromedp.SendKeys(chromedp.CSS("#mobile"), mobile), chromedp.SendKeys(chromedp.CSS("#mpin"), mpin),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#notices")))
	wantText(t, w, "#notices", "Nothing to report.")
	g := browsertest.New(t, 90*time.Second)
	step(t, g, "open log-in", chromedp.Navigate(s.URL+"/me/login/"), chromedp.WaitVisible(chromedp.CSS("#mpin")))
	for range 3 {
		step(t, g, "wrong MPIN", forget(".error"), chromedp.SetValue(chromedp.CSS("#mobile"), mobile), chromedp.SetValue(chromedp.CSS("#mpin"), "0000"),
			chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS(".error")))
	}
	wantText(t, g, "main", "Try again in 30 minutes, or reset your PIN to unlock it now.")
	shotBoth(t, g, "identity-3-locked-login")
	step(t, w, "wallet", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#locked")))
	wantText(t, w, "#locked", "locked for payments after wrong MPINs until")
	wantText(t, w, "#notices", "Your wallet was locked after 3 wrong MPINs in a row, the last one on the wallet log-in")
	shotBoth(t, w, "identity-4-wallet-notices")

	// The reset-code form, for a number without a wallet: it reads the
	// same as for one with a wallet.
	step(t, g, "reset", chromedp.Navigate(s.URL+"/me/reset/"), chromedp.WaitVisible(chromedp.CSS("#send-code")),
		chromedp.SendKeys(chromedp.CSS("#mobile"), "9812389999"), chromedp.Click(chromedp.CSS("#send-code")), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	wantText(t, g, "main", "If 98XXXXX999 has a wallet, we sent a 6-digit code to it.")
	shotBoth(t, g, "identity-5-reset-code")

	// The hosted page: the payer signs in; a second browser with the link
	// is told the payment is being paid elsewhere.
	rr := newReturnRecorder(t)
	_, payURL := browserEPayment(t, s, rr)
	p := browsertest.New(t, 90*time.Second)
	step(t, p, "payer signs in", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#mobile")),
		chromedp.SendKeys(chromedp.CSS("#mobile"), "9800000001"), chromedp.SendKeys(chromedp.CSS("#mpin"), "1111"),
		chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS("#code")))
	other := browsertest.New(t, 90*time.Second)
	step(t, other, "the link in another browser", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("main")))
	wantText(t, other, "main", "This payment is being paid in another browser.")
	if journeyCount(t, other, "#code, #mpin") != 0 {
		t.Fatal("the other browser is shown a form")
	}
	shotBoth(t, other, "identity-6-paid-elsewhere")

	// The console shows the wallet's lock.
	op := browserOperator(t, s, "identity-7")
	row := byID("wallet-" + mobile)
	step(t, op, "wallets", chromedp.Navigate(s.URL+"/admin/consumers/?q="+mobile), chromedp.WaitVisible(chromedp.CSS(row)))
	wantText(t, op, row, "locked for payments after wrong MPINs until")
	shotBoth(t, op, "identity-7-console-lock")
}
