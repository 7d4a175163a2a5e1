package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// wcPageReport is what wcPageJS reads from the page in the browser.
type wcPageReport struct {
	ScrollWidth, ClientWidth int
	Unlabelled               []string // inputs without a <label>
	LowContrast              []string // text below 4.5:1 (3:1 when large) on its background
}

// wcPageJS measures the page: sideways scrolling, inputs without a
// label, and the contrast of every visible text against the background
// it is drawn on (the first opaque background among its ancestors).
const wcPageJS = `(() => {
  const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = c => {
    const ch = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] >= 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const low = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
    if (!own) continue;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.width <= 1 || r.height <= 1 || s.visibility === "hidden" || s.display === "none" || r.right < 0) continue;
    const fg = rgb(s.color), bg = background(el);
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
    if (ratio < need) low.push(name(el) + " " + s.color + " on rgb(" + bg.join(",") + ") " + ratio.toFixed(2) + ":1");
  }
  const unlabelled = [...document.querySelectorAll("input, select, textarea")]
    .filter(e => e.type !== "hidden" && e.type !== "submit" && e.type !== "button" && e.labels.length === 0)
    .map(e => name(e) + "[name=" + e.name + "]");
  return {ScrollWidth: document.documentElement.scrollWidth, ClientWidth: document.documentElement.clientWidth, Unlabelled: unlabelled, LowContrast: low};
})()`

// wcFocusJS names the focused element if it shows no focus outline.
const wcFocusJS = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "nothing focused";
  const s = getComputedStyle(e);
  return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) ? "" : e.tagName.toLowerCase() + "#" + e.id + " (outline " + s.outlineStyle + " " + s.outlineWidth + ")";
})()`

// checkWCPage screenshots the current page as name-1280 and name-390
// (1280x900 and 390x844) and checks it at both widths: nothing scrolls
// sideways at 390 px, every input has a label, text contrast is at least
// 4.5:1 (3:1 for large text), and the first few elements Tab reaches
// show a focus outline.
func checkWCPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, vp := range []struct {
		w, h int64
	}{{1280, 900}, {390, 844}} {
		shot := fmt.Sprintf("%s-%d", name, vp.w)
		step(t, ctx, "viewport for "+shot, chromedp.EmulateViewport(vp.w, vp.h))
		browsertest.Screenshot(t, ctx, shot)
		rep, err := chromedp.Run(ctx, chromedp.Evaluate[wcPageReport](wcPageJS))
		if err != nil {
			t.Fatalf("%s: measuring: %v", shot, err)
		}
		if vp.w == 390 && rep.ScrollWidth > rep.ClientWidth {
			t.Errorf("%s scrolls sideways: scrollWidth %d > clientWidth %d", shot, rep.ScrollWidth, rep.ClientWidth)
		}
		for _, u := range rep.Unlabelled {
			t.Errorf("%s: an input without a <label>: %s", shot, u)
		}
		for _, c := range rep.LowContrast {
			t.Errorf("%s: low contrast: %s", shot, c)
		}
	}
	// Keyboard focus, from the top of the page; then back to how it was.
	step(t, ctx, name+": focus from the top", chromedp.EmulateViewport(1280, 900),
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`))
	for i := range 4 {
		step(t, ctx, fmt.Sprintf("%s: tab %d", name, i+1), chromedp.KeyEvent("\t"))
		if bad, err := chromedp.Run(ctx, chromedp.Evaluate[string](wcFocusJS)); err != nil || bad != "" {
			t.Errorf("%s: tab %d: no visible focus: %s %v", name, i+1, bad, err)
		}
	}
	step(t, ctx, name+": blur", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
}

