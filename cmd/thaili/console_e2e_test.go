package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	cliMerchantIdxRE = regexp.MustCompile(`created merchant (\S+) `)
	cliBalanceRE     = regexp.MustCompile(`balance (\d+) paisa`)
)

// cliMerchant creates a merchant with `thaili merchant create` and returns
// its idx and test keys.
func cliMerchant(t *testing.T, s *testServer, name, email string) (idx, pk, sk string) {
	t.Helper()
	out, err := s.cli(t, "merchant", "create", "--name", name, "--email", email)
	if err != nil {
		t.Fatalf("merchant create: %v\n%s", err, out)
	}
	m := cliMerchantIdxRE.FindStringSubmatch(out)
	pk, sk = dashTestPublicRE.FindString(out), dashTestSecretRE.FindString(out)
	if m == nil || pk == "" || sk == "" {
		t.Fatalf("merchant create printed no idx or keys:\n%s", out)
	}
	return m[1], pk, sk
}

// cellAttrRE is the opening tag of a table cell, with its attributes.
var cellAttrRE = regexp.MustCompile(`<td[^>]*>`)

// plainCells drops the attributes of the table cells in body (the
// data-label that names a cell's column on phones, classes), so a test
// can match a row's cells in order.
func plainCells(body string) string { return cellAttrRE.ReplaceAllString(body, "<td>") }

// operatorLogin signs b in at /admin/login/.
func operatorLogin(t *testing.T, b *merchantBrowser, email, password string) {
	t.Helper()
	wantPage(t, "operator login form", b.get(t, "/admin/login/"), 200, `action="/admin/login/"`)
	wantRedirect(t, "operator login", b.post(t, "/admin/login/", url.Values{"email": {email}, "password": {password}}), "/admin/")
}

