package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostedPageStrangerWithPidx: someone who knows a payment's pidx
// (from a shared link, a log, a shoulder) opens the hosted page in a
// browser of their own while the payer is paying. The payer's forms'
// tokens do not work there; once the payer has signed in, the stranger
// can neither sign in over the payer, nor spend the payer's code tries,
// nor cancel; the payer pays.
func TestHostedPageStrangerWithPidx(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	pidx, path := initiateEPayment(t, s)
	payer, stranger := newPage(t, s), newPage(t, s)
	payerToken := csrf(t, payer.get(path))
	strangerToken := csrf(t, stranger.get(path))
	if payerToken == strangerToken {
		t.Fatal("two browsers got the same form token")
	}

	// The payer's token from another browser, or no page cookie at all:
	// refused.
	mustContain(t, "the payer's token in another browser", stranger.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {payerToken}}), 403, "Request refused")
	cookieless := newPage(t, s)
	cookieless.client.Jar = nil
	mustContain(t, "no page cookie", cookieless.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {payerToken}}), 403, "Request refused")

	// The payer signs in and gets the code form.
	mustContain(t, "payer signs in", payer.post("/pay/"+pidx+"/signin", url.Values{"csrf": {payerToken}, "mobile": {"9800000001"}, "mpin": {"1111"}}),
		200, `name="code"`)

	// The stranger's own page now says the payment is being paid elsewhere.
	mustContain(t, "the stranger's page", stranger.get(path), 200, "This payment is being paid in another browser.")
	// Code guesses, a sign-in of the stranger's own, and cancel: refused,
	// and none of them uses up one of the payer's three code tries.
	for _, code := range []string{"000000", "111111", "222222"} {
		r := stranger.post("/pay/"+pidx+"/confirm", url.Values{"csrf": {strangerToken}, "code": {code}, "mpin": {"1111"}})
		mustContain(t, "a stranger's code guess", r, 400, "This payment is being paid in another browser.")
	}
	r := stranger.post("/pay/"+pidx+"/signin", url.Values{"csrf": {strangerToken}, "mobile": {"9800000002"}, "mpin": {"1111"}})
	mustContain(t, "a stranger's sign-in over the payer's", r, 400, "This payment is being paid in another browser.")
	mustContain(t, "a stranger's cancel", stranger.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {strangerToken}}), 400,
		"This payment is being paid in another browser.")
	if look := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`); look.Body["status"] != "Initiated" {
		t.Fatalf("after the stranger's attempts: %s", look.Raw)
	}

	// The payer pays with the first try left intact.
	r = payer.post("/pay/"+pidx+"/confirm", url.Values{"csrf": {payerToken}, "code": {"987654"}, "mpin": {"1111"}})
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "status=Completed") {
		t.Fatalf("the payer's payment: %d %s %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if look := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`); look.Body["status"] != "Completed" {
		t.Fatalf("lookup: %s", look.Raw)
	}
	s.ledgerOK(t)
}

// TestHTTPSDeployment: behind an https public URL every response tells
// browsers to use https only (HSTS), and the pages' cookies are Secure.
func TestHTTPSDeployment(t *testing.T) {
	t.Parallel()
	plain := startServer(t)
	if h := plain.do(t, "GET", "/healthz", "", "").Header.Get("Strict-Transport-Security"); h != "" {
		t.Fatalf("HSTS on an http deployment: %q", h)
	}
	s := startServer(t, "--public-url", "https://pay.example")
	for _, path := range []string{"/healthz", "/api/v2/payment/status/", "/login/", "/me/login/", "/admin/login/", "/?pidx=x", "/docs/"} {
		if h := s.do(t, "GET", path, "", "").Header.Get("Strict-Transport-Security"); h != "max-age=31536000" {
			t.Errorf("GET %s: Strict-Transport-Security %q", path, h)
		}
	}
	_, path := initiateEPayment(t, s)
	r := newPage(t, s).get(path)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "thaili_pay" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("the hosted page's cookie behind https: %+v", cookie)
	}
}
