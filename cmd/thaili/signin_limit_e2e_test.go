package main

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSigninRateLimit: with --signin-limit 5/1m one address gets five
// sign-in-like posts, then 429 on every route of the group (shared
// bucket) until a token refills; pages, other posts and the API are not
// limited; behind --client-ip-header each claimed address has its own
// bucket.
func TestSigninRateLimit(t *testing.T) {
	s := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"),
		map[string]string{"THAILI_SIGNIN_LIMIT": "5/1m"}, "--client-ip-header", "X-Real-IP")
	b := newMerchantBrowser(t, s)
	wantPage(t, "login form", b.get(t, "/login/"), 200)

	// Five wrong passwords, each at another account (so the per-account
	// lockout never starts), pass through to the handler.
	for i := range 5 {
		form := url.Values{"email": {fmt.Sprintf("victim%d@shop.example", i)}, "password": {"guess guess guess"}}
		wantPage(t, fmt.Sprint("wrong login ", i+1), b.post(t, "/login/", form), 400, "email or password is wrong")
	}

	// The sixth is refused before the handler: 429, Retry-After in whole
	// seconds (a token every 12s), the pages' headers and the message.
	p := b.post(t, "/login/", url.Values{"email": {"victim9@shop.example"}, "password": {"guess guess guess"}})
	wantRateLimited(t, "6th login", p)

	// The bucket is the address's, shared by the whole group: the other
	// log-ins, the sign-ups and codes, the reset and the hosted page's
	// MPIN sign-in and "Send the code again" are refused too.
	for _, path := range []string{"/admin/login/", "/me/login/", "/join/merchant/", "/join/merchant/confirm",
		"/join/", "/join/confirm", "/me/reset/", "/me/reset/confirm", "/pay/anypidx/signin", "/pay/anypidx/resend"} {
		wantRateLimited(t, path, b.post(t, path, url.Values{"email": {"a@b.example"}, "mobile": {"9800000001"}}))
	}

	// Pages, posts outside the group and the API are not limited.
	wantPage(t, "login form while limited", b.get(t, "/login/"), 200, `action="/login/"`)
	wantPage(t, "console login form while limited", b.get(t, "/admin/login/"), 200)
	wantRedirect(t, "logout while limited", b.post(t, "/logout/", url.Values{}), "/login/")
	for i := range 3 {
		s.initiate(t, testPK, "9800000001", 1000+i) // POST /api/v2/payment/initiate/: 200
	}

	// Another address, as the trusted proxy reports it in X-Real-IP, has
	// its own bucket; its refusals do not touch 127.0.0.1's either.
	b.get(t, "/login/") // a fresh pre-session cookie after the log-out
	other := func(b *merchantBrowser, ip string) mpage {
		form := url.Values{"email": {"victim0@shop.example"}, "password": {"guess guess guess"}, "csrf": {b.csrf}}
		req, _ := http.NewRequest("POST", b.s.URL+"/login/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Real-IP", ip)
		return b.send(t, req)
	}
	for i := range 5 {
		wantPage(t, fmt.Sprint("login from 203.0.113.7 #", i+1), other(b, "203.0.113.7"), 400, "email or password is wrong")
	}
	wantRateLimited(t, "6th login from 203.0.113.7", other(b, "203.0.113.7"))
	wantPage(t, "login from 203.0.113.8", other(b, "203.0.113.8"), 400, "email or password is wrong")
	// A header that is not an address falls back to the connection's.
	wantRateLimited(t, "login with a bad X-Real-IP", other(b, "not-an-ip"))

	// Without --client-ip-header the header is ignored: claiming another
	// address does not escape the connection's bucket.
	s2 := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"), map[string]string{"THAILI_SIGNIN_LIMIT": "1/1m"})
	b2 := newMerchantBrowser(t, s2)
	b2.get(t, "/login/")
	wantPage(t, "first login", b2.post(t, "/login/", url.Values{"email": {"x@shop.example"}, "password": {"guess guess guess"}}), 400)
	wantRateLimited(t, "second login claiming another address", other(b2, "203.0.113.9"))
}

// wantRateLimited checks the refusal of the sign-in rate limit.
func wantRateLimited(t *testing.T, what string, p mpage) {
	t.Helper()
	wantPage(t, what, p, http.StatusTooManyRequests, "Too many attempts from your network. Wait ")
	secs, err := strconv.Atoi(p.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 || !strings.Contains(p.Body, fmt.Sprintf("Wait %d second", secs)) {
		t.Fatalf("%s: Retry-After %q, body %s", what, p.Header.Get("Retry-After"), p.Body)
	}
	if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if p.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("%s: no page security headers: %v", what, p.Header)
	}
}
