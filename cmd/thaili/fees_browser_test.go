package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// TestBrowserFeesAndChart: in Chromium, a merchant's dashboard draws the
// day's payments as SVG bars beside its fee schedule; an operator changes
// the schedule in the console and the merchant's dashboard shows it.
func TestBrowserFeesAndChart(t *testing.T) {
	s := startServer(t)
	const opEmail, opPassword = "chart-ops@thaili.example", "operator password 1"
	if out, err := s.cli(t, "admin", "create", "--email", opEmail, "--password", opPassword); err != nil {
		t.Fatalf("admin create: %v\n%s", err, out)
	}
	pk, sk := signUpMerchant(t, newMerchantBrowser(t, s), "Chart Shop", "chart@shop.example", "9812345602", "merchant password")
	for _, amount := range []int{1000, 2500, 4000} {
		s.pay(t, pk, sk, "9800000001", amount)
	}
	ctx := browsertest.New(t, 60*time.Second)

	step(t, ctx, "log in", chromedp.Navigate(s.URL+"/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "chart@shop.example"), chromedp.SendKeys(chromedp.CSS("#password"), "merchant password"),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#chart-test")))
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll("#chart-test rect")].map(r => r.getBoundingClientRect().height)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(bars) != 2 || bars[0] < 50 || bars[1] < 20 {
		t.Fatalf("today's drawn bars (volume, count) are %v px tall; want two visible bars", bars)
	}
	wantText(t, ctx, "#chart-test p", "3 payments, Rs 75.00")
	wantText(t, ctx, "#fees-test", "Rs 10.00 and up", "3.00% + Rs 0.00")
	browsertest.Screenshot(t, ctx, "fees-1-dashboard")

	step(t, ctx, "operator log in", chromedp.Navigate(s.URL+"/admin/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), opEmail), chromedp.SendKeys(chromedp.CSS("#password"), opPassword),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#ledger-ok")))
	step(t, ctx, "open the fee page", chromedp.Navigate(s.URL+"/admin/merchants/?q=chart"), chromedp.WaitVisible(chromedp.CSS("#results a[id^=fees-]")),
		chromedp.Click(chromedp.CSS("#results a[id^=fees-]")), chromedp.WaitVisible(chromedp.CSS("#test-percent0")))
	// The error paragraph is found by class: chromedp v0.23 never matched "#error" here.
	step(t, ctx, "a wrong schedule", chromedp.SetValue(chromedp.CSS("#test-to0"), "50"), chromedp.Click(chromedp.CSS("#save-test")),
		chromedp.WaitVisible(chromedp.CSS("main > p.error")))
	if msg := journeyText(t, ctx, "main > p.error"); msg != "Tier 1: the last tier must have no upper limit, so that every amount has a fee." {
		t.Fatalf("error shown: %q", msg)
	}
	browsertest.Screenshot(t, ctx, "fees-2-console-refused")
	// Amounts are in rupees.
	step(t, ctx, "a good schedule", chromedp.SetValue(chromedp.CSS("#test-to0"), "20"), chromedp.SetValue(chromedp.CSS("#test-percent0"), "0"),
		chromedp.SetValue(chromedp.CSS("#test-flat0"), "0.50"), chromedp.SetValue(chromedp.CSS("#test-from1"), "20.01"),
		chromedp.SetValue(chromedp.CSS("#test-percent1"), "2.25"), chromedp.Click(chromedp.CSS("#save-test")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, ctx, "#notice", "Rs 10.00 to Rs 20.00: 0.00% + Rs 0.50; Rs 20.01 and up: 2.25% + Rs 0.00")
	browsertest.Screenshot(t, ctx, "fees-3-console-saved")

	step(t, ctx, "dashboard again", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#fees-test")))
	wantText(t, ctx, "#fees-test", "Rs 20.01 and up", "2.25% + Rs 0.00")
	s.ledgerOK(t)
}
