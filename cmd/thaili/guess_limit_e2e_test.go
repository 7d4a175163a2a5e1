package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/apidoc"
)

// TestGuessLimits: with --guess-limit 3/1m a client address gets three
// wrong MPINs or codes on the payment API and the hosted page, then 429
// with Retry-After and DRF's throttled body (as the OpenAPI document
// says), before any MPIN is checked; right MPINs are never limited; with
// --key-guess-limit the same holds per public key across addresses.
func TestGuessLimits(t *testing.T) {
	t.Parallel()
	s := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"),
		map[string]string{"THAILI_GUESS_LIMIT": "3/1m", "THAILI_KEY_GUESS_LIMIT": "5/1m"}, "--client-ip-header", "X-Real-IP")
	doc, err := apidoc.Document()
	if err != nil {
		t.Fatal(err)
	}
	oa := &oaConformance{t: t, s: s, doc: doc, seen: map[string]bool{}}
	initiate := func(addr, mobile, pin string) response {
		t.Helper()
		return s.doHeaders(t, "POST", "/api/v2/payment/initiate/", map[string]string{"X-Real-IP": addr, "Content-Type": "application/json"},
			jsonBody(t, map[string]any{"public_key": testPK, "mobile": mobile, "transaction_pin": pin, "amount": 1000, "product_identity": "p", "product_name": "P"}))
	}
	throttled := func(what string, r response, wait int) {
		t.Helper()
		mustStatus(t, r, 429)
		want := "Request was throttled. Expected available in " + strconv.Itoa(wait) + " seconds."
		if r.Body["detail"] != want || r.Body["error_key"] != "throttled" || len(r.Body) != 2 || r.Header.Get("Retry-After") != strconv.Itoa(wait) {
			t.Fatalf("%s: %s, Retry-After %q", what, r.Raw, r.Header.Get("Retry-After"))
		}
	}

	// Right MPINs cost nothing.
	for range 5 {
		mustStatus(t, initiate("192.0.2.1", "9800000001", "1111"), 200)
	}
	// Three wrong MPINs, at three numbers (no lock), then the address is
	// refused, also for a right MPIN, until a token refills (20 s).
	for _, m := range []string{"9800000002", "9800000003", "9812349991"} {
		mustStatus(t, initiate("192.0.2.1", m, "0000"), 400)
	}
	r := initiate("192.0.2.1", "9800000004", "0000")
	throttled("4th wrong MPIN", r, 20)
	oa.check("POST", "/api/v2/payment/initiate/", r)
	throttled("a right MPIN from the throttled address", initiate("192.0.2.1", "9800000001", "1111"), 20)

	// Wrong codes on confirm count against the same address.
	token := s.initiate(t, testPK, "9800000005", 1000)
	r = s.doHeaders(t, "POST", "/api/v2/payment/confirm/", map[string]string{"X-Real-IP": "192.0.2.1", "Content-Type": "application/json"},
		jsonBody(t, map[string]any{"public_key": testPK, "token": token, "confirmation_code": "000000", "transaction_pin": "1111"}))
	throttled("confirm from the throttled address", r, 20)
	oa.check("POST", "/api/v2/payment/confirm/", r)

	// Another address guesses through the same public key: two more wrong
	// MPINs reach the key's limit of five.
	for _, m := range []string{"9800000002", "9800000003"} {
		mustStatus(t, initiate("198.51.100.1", m, "0000"), 400)
	}
	throttled("the key's sixth wrong MPIN", initiate("198.51.100.2", "9800000002", "0000"), 12)

	// The hosted page's MPIN sign-in counts against the address too.
	hp := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token = csrf(t, hp.get(path))
	signin := func(mobile string) pageResponse {
		return hp.postHeaders("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {mobile}, "mpin": {"0000"}},
			map[string]string{"X-Real-IP": "203.0.113.9"})
	}
	for _, m := range []string{"9812349981", "9812349982", "9812349983"} {
		mustContain(t, "hosted wrong MPIN", signin(m), 400, "Wrong mobile number or MPIN.")
	}
	res := signin("9812349984")
	mustContain(t, "hosted sign-in over the limit", res, 429, "Too many tries from your network. Try again in")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After on the hosted page")
	}
	s.ledgerOK(t)
}

// postHeaders posts a form on the hosted page with extra request headers.
func (p *page) postHeaders(path string, form url.Values, headers map[string]string) pageResponse {
	p.t.Helper()
	req, err := http.NewRequest("POST", p.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	return readPage(p.t, res)
}
