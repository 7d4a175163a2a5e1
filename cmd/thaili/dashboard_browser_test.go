package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// TestBrowserMerchantSignUp: sign up, confirm the phone with the logged
// code, and land on Keys with the test keys (the secret once), in
// Chromium.
func TestBrowserMerchantSignUp(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 90*time.Second)
	const phone = "9812340001"

	step(t, ctx, "open sign-up", chromedp.Navigate(s.URL+"/join/merchant/"), chromedp.WaitVisible(chromedp.CSS("#name")))
	browsertest.Screenshot(t, ctx, "merchant-1-signup")
	step(t, ctx, "sign up", chromedp.SendKeys(chromedp.CSS("#name"), "Pokhara <b>Crafts</b>"),
		chromedp.SendKeys(chromedp.CSS("#email"), "crafts@pokhara.example"), chromedp.SendKeys(chromedp.CSS("#phone"), phone),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"), chromedp.Click(chromedp.CSS("#signup")),
		chromedp.WaitVisible(chromedp.CSS("#code")))
	text := pageText(t, ctx)
	if !strings.Contains(text, "Confirm your phone") || dashTestSecretRE.MatchString(text) {
		t.Fatalf("confirmation page (no keys before the phone is confirmed): %q", text)
	}
	browsertest.Screenshot(t, ctx, "merchant-2-confirm")

	step(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, phone)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-test")), chromedp.Click(chromedp.CSS("#reveal-test summary")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-key-test")))
	text = pageText(t, ctx)
	sk := dashTestSecretRE.FindString(text)
	if !dashTestPublicRE.MatchString(text) || sk == "" || !strings.Contains(text, "shown only this once") {
		t.Fatalf("first keys page: %q", text)
	}
	browsertest.Screenshot(t, ctx, "merchant-3-keys")
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys")))
	if text = pageText(t, ctx); strings.Contains(text, sk) || !dashTestPublicRE.MatchString(text) {
		t.Fatalf("the test secret is shown again: %q", text)
	}
	step(t, ctx, "overview", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	if text = pageText(t, ctx); !strings.Contains(text, "Pokhara <b>Crafts</b>") || !strings.Contains(text, "Complete a test payment") || strings.Contains(text, sk) {
		t.Fatalf("first overview: %q", text)
	}
	browsertest.Screenshot(t, ctx, "merchant-4-overview")

	step(t, ctx, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
	step(t, ctx, "dashboard after logout", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#login")))
}
