package main

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// codeInLogRE matches any log attribute that carries a code.
var codeInLogRE = regexp.MustCompile(`\bcode=\d`)

// TestLiveLogHasNoCodes: without the sandbox, the server's log says that
// account and payment codes were sent, and where to (masked), but never
// the codes; the sandbox's log, the developer's phone, shows them.
func TestLiveLogHasNoCodes(t *testing.T) {
	t.Parallel()
	s := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"), liveCosts, "--sandbox=false")

	// A merchant signs up on the web: its phone code is sent, not logged.
	b := newMerchantBrowser(t, s)
	b.get(t, "/join/merchant/")
	wantPage(t, "sign-up", b.post(t, "/join/merchant/", url.Values{"name": {"Live Shop"}, "email": {"live@shop.example"},
		"phone": {"9812370001"}, "password": {"a long enough password"}}), 200, "Confirm your phone")
	// A wallet asks for an MPIN reset.
	s.cliOK(t, "consumer", "create", "--mobile", "9812370002", "--name", "Payer", "--mpin", "1111")
	r := newMerchantBrowser(t, s)
	r.get(t, "/me/reset/")
	wantPage(t, "reset", r.post(t, "/me/reset/", url.Values{"mobile": {"9812370002"}}), 200)

	// A live payment: a merchant made live by a first test payment, a
	// funded payer, a live initiate (whose code is random and sent).
	idx, pk, sk := cliMerchant(t, s, "Live Merchant", "merchant@live.example")
	s.cliOK(t, "kyc", "approve", "--merchant", idx)
	s.cliOK(t, "consumer", "topup", "--mobile", "9812370002", "--amount", "100000")
	s.cliOK(t, "consumer", "topup", "--mobile", "9812370002", "--amount", "100000", "--book", "live")
	s.pay(t, pk, sk, "9812370002", 1000)
	livePK, _ := s.liveKeys(t, idx)
	r2 := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{"public_key": livePK, "mobile": "9812370002",
		"transaction_pin": "1111", "amount": 1000, "product_identity": "p", "product_name": "P"}))
	mustStatus(t, r2, 200)

	log := s.Stderr.String()
	for _, want := range []string{`msg="account code sent" to=98XXXXX001 purpose="confirm phone"`, `msg="account code sent" to=98XXXXX002 purpose="reset MPIN"`,
		`msg="confirmation code sent" to=98XXXXX002`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if m := codeInLogRE.FindString(log); m != "" || strings.Contains(log, `msg="account code" `) || strings.Contains(log, `msg="confirmation code" `) {
		t.Fatalf("a live server's log carries a code (%q):\n%s", m, log)
	}

	// The sandbox's log is the developer's phone: there the codes are.
	sb := startServer(t)
	sbb := newMerchantBrowser(t, sb)
	sbb.get(t, "/join/merchant/")
	sbb.post(t, "/join/merchant/", url.Values{"name": {"Dev Shop"}, "email": {"dev@shop.example"}, "phone": {"9812370003"}, "password": {"a long enough password"}})
	if sb.lastAccountCode(t, "9812370003") == "" {
		t.Fatal("the sandbox's log has no code")
	}
}