func TestConsoleJourney(t *testing.T) {
	s := startServer(t)
	const opEmail, opPassword = "ops@thaili.example", "operator password 1"

	// Operators come from the command line; bad input is refused there.
	if out, err := s.cli(t, "admin", "create", "--email", opEmail, "--password", "short"); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Fatalf("short operator password: %v\n%s", err, out)
	}
	if out, err := s.cli(t, "admin", "create", "--email", opEmail, "--password", opPassword); err != nil || !strings.Contains(out, "created operator "+opEmail) {
		t.Fatalf("admin create: %v\n%s", err, out)
	}
	if _, err := s.cli(t, "admin", "create", "--email", opEmail, "--password", opPassword); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate operator: %v", err)
	}

	// Anonymous people and merchants cannot reach the console.
	anon := newMerchantBrowser(t, s)
	for _, path := range []string{"/admin/", "/admin/merchants/", "/admin/consumers/", "/admin/audit/"} {
		wantRedirect(t, "anonymous "+path, anon.get(t, path), "/admin/login/")
	}
	wantRedirect(t, "anonymous post", anon.post(t, "/admin/consumers/topup", url.Values{"mobile": {"9800000001"}, "amount": {"100"}, "book": {"test"}}), "/admin/login/")
	wantPage(t, "operator login without CSRF", anon.post(t, "/admin/login/", url.Values{"email": {opEmail}, "password": {opPassword}, "csrf": {""}}), 403)
	merchant := newMerchantBrowser(t, s)
	signUpMerchant(t, merchant, "Shop", "shop@merchant.example", "9812345670", "merchant password")
	wantPage(t, "merchant dashboard", merchant.get(t, "/dashboard/"), 200)
	wantRedirect(t, "merchant session at /admin/", merchant.get(t, "/admin/"), "/admin/login/")
	// A merchant's password does not open the console either.
	merchant.get(t, "/admin/login/")
	wantPage(t, "merchant credentials at the console", merchant.post(t, "/admin/login/", url.Values{"email": {"shop@merchant.example"}, "password": {"merchant password"}}),
		400, "email or password is wrong")

	// Log in: the overview shows the ledger check.
	op := newMerchantBrowser(t, s)
	operatorLogin(t, op, opEmail, opPassword)
	wantPage(t, "overview", op.get(t, "/admin/"), 200, "ledger ok", "KYC queue", opEmail)
	wantRedirect(t, "login form when signed in", op.get(t, "/admin/login/"), "/admin/")

	// KYC: a merchant without approved KYC cannot take more than Rs 200.
	idx, pk, sk := cliMerchant(t, s, "Big Spender", "big@spender.example")
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{"public_key": pk, "mobile": "9800000001",
		"transaction_pin": "1111", "amount": 30000, "product_identity": "p1", "product_name": "Product"}))
	if r.Status != 400 || !strings.Contains(r.Raw, "Amount must be less than 200") {
		t.Fatalf("big payment before KYC: %d %s", r.Status, r.Raw)
	}
	wantPage(t, "merchant search", op.get(t, "/admin/merchants/?q=SPENDER"), 200, "Big Spender", idx, "big@spender.example")
	wantPage(t, "approve without CSRF", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx}, "decision": {"approve"}, "csrf": {""}}), 403)
	wantPage(t, "approve with a merchant's token", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx}, "decision": {"approve"}, "csrf": {merchant.csrf}}), 403)
	wantPage(t, "approve", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx}, "decision": {"approve"}, "q": {"spender"}}),
		200, "KYC of Big Spender is now approved.")
	s.pay(t, pk, sk, "9800000001", 30000)

	// Reject needs a reason; the reason is kept and shown escaped.
	idx2, _, _ := cliMerchant(t, s, "Shady Shop", "shady@shop.example")
	wantPage(t, "reject without reason", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx2}, "decision": {"reject"}, "reason": {"  "}}),
		400, "Give the reason for the rejection.")
	p := op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx2}, "decision": {"reject"}, "reason": {"<b>blurry</b> documents"}, "q": {"shady"}})
	wantPage(t, "reject", p, 200, "KYC of Shady Shop is now rejected.", "&lt;b&gt;blurry&lt;/b&gt; documents")
	if out, _ := s.cli(t, "merchant", "show", "--merchant", idx2); !strings.Contains(out, "KYC: rejected") {
		t.Fatalf("merchant show after reject:\n%s", out)
	}
	wantPage(t, "unknown merchant", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {"nope"}, "decision": {"approve"}}), 404, "No such merchant.")

	// HTML typed into a search box comes back escaped.
	p = op.get(t, "/admin/merchants/?q="+url.QueryEscape(`<script>alert(1)</script>`))
	wantPage(t, "search with HTML", p, 200, "&lt;script&gt;alert(1)&lt;/script&gt;", "No merchant matches.")
	if strings.Contains(p.Body, "<script>") {
		t.Fatal("search echoes raw HTML")
	}

	// Top-up from the funding account, recorded in the ledger and the audit log.
	const mobile = "9811111111"
	if out, err := s.cli(t, "consumer", "create", "--mobile", mobile, "--name", "Sita", "--mpin", "2468"); err != nil {
		t.Fatalf("consumer create: %v\n%s", err, out)
	}
	wantPage(t, "wallet search", op.get(t, "/admin/consumers/?q=981111"), 200, mobile, "Sita")
	wantPage(t, "top-up without CSRF", op.post(t, "/admin/consumers/topup", url.Values{"mobile": {mobile}, "amount": {"5000"}, "book": {"test"}, "csrf": {""}}), 403)
	wantPage(t, "top-up of nothing", op.post(t, "/admin/consumers/topup", url.Values{"mobile": {mobile}, "amount": {"0"}, "book": {"test"}, "q": {mobile}}),
		400, "Enter an amount of at least Rs 0.01.")
	// The amount is in rupees, as the page shows balances.
	wantPage(t, "top-up", op.post(t, "/admin/consumers/topup", url.Values{"mobile": {mobile}, "amount": {"50"}, "book": {"test"}, "q": {mobile}}),
		200, "Credited Rs 50.00 to "+mobile, `<span class="balance-test">Rs 50.00</span>`)
	out, err := s.cli(t, "consumer", "topup", "--mobile", mobile, "--amount", "1")
	if m := cliBalanceRE.FindStringSubmatch(out); err != nil || m == nil || m[1] != "5001" {
		t.Fatalf("balance after the console top-up: %v\n%s", err, out)
	}

	// Unlock: three wrong MPINs lock the wallet; the console unlocks it and the MPIN stays.
	initiate := func(pin string) response {
		return s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{"public_key": pk, "mobile": mobile,
			"transaction_pin": pin, "amount": 1000, "product_identity": "p1", "product_name": "Product"}))
	}
	for range 3 {
		if r := initiate("1357"); r.Status != 400 {
			t.Fatalf("wrong MPIN: %d %s", r.Status, r.Raw)
		}
	}
	if r := initiate("2468"); r.Status == 200 || !strings.Contains(r.Raw, "locked") {
		t.Fatalf("right MPIN on a locked wallet: %d %s", r.Status, r.Raw)
	}
	wantPage(t, "locked wallet", op.get(t, "/admin/consumers/?q="+mobile), 200, "locked", "Unlock")
	wantPage(t, "unlock without CSRF", op.post(t, "/admin/consumers/unlock", url.Values{"mobile": {mobile}, "csrf": {""}}), 403)
	wantPage(t, "unlock", op.post(t, "/admin/consumers/unlock", url.Values{"mobile": {mobile}, "q": {mobile}}), 200, "is unlocked; its MPIN is unchanged")
	if r := initiate("2468"); r.Status != 200 {
		t.Fatalf("right MPIN after unlock: %d %s", r.Status, r.Raw)
	}
	wantPage(t, "unlock unknown", op.post(t, "/admin/consumers/unlock", url.Values{"mobile": {"9899999999"}}), 404, "No wallet for 9899999999.")

	// The audit log has every action, with who did it.
	a := op.get(t, "/admin/audit/")
	a.Body = plainCells(a.Body)
	wantPage(t, "audit", a, 200, "login", "kyc.approve", idx, "kyc.reject", "&lt;b&gt;blurry&lt;/b&gt; documents", "wallet.topup", mobile,
		"Rs 50.00 (5000 paisa), test book", "wallet.unlock", opEmail)
	for _, action := range []string{"login", "kyc.approve", "kyc.reject", "wallet.topup", "wallet.unlock"} {
		if n := strings.Count(a.Body, "<td>"+opEmail+"</td><td>"+action+"</td>"); n != 1 {
			t.Fatalf("audit log has %d %s rows by the operator, want 1\n%s", n, action, a.Body)
		}
	}

	// Logging out ends the session.
	wantRedirect(t, "logout", op.post(t, "/admin/logout/", url.Values{}), "/admin/login/")
	wantRedirect(t, "console after logout", op.get(t, "/admin/"), "/admin/login/")

	// Lockout: 10 wrong passwords in 30 minutes lock the operator's email.
	l := newMerchantBrowser(t, s)
	l.get(t, "/admin/login/")
	for i := range 10 {
		wantPage(t, "wrong operator password "+string(rune('0'+i)), l.post(t, "/admin/login/", url.Values{"email": {opEmail}, "password": {"wrong password"}}),
			400, "email or password is wrong")
	}
	// A locked sign-in is 400 with its message, as the API answers a lock.
	wantPage(t, "operator locked", l.post(t, "/admin/login/", url.Values{"email": {opEmail}, "password": {opPassword}}), 400, "Too many failed sign-ins")
	s.ledgerOK(t)
}
