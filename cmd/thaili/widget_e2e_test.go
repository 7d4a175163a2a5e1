package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWidgetServed checks the web widget's files through the real server.
func TestWidgetServed(t *testing.T) {
	s := startServer(t)
	for path, ct := range map[string]string{
		"/kpg/payment_gateway_widget.html": "text/html; charset=utf-8",
		"/kpg/widget.js":                   "text/javascript; charset=utf-8",
		"/kpg/main.css":                    "text/css; charset=utf-8",
		"/kpg/khalti-checkout.js":          "text/javascript; charset=utf-8",
		"/kpg/icons/infinity-loader.svg":   "image/svg+xml",
	} {
		r := s.do(t, "GET", path, "", "")
		mustStatus(t, r, 200)
		if got := r.Header.Get("Content-Type"); got != ct {
			t.Errorf("%s: Content-Type %q, want %q", path, got, ct)
		}
		if r.Header.Get("X-Request-Id") == "" || r.Header.Get("Cache-Control") == "" {
			t.Errorf("%s: headers %v", path, r.Header)
		}
	}
	page := s.do(t, "GET", "/kpg/payment_gateway_widget.html", "", "")
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || page.Header.Get("X-Frame-Options") != "" {
		t.Errorf("widget page cannot be framed by merchants: %v", page.Header)
	}
	if !strings.Contains(page.Raw, "widget.js") {
		t.Error("widget page does not load widget.js")
	}
	if r := s.do(t, "GET", "/kpg/khalti-checkout.js", "", ""); !strings.Contains(r.Raw, "KhaltiCheckout") {
		t.Error("khalti-checkout.js does not define KhaltiCheckout")
	}
	r := s.do(t, "GET", "/kpg/missing.js", "", "")
	mustStatus(t, r, 404)
	if r.Body["detail"] != "Not found." {
		t.Errorf("404 body %s", r.Raw)
	}
}

// noRedirects is a client that shows redirects instead of following them.
func noRedirects() *http.Client {
	return &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestDemoShop drives the demo shop's server side: ePayment initiate and
// return page, and verification of a widget payment.
func TestDemoShop(t *testing.T) {
	s := startServer(t)

	product := s.do(t, "GET", "/demo/", "", "")
	mustStatus(t, product, 200)
	for _, want := range []string{"/kpg/khalti-checkout.js", testPK, `action="/demo/pay"`, "/demo/shop.js"} {
		if !strings.Contains(product.Raw, want) {
			t.Errorf("product page lacks %q", want)
		}
	}
	if csp := product.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("product page CSP %q", csp)
	}
	if ct := product.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("product page Content-Type %q", ct)
	}
	for _, p := range []string{"/demo/shop.js", "/demo/shop.css"} {
		mustStatus(t, s.do(t, "GET", p, "", ""), 200)
	}

	// Pay with ePayment: 303 to a payment_url whose pidx is Initiated.
	res, err := noRedirects().Post(s.URL+"/demo/pay", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /demo/pay: status %d", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.String() == "" {
		t.Fatalf("Location %q: %v", res.Header.Get("Location"), err)
	}
	pidx := loc.Query().Get("pidx")
	if !strings.HasPrefix(loc.String(), s.URL+"/?") || pidx == "" || loc.Query().Get("return_url") != s.URL+"/demo/return" {
		t.Fatalf("payment_url %s", loc)
	}
	look := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, jsonBody(t, map[string]any{"pidx": pidx}))
	mustStatus(t, look, 200)
	if look.Body["status"] != "Initiated" {
		t.Fatalf("lookup %s", look.Raw)
	}
	mustStatus(t, s.do(t, "GET", loc.RequestURI(), "", ""), 200) // the hosted page opens

	// The return page looks the payment up and shows what it received.
	ret := s.do(t, "GET", "/demo/return?pidx="+pidx+"&status=User+canceled&purchase_order_id=x%3Cy", "", "")
	mustStatus(t, ret, 200)
	for _, want := range []string{"Initiated", pidx, "User canceled", "x&lt;y"} {
		if !strings.Contains(ret.Raw, want) {
			t.Errorf("return page lacks %q:\n%s", want, ret.Raw)
		}
	}
	mustStatus(t, s.do(t, "GET", "/demo/return?pidx=AAAAAAAAAAAAAAAAAAAAAA", "", ""), 404)
	mustStatus(t, s.do(t, "GET", "/demo/return", "", ""), 400)

	// Pay with the widget: the token of a confirmed payment verifies.
	token := s.initiate(t, testPK, "9800000001", 2500)
	s.confirm(t, testPK, token)
	v := s.do(t, "POST", "/demo/verify", "", jsonBody(t, map[string]any{"token": token, "amount": 2500}))
	mustStatus(t, v, 200)
	if v.Body["state"] != "Completed" || v.Body["token"] != token {
		t.Fatalf("verify %s", v.Raw)
	}
	st := s.do(t, "GET", "/api/v2/payment/status/?token="+token+"&amount=2500", testSK, "")
	if st.Body["state"] != "Complete" {
		t.Fatalf("status %s", st.Raw)
	}
	bad := s.do(t, "POST", "/demo/verify", "", jsonBody(t, map[string]any{"token": token, "amount": 2600}))
	mustStatus(t, bad, 400)
	if bad.Body["amount"] == nil {
		t.Errorf("wrong amount: %s", bad.Raw)
	}
	mustStatus(t, s.do(t, "POST", "/demo/verify", "", "token="+token+"&amount=2500"), 415)
	mustStatus(t, s.do(t, "GET", "/demo/verify", "", ""), 405)
	mustStatus(t, s.do(t, "GET", "/demo/nothing", "", ""), 404)
	s.ledgerOK(t)
}

// TestDemoShopNeedsSandbox checks that a server without the sandbox has
// no demo shop, while the widget is still served. Without the sandbox the
// deployment is live, which refuses the harness's cheap hash costs.
func TestDemoShopNeedsSandbox(t *testing.T) {
	s := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"), liveCosts, "--sandbox=false")
	for _, p := range []string{"/demo/", "/demo/return", "/demo/shop.js"} {
		mustStatus(t, s.do(t, "GET", p, "", ""), 404)
	}
	mustStatus(t, s.do(t, "POST", "/demo/pay", "", ""), 404)
	mustStatus(t, s.do(t, "GET", "/kpg/khalti-checkout.js", "", ""), 200)
}
