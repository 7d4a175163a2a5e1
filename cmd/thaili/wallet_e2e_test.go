package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWalletPages walks a consumer through the wallet pages: sign-up with
// a phone code, the wallet's balance, history and notices, a payment on
// the hosted page and its refund, the MPIN lock and its reset with a
// fresh code, and who may see the wallet.
func TestWalletPages(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const mobile, mpin = "9812345670", "2580"
	b := newMerchantBrowser(t, s)

	// Sign-up: the MPIN is confirmed, the form needs its CSRF token.
	p := b.get(t, "/join/")
	wantPage(t, "sign-up form", p, 200, `action="/join/"`, `name="mpin2"`)
	if csp := p.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	form := func() url.Values {
		return url.Values{"mobile": {mobile}, "name": {"<b>Sita</b>"}, "mpin": {mpin}, "mpin2": {mpin}}
	}
	bad := form()
	bad.Set("mpin2", "2581")
	wantPage(t, "mismatched MPIN", b.post(t, "/join/", bad), 400, "The two MPINs do not match.")
	noCSRF := form()
	noCSRF.Set("csrf", "")
	wantPage(t, "sign-up without CSRF", b.post(t, "/join/", noCSRF), 403, "Request refused")
	wantPage(t, "sign-up", b.post(t, "/join/", form()), 200, `action="/join/confirm"`, "98XXXXX670")
	code := s.lastAccountCode(t, mobile)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	wantPage(t, "wrong code", b.post(t, "/join/confirm", url.Values{"mobile": {mobile}, "code": {wrong}}), 400, "The code is wrong.")
	wantRedirect(t, "confirm", b.post(t, "/join/confirm", url.Values{"mobile": {mobile}, "code": {code}}), "/me/")

	// The wallet: balance 0, the name escaped, no notices, and no code:
	// a web session is not the phone.
	p = b.get(t, "/me/")
	wantPage(t, "wallet", p, 200, "&lt;b&gt;Sita&lt;/b&gt;", `<p class="stat balance-test">Rs 0.00</p>`, "No payments yet.", "Nothing to report.")
	if strings.Contains(p.Body, "<b>Sita</b>") {
		t.Fatal("the name is not escaped")
	}
	if strings.Contains(p.Body, code) {
		t.Fatal("the wallet page shows the sign-up code")
	}
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("headers %v", p.Header)
	}
	// A signed-in POST without the token is refused.
	wantPage(t, "logout without CSRF", b.post(t, "/me/logout/", url.Values{"csrf": {"x"}}), 403, "Request refused")

	// An operator top-up shows.
	s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "50000")
	wantPage(t, "after topup", b.get(t, "/me/"), 200, `<p class="stat balance-test">Rs 500.00</p>`)

	// Pay an ePayment with this wallet on the hosted page; then refund part.
	hp := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, hp.get(path))
	mustContain(t, "hosted signin", hp.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {mobile}, "mpin": {mpin}}), 200, `name="code"`)
	if r := hp.post("/pay/"+pidx+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}, "mpin": {mpin}}); r.Status != 303 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	lookup := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	txn, _ := lookup.Body["transaction_id"].(string)
	if len(txn) != 22 {
		t.Fatalf("lookup: %s", lookup.Raw)
	}
	wantPage(t, "balance after paying", b.get(t, "/me/"), 200, `<p class="stat balance-test">Rs 487.00</p>`, "Rs 13.00", "Completed")
	wantPage(t, "history", b.get(t, "/me/payments/"), 200, `<code class="idx">`+txn+"</code>", "Rs 13.00", "Completed")
	if r := s.do(t, "POST", "/api/v2/epayment/merchant-transaction/"+txn+"/refund/", testSK, `{"amount": 300}`); r.Status != 200 {
		t.Fatalf("partial refund: %s", r.Raw)
	}
	wantPage(t, "balance after the refund", b.get(t, "/me/"), 200, `<p class="stat balance-test">Rs 490.00</p>`, "Partially refunded")
	wantPage(t, "history with refund", b.get(t, "/me/payments/"), 200, `<td data-label="Refunded" class="num">Rs 3.00</td>`, "Partially refunded")

	// Log out: the wallet is gone.
	wantRedirect(t, "logout", b.post(t, "/me/logout/", url.Values{}), "/me/login/")
	for _, path := range []string{"/me/", "/me/payments/", "/me/notices/"} {
		wantRedirect(t, path+" after logout", b.get(t, path), "/me/login/")
	}

	// Nobody else sees this wallet: anonymous, a merchant, another consumer.
	wantRedirect(t, "anonymous", newMerchantBrowser(t, s).get(t, "/me/"), "/me/login/")
	mb := newMerchantBrowser(t, s)
	signUpMerchant(t, mb, "Shop", "shop@example.com", "9812345679", "long enough password")
	wantRedirect(t, "merchant", mb.get(t, "/me/"), "/me/login/")
	s.cliOK(t, "consumer", "create", "--mobile", "9812345671", "--name", "Hari", "--mpin", "1234")
	other := newMerchantBrowser(t, s)
	wantPage(t, "other login form", other.get(t, "/me/login/"), 200, `action="/me/login/"`)
	wantRedirect(t, "other login", other.post(t, "/me/login/", url.Values{"mobile": {"9812345671"}, "mpin": {"1234"}}), "/me/")
	for _, path := range []string{"/me/", "/me/payments/", "/me/notices/"} {
		p = other.get(t, path)
		wantPage(t, "other wallet "+path, p, 200, "Hari")
		for _, leak := range []string{mobile, "Sita", txn, code} {
			if strings.Contains(p.Body, leak) {
				t.Fatalf("another wallet's %s shows %q", path, leak)
			}
		}
	}
	wantPage(t, "other wallet", other.get(t, "/me/"), 200, "No payments yet.", "Nothing to report.")

	// The lock: a session opened before, then three wrong MPINs.
	kept := newMerchantBrowser(t, s)
	kept.get(t, "/me/login/")
	wantRedirect(t, "login", kept.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {mpin}}), "/me/")
	b.get(t, "/me/login/")
	wantPage(t, "wrong MPIN 1", b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"0000"}}), 400, "Tries remaining: 2")
	wantPage(t, "wrong MPIN 2", b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"0000"}}), 400, "Tries remaining: 1")
	// A locked wallet is 400 with its message, as the API answers it.
	wantPage(t, "wrong MPIN 3", b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"0000"}}), 400, "locked", "Try again in 30 minutes")
	wantPage(t, "right MPIN, locked", b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {mpin}}), 400, "locked")
	// The owner is told, on the wallet page, that and why it was locked.
	wantPage(t, "locked wallet", kept.get(t, "/me/"), 200, `id="locked"`, "locked for payments after wrong MPINs until",
		"Your wallet was locked after 3 wrong MPINs in a row, the last one on the wallet log-in from 127.0.0.1")

	// Reset on the wallet page: a fresh code is needed (not the sign-up one).
	wantPage(t, "reset code sent", kept.post(t, "/me/reset/", url.Values{}), 200, `action="/me/reset/confirm"`, "98XXXXX670")
	reset := s.lastAccountCode(t, mobile)
	wantPage(t, "reset with the sign-up code", kept.post(t, "/me/reset/confirm", url.Values{"code": {code}, "mpin": {"1357"}, "mpin2": {"1357"}}), 400, "The code is wrong.")
	p = kept.post(t, "/me/reset/confirm", url.Values{"code": {reset}, "mpin": {"1357"}, "mpin2": {"1357"}})
	wantPage(t, "reset", p, 200, "Your new MPIN is set and the wallet is unlocked.", "A code to reset your MPIN was sent to this phone",
		"Your MPIN was changed on")
	if strings.Contains(p.Body, `id="locked"`) {
		t.Fatal("still locked after the reset")
	}
	if strings.Contains(p.Body, reset) {
		t.Fatal("the wallet page shows the reset code")
	}
	// The notices page keeps all of them, the lock among them.
	p = kept.get(t, "/me/notices/")
	wantPage(t, "notices", p, 200, "Your MPIN was changed on", "Your wallet was locked after 3 wrong MPINs in a row")
	if strings.Contains(p.Body, reset) || strings.Contains(p.Body, code) {
		t.Fatal("the notices page shows a code")
	}
	wantPage(t, "old MPIN", b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {mpin}}), 400, "Tries remaining: 2")
	wantRedirect(t, "new MPIN", b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"1357"}}), "/me/")

	// A signed-out reset (the locked-out path) works with the pre-session token.
	anon := newMerchantBrowser(t, s)
	wantPage(t, "reset form", anon.get(t, "/me/reset/"), 200, `action="/me/reset/"`)
	wantPage(t, "anon reset code", anon.post(t, "/me/reset/", url.Values{"mobile": {"9812345671"}}), 200, `action="/me/reset/confirm"`)
	again := s.lastAccountCode(t, "9812345671")
	wantPage(t, "anon reset", anon.post(t, "/me/reset/confirm", url.Values{"mobile": {"9812345671"}, "code": {again}, "mpin": {"4321"}, "mpin2": {"4321"}}),
		200, "Log in with it.")
	if r := anon.post(t, "/me/reset/", url.Values{"mobile": {"9812345671"}, "csrf": {""}}); r.Status != http.StatusForbidden {
		t.Fatalf("reset without CSRF: %d", r.Status)
	}
	s.ledgerOK(t)
}
