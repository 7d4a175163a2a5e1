package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// TestBrowserWalletAndConsolePages visits every page of the consumer
// wallet and the operator console in Chromium, with content in each
// (payments, a refund, notices, a lock, a merchant's KYC, fee
// schedules, a top-up in rupees), and runs the page checks of
// docs/pages.md on each at 1280 and 390 px (browsertest.Check).
func TestBrowserWalletAndConsolePages(t *testing.T) {
	s := startServer(t)
	const mobile, mpin, name = "9812390001", "1111", "Sunita Gurung"
	s.cliOK(t, "consumer", "create", "--mobile", mobile, "--name", name, "--mpin", mpin)
	s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "123456789")
	var idxs []string
	for _, amount := range []int{1500, 250000, 99999} {
		_, idx := s.pay(t, testPK, testSK, mobile, amount)
		idxs = append(idxs, idx)
	}
	if r := s.do(t, "POST", "/api/v2/epayment/merchant-transaction/"+idxs[1]+"/refund/", testSK, `{"amount": 50000}`); r.Status != 200 {
		t.Fatalf("partial refund: %s", r.Raw)
	}

	// --- the wallet ---
	w := browsertest.New(t, 300*time.Second)
	step(t, w, "sign-up form", chromedp.Navigate(s.URL+"/join/"), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	browsertest.Check(t, w, "wallet-signup")
	const newMobile = "9812390002"
	step(t, w, "sign up", chromedp.SendKeys(chromedp.CSS("#mobile"), newMobile), chromedp.SendKeys(chromedp.CSS("#name"), "Bikash Tamang"),
		chromedp.SendKeys(chromedp.CSS("#mpin"), "2468"), chromedp.SendKeys(chromedp.CSS("#mpin2"), "2468"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	wantText(t, w, "main", "We sent a 6-digit code to 98XXXXX002.")
	browsertest.Check(t, w, "wallet-confirm")
	step(t, w, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, newMobile)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#balances")))
	wantText(t, w, "#history", "No payments yet.")
	browsertest.Check(t, w, "wallet-overview-new")
	step(t, w, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
	browsertest.Check(t, w, "wallet-login")

	step(t, w, "log in", chromedp.SendKeys(chromedp.CSS("#mobile"), mobile), chromedp.SendKeys(chromedp.CSS("#mpin"), mpin),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#balances")))
	// Three wrong MPINs elsewhere lock the wallet; the owner sees it.
	g := newMerchantBrowser(t, s)
	g.get(t, "/me/login/")
	for range 3 {
		g.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"0000"}})
	}
	step(t, w, "overview", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#locked")))
	wantText(t, w, ".balance-test", "Rs 12,31,552.90") // Rs 12,34,567.89 less three payments (Rs 3,514.99), plus a refund of Rs 500
	wantText(t, w, "#history", "Rs 2,500.00", "Partially refunded", "Rs 999.99")
	wantText(t, w, "#notices", "Your wallet was locked after 3 wrong MPINs in a row")
	browsertest.Check(t, w, "wallet-overview")
	step(t, w, "payments", chromedp.Click(chromedp.CSS(`nav.side a[href="/me/payments/"]`)), chromedp.WaitVisible(chromedp.CSS("#history tr.payment")))
	wantText(t, w, "#history", idxs[1], "Rs 500.00", "Partially refunded")
	if n := journeyCount(t, w, "#history tr.payment"); n != 3 {
		t.Errorf("payments page shows %d payments, want 3", n)
	}
	browsertest.Check(t, w, "wallet-payments")
	step(t, w, "notices", chromedp.Click(chromedp.CSS(`nav.side a[href="/me/notices/"]`)), chromedp.WaitVisible(chromedp.CSS("#notices tr.notice")))
	wantText(t, w, "#notices", "Your wallet was locked after 3 wrong MPINs in a row")
	browsertest.Check(t, w, "wallet-notices")
	step(t, w, "reset form", chromedp.Click(chromedp.CSS(`nav.side a[href="/me/reset/"]`)), chromedp.WaitVisible(chromedp.CSS("#send-code")))
	wantText(t, w, "main", "98XXXXX001")
	if journeyCount(t, w, "#mobile") != 0 {
		t.Error("the signed-in reset form asks for a mobile number")
	}
	browsertest.Check(t, w, "wallet-reset")
	step(t, w, "send a reset code", chromedp.Click(chromedp.CSS("#send-code")), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	wantText(t, w, "main", "We sent a 6-digit code to your phone, 98XXXXX001.")
	browsertest.Check(t, w, "wallet-reset-code")
	step(t, w, "a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "000000"), chromedp.SendKeys(chromedp.CSS("#mpin"), "1357"),
		chromedp.SendKeys(chromedp.CSS("#mpin2"), "1357"), chromedp.Click(chromedp.CSS("#reset")), chromedp.WaitVisible(chromedp.CSS("main > p.error")))
	browsertest.Check(t, w, "wallet-reset-refused")
	step(t, w, "log out again", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.Navigate(s.URL+"/me/reset/"), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	browsertest.Check(t, w, "wallet-reset-signed-out")

	// --- the console ---
	const opEmail, opPassword = "ops@pages.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)
	mb := newMerchantBrowser(t, s)
	signUpMerchant(t, mb, "Pokhara Paper Works", "paper@pokhara.example", "9812390003", "merchant password")
	merchantIdx := submitKYC(t, mb)

	op := browsertest.New(t, 300*time.Second)
	step(t, op, "console log-in form", chromedp.Navigate(s.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	browsertest.Check(t, op, "console-login")
	step(t, op, "console log in", chromedp.SendKeys(chromedp.CSS("#email"), opEmail), chromedp.SendKeys(chromedp.CSS("#password"), opPassword),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#ledger-ok")))
	wantText(t, op, "#kyc-queue", "Pokhara Paper Works")
	wantText(t, op, "header .user", opEmail)
	browsertest.Check(t, op, "console-overview")
	step(t, op, "merchants", chromedp.Click(chromedp.CSS(`#kyc-queue a[href^="/admin/merchants/"]`)), chromedp.WaitVisible(chromedp.CSS(byID("merchant-"+merchantIdx))))
	wantText(t, op, byID("merchant-"+merchantIdx), "Himal Traders Pvt. Ltd.", "submitted")
	browsertest.Check(t, op, "console-merchants")
	step(t, op, "fees", chromedp.Click(chromedp.CSS(byID("fees-"+merchantIdx))), chromedp.WaitVisible(chromedp.CSS("#test-from0")))
	step(t, op, "set a schedule in rupees", chromedp.SetValue(chromedp.CSS("#test-to0"), "1,000"), chromedp.SetValue(chromedp.CSS("#test-percent0"), "0"),
		chromedp.SetValue(chromedp.CSS("#test-flat0"), "5"), chromedp.SetValue(chromedp.CSS("#test-from1"), "1,000.01"),
		chromedp.SetValue(chromedp.CSS("#test-percent1"), "1.5"), chromedp.Click(chromedp.CSS("#save-test")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, op, "#notice", "Rs 10.00 to Rs 1,000.00: 0.00% + Rs 5.00; Rs 1,000.01 and up: 1.50% + Rs 0.00")
	browsertest.Check(t, op, "console-fees")

	step(t, op, "wallets", chromedp.Click(chromedp.CSS(`nav.side a[href="/admin/consumers/"]`)), chromedp.WaitVisible(chromedp.CSS("#q")),
		forget("#results"), chromedp.SendKeys(chromedp.CSS("#q"), "981239"), chromedp.Click(chromedp.CSS("#search")),
		chromedp.WaitVisible(chromedp.CSS(byID("wallet-"+mobile))))
	if n := journeyCount(t, op, "#results tr[id^=wallet-]"); n != 2 {
		t.Fatalf("the search for 981239 shows %d wallets, want the 2 made here", n)
	}
	row := byID("wallet-" + mobile)
	wantText(t, op, row, name, "locked for payments after wrong MPINs until")
	step(t, op, "a top-up with three decimals", chromedp.SendKeys(chromedp.CSS(byID("amount-"+mobile)), "10.505"),
		chromedp.Click(chromedp.CSS(row+` form[action="/admin/consumers/topup"] button`)), chromedp.WaitVisible(chromedp.CSS("main > p.error")))
	wantText(t, op, "main > p.error", "Enter at most two decimals")
	browsertest.Check(t, op, "console-wallets-refused")
	step(t, op, "a top-up in rupees", chromedp.SetValue(chromedp.CSS(byID("amount-"+mobile)), "1,500.50"),
		chromedp.SetValue(chromedp.CSS(row+` select[name=book]`), "test"),
		chromedp.Click(chromedp.CSS(row+` form[action="/admin/consumers/topup"] button`)), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, op, "#notice", "Credited Rs 1,500.50 to "+mobile+" (test book)")
	if n := journeyCount(t, op, "#results tr[id^=wallet-]"); n != 2 {
		t.Errorf("after the top-up the page shows %d wallets, want the search's 2", n)
	}
	wantText(t, op, row+" .balance-test", "Rs 12,33,053.40")
	browsertest.Check(t, op, "console-wallets")
	step(t, op, "audit log", chromedp.Click(chromedp.CSS(`nav.side a[href="/admin/audit/"]`)), chromedp.WaitVisible(chromedp.CSS("#audit")))
	wantText(t, op, "#audit", "wallet.topup", "fees.set", opEmail)
	browsertest.Check(t, op, "console-audit")
	if text := pageText(t, op); !strings.Contains(text, "Times are Nepal time") {
		t.Error("the console does not say its times are Nepal time")
	}
	s.ledgerOK(t)
}