// TestBrowserWalletAndConsolePages visits every page of the consumer
// wallet and the operator console in Chromium, with content in each
// (payments, a refund, notices, a lock, a merchant's KYC, fee
// schedules, a top-up in rupees), and checks each at 1280 and 390 px.
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
	checkWCPage(t, w, "wallet-signup")
	const newMobile = "9812390002"
	step(t, w, "sign up", chromedp.SendKeys(chromedp.CSS("#mobile"), newMobile), chromedp.SendKeys(chromedp.CSS("#name"), "Bikash Tamang"),
		chromedp.SendKeys(chromedp.CSS("#mpin"), "2468"), chromedp.SendKeys(chromedp.CSS("#mpin2"), "2468"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	wantText(t, w, "main", "We sent a 6-digit code to 98XXXXX002.")
	checkWCPage(t, w, "wallet-confirm")
	step(t, w, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, newMobile)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#balances")))
	wantText(t, w, "#history", "No payments yet.")
	checkWCPage(t, w, "wallet-overview-new")
	step(t, w, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
	checkWCPage(t, w, "wallet-login")

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
	checkWCPage(t, w, "wallet-overview")
	step(t, w, "payments", chromedp.Click(chromedp.CSS(`nav.side a[href="/me/payments/"]`)), chromedp.WaitVisible(chromedp.CSS("#history tr.payment")))
	wantText(t, w, "#history", idxs[1], "Rs 500.00", "Partially refunded")
	if n := journeyCount(t, w, "#history tr.payment"); n != 3 {
		t.Errorf("payments page shows %d payments, want 3", n)
	}
	checkWCPage(t, w, "wallet-payments")
	step(t, w, "notices", chromedp.Click(chromedp.CSS(`nav.side a[href="/me/notices/"]`)), chromedp.WaitVisible(chromedp.CSS("#notices tr.notice")))
	wantText(t, w, "#notices", "Your wallet was locked after 3 wrong MPINs in a row")
	checkWCPage(t, w, "wallet-notices")
	step(t, w, "reset form", chromedp.Click(chromedp.CSS(`nav.side a[href="/me/reset/"]`)), chromedp.WaitVisible(chromedp.CSS("#send-code")))
	wantText(t, w, "main", "98XXXXX001")
	if journeyCount(t, w, "#mobile") != 0 {
		t.Error("the signed-in reset form asks for a mobile number")
	}
	checkWCPage(t, w, "wallet-reset")
	step(t, w, "send a reset code", chromedp.Click(chromedp.CSS("#send-code")), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	wantText(t, w, "main", "We sent a 6-digit code to your phone, 98XXXXX001.")
	checkWCPage(t, w, "wallet-reset-code")
	step(t, w, "a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "000000"), chromedp.SendKeys(chromedp.CSS("#mpin"), "1357"),
		chromedp.SendKeys(chromedp.CSS("#mpin2"), "1357"), chromedp.Click(chromedp.CSS("#reset")), chromedp.WaitVisible(chromedp.CSS("main > p.error")))
	checkWCPage(t, w, "wallet-reset-refused")
	step(t, w, "log out again", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.Navigate(s.URL+"/me/reset/"), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	checkWCPage(t, w, "wallet-reset-signed-out")

	// --- the console ---
	const opEmail, opPassword = "ops@pages.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)
	mb := newMerchantBrowser(t, s)
	signUpMerchant(t, mb, "Pokhara Paper Works", "paper@pokhara.example", "9812390003", "merchant password")
	merchantIdx := submitKYC(t, mb)

	op := browsertest.New(t, 300*time.Second)
	step(t, op, "console log-in form", chromedp.Navigate(s.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	checkWCPage(t, op, "console-login")
	step(t, op, "console log in", chromedp.SendKeys(chromedp.CSS("#email"), opEmail), chromedp.SendKeys(chromedp.CSS("#password"), opPassword),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#ledger-ok")))
	wantText(t, op, "#kyc-queue", "Pokhara Paper Works")
	wantText(t, op, "header .user", opEmail)
	checkWCPage(t, op, "console-overview")
	step(t, op, "merchants", chromedp.Click(chromedp.CSS(`#kyc-queue a[href^="/admin/merchants/"]`)), chromedp.WaitVisible(chromedp.CSS(byID("merchant-"+merchantIdx))))
	wantText(t, op, byID("merchant-"+merchantIdx), "Himal Traders Pvt. Ltd.", "submitted")
	checkWCPage(t, op, "console-merchants")
	step(t, op, "fees", chromedp.Click(chromedp.CSS(byID("fees-"+merchantIdx))), chromedp.WaitVisible(chromedp.CSS("#test-from0")))
	step(t, op, "set a schedule in rupees", chromedp.SetValue(chromedp.CSS("#test-to0"), "1,000"), chromedp.SetValue(chromedp.CSS("#test-percent0"), "0"),
		chromedp.SetValue(chromedp.CSS("#test-flat0"), "5"), chromedp.SetValue(chromedp.CSS("#test-from1"), "1,000.01"),
		chromedp.SetValue(chromedp.CSS("#test-percent1"), "1.5"), chromedp.Click(chromedp.CSS("#save-test")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, op, "#notice", "Rs 10.00 to Rs 1,000.00: 0.00% + Rs 5.00; Rs 1,000.01 and up: 1.50% + Rs 0.00")
	checkWCPage(t, op, "console-fees")

	step(t, op, "wallets", chromedp.Click(chromedp.CSS(`nav.side a[href="/admin/consumers/"]`)), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "981239"), chromedp.Click(chromedp.CSS("#search")), chromedp.WaitVisible(chromedp.CSS(byID("wallet-"+mobile))))
	row := byID("wallet-" + mobile)
	wantText(t, op, row, name, "locked for payments after wrong MPINs until")
	step(t, op, "a top-up with three decimals", chromedp.SendKeys(chromedp.CSS(byID("amount-"+mobile)), "10.505"),
		chromedp.Click(chromedp.CSS(row+` form[action="/admin/consumers/topup"] button`)), chromedp.WaitVisible(chromedp.CSS("main > p.error")))
	wantText(t, op, "main > p.error", "Enter at most two decimals")
	checkWCPage(t, op, "console-wallets-refused")
	step(t, op, "a top-up in rupees", chromedp.SetValue(chromedp.CSS(byID("amount-"+mobile)), "1,500.50"),
		chromedp.SetValue(chromedp.CSS(row+` select[name=book]`), "test"),
		chromedp.Click(chromedp.CSS(row+` form[action="/admin/consumers/topup"] button`)), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, op, "#notice", "Credited Rs 1,500.50 to "+mobile+" (test book)")
	wantText(t, op, row+" .balance-test", "Rs 12,33,053.40")
	checkWCPage(t, op, "console-wallets")
	step(t, op, "audit log", chromedp.Click(chromedp.CSS(`nav.side a[href="/admin/audit/"]`)), chromedp.WaitVisible(chromedp.CSS("#audit")))
	wantText(t, op, "#audit", "wallet.topup", "fees.set", opEmail)
	checkWCPage(t, op, "console-audit")
	if text := pageText(t, op); !strings.Contains(text, "Times are Nepal time") {
		t.Error("the console does not say its times are Nepal time")
	}
	s.ledgerOK(t)
}

// TestWCPageChecksCatchProblems: the measurements checkWCPage relies on
// find each problem on a page made to have them (so a clean result on
// the real pages means something).
func TestWCPageChecksCatchProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{background:#fff} .pale{color:#aaa} .wide{width:900px} a:focus{outline:none}</style>
<p class="pale">Pale text</p><p>Dark text</p><div class="wide">wide</div>
<label for="a">A</label><input id="a"><input id="b" name="unlabelled"><a href="#x" id="link">link</a>`))
	}))
	defer srv.Close()
	ctx := browsertest.New(t, 60*time.Second)
	step(t, ctx, "open", chromedp.Navigate(srv.URL), chromedp.EmulateViewport(390, 844))
	rep, err := chromedp.Run(ctx, chromedp.Evaluate[wcPageReport](wcPageJS))
	if err != nil {
		t.Fatal(err)
	}
	if rep.ScrollWidth <= rep.ClientWidth {
		t.Errorf("a 900 px block at 390 px: scrollWidth %d, clientWidth %d", rep.ScrollWidth, rep.ClientWidth)
	}
	if len(rep.Unlabelled) != 1 || !strings.Contains(rep.Unlabelled[0], "input#b") {
		t.Errorf("unlabelled inputs %q, want input#b only", rep.Unlabelled)
	}
	if len(rep.LowContrast) != 1 || !strings.Contains(rep.LowContrast[0], "p.pale") {
		t.Errorf("low contrast %q, want p.pale only (#aaa on white is 2.32:1)", rep.LowContrast)
	}
	step(t, ctx, "focus the link", chromedp.Evaluate[chromedp.Void](`document.getElementById("link").focus()`))
	if bad, err := chromedp.Run(ctx, chromedp.Evaluate[string](wcFocusJS)); err != nil || !strings.Contains(bad, "a#link") {
		t.Errorf("a link without a focus outline: %q %v", bad, err)
	}
}
