package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// returnRecorder is a merchant's return_url: it records the query of
// every visit and answers with a small page.
type returnRecorder struct {
	mu     sync.Mutex
	visits []url.Values
	srv    *httptest.Server
}

func newReturnRecorder(t *testing.T) *returnRecorder {
	rr := &returnRecorder{}
	rr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/return" {
			http.NotFound(w, r) // the browser also asks for /favicon.ico
			return
		}
		rr.mu.Lock()
		rr.visits = append(rr.visits, r.URL.Query())
		rr.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>Shop</title><h1 id="back">Back at the shop</h1>`))
	}))
	t.Cleanup(rr.srv.Close)
	return rr
}

func (rr *returnRecorder) last(t *testing.T) url.Values {
	t.Helper()
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if len(rr.visits) == 0 {
		t.Fatal("the return_url was never visited")
	}
	return rr.visits[len(rr.visits)-1]
}

// browserEPayment initiates an ePayment whose return_url is rr and
// returns its pidx and payment_url.
func browserEPayment(t *testing.T, s *testServer, rr *returnRecorder) (string, string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v2/epayment/initiate/", testSK, jsonBody(t, map[string]any{
		"return_url": rr.srv.URL + "/return?order=42", "website_url": rr.srv.URL, "amount": 2500,
		"purchase_order_id": "42", "purchase_order_name": "Dhaka topi"}))
	mustStatus(t, r, 200)
	return r.Body["pidx"].(string), r.Body["payment_url"].(string)
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestBrowserHostedPagePay(t *testing.T) {
	s := startServer(t)
	rr := newReturnRecorder(t)
	ctx := browsertest.New(t, 90*time.Second)
	pidx, payURL := browserEPayment(t, s, rr)

	step(t, ctx, "open the payment page", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	if text := pageText(t, ctx); !strings.Contains(text, "TEST MODE") || !strings.Contains(text, "Dhaka topi") || !strings.Contains(text, "Rs 25.00") {
		t.Fatalf("page: %q", text)
	}
	// The countdown script ran (the CSP allows it) and ticks.
	countdown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".expiry")))
	if err != nil || !regexp.MustCompile(`^expires in (29:[0-5][0-9]|30:00)$`).MatchString(countdown) {
		t.Fatalf("countdown: %q %v", countdown, err)
	}
	browsertest.Screenshot(t, ctx, "hosted-1-signin")

	// A wrong MPIN shows the message and the tries left.
	step(t, ctx, "wrong MPIN", chromedp.SendKeys(chromedp.CSS("#mobile"), "9800000002"), chromedp.SendKeys(chromedp.CSS("#mpin"), "9999"),
		chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if text := pageText(t, ctx); !strings.Contains(text, "Wrong mobile number or MPIN.") || !strings.Contains(text, "2 tries left.") {
		t.Fatalf("after a wrong MPIN: %q", text)
	}
	browsertest.Screenshot(t, ctx, "hosted-2-wrong-mpin")

	step(t, ctx, "sign in", chromedp.SetValue(chromedp.CSS("#mobile"), "9800000002"), chromedp.SendKeys(chromedp.CSS("#mpin"), "1111"),
		chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS("#code")))
	browsertest.Screenshot(t, ctx, "hosted-3-code")

	step(t, ctx, "wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "123123"),
		chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if text := pageText(t, ctx); !strings.Contains(text, "Wrong confirmation code.") || !strings.Contains(text, "2 tries left.") {
		t.Fatalf("after a wrong code: %q", text)
	}
	browsertest.Screenshot(t, ctx, "hosted-4-wrong-code")

	step(t, ctx, "pay", chromedp.SendKeys(chromedp.CSS("#code"), "987654"),
		chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#back")))
	browsertest.Screenshot(t, ctx, "hosted-5-returned")
	q := rr.last(t)
	txn := q.Get("transaction_id")
	want := url.Values{"order": {"42"}, "pidx": {pidx}, "txnId": {txn}, "amount": {"2500"}, "total_amount": {"2500"}, "status": {"Completed"},
		"mobile": {"98XXXXX002"}, "tidx": {txn}, "purchase_order_id": {"42"}, "purchase_order_name": {"Dhaka topi"}, "transaction_id": {txn}}
	if len(txn) != 22 || q.Encode() != want.Encode() {
		t.Fatalf("return_url got %v\nwant %v", q, want)
	}
	// The paid link now says so, with no form to pay again.
	step(t, ctx, "reopen", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("main")))
	if text := pageText(t, ctx); strings.Contains(text, "Continue") || !strings.Contains(text, "already paid") {
		t.Fatalf("reopened paid link: %q", text)
	}
	browsertest.Screenshot(t, ctx, "hosted-6-paid")
	r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if r.Body["status"] != "Completed" || r.Body["transaction_id"] != txn {
		t.Fatalf("lookup: %s", r.Raw)
	}
	list := s.do(t, "GET", "/api/v2/merchant-transaction/?state=Completed", testSK, "")
	if fmt.Sprint(list.Body["total_records"]) != "1" {
		t.Fatalf("completed transactions: %s", list.Raw)
	}
	s.ledgerOK(t)
}

func TestBrowserHostedPageCancel(t *testing.T) {
	s := startServer(t)
	rr := newReturnRecorder(t)
	ctx := browsertest.New(t, 90*time.Second)
	pidx, payURL := browserEPayment(t, s, rr)
	step(t, ctx, "open", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	step(t, ctx, "cancel", chromedp.Click(chromedp.CSS("button.secondary")), chromedp.WaitVisible(chromedp.CSS("#back")))
	q := rr.last(t)
	if q.Get("status") != "User canceled" || q.Has("txnId") || !q.Has("transaction_id") || q.Get("transaction_id") != "" || q.Get("pidx") != pidx || q.Get("order") != "42" {
		t.Fatalf("cancel parameters: %v", q)
	}
	r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if r.Status != 400 || r.Body["status"] != "User canceled" {
		t.Fatalf("lookup after cancel: %d %s", r.Status, r.Raw)
	}
	// The link now shows a clear page without any form.
	step(t, ctx, "reopen", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("main")))
	if text := pageText(t, ctx); strings.Contains(text, "Continue") || !strings.Contains(strings.ToLower(text), "cancel") {
		t.Fatalf("reopened canceled link: %q", text)
	}
	browsertest.Screenshot(t, ctx, "hosted-6-canceled")
	s.ledgerOK(t)
}

// TestBrowserHostedPageTwoTabs submits the code form from two tabs of the
// same payment: both land on the return page, the wallet pays once.
func TestBrowserHostedPageTwoTabs(t *testing.T) {
	s := startServer(t)
	rr := newReturnRecorder(t)
	ctx := browsertest.New(t, 90*time.Second)
	pidx, payURL := browserEPayment(t, s, rr)
	step(t, ctx, "sign in", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#mobile")),
		chromedp.SendKeys(chromedp.CSS("#mobile"), "9800000003"), chromedp.SendKeys(chromedp.CSS("#mpin"), "1111"),
		chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS("#code")))
	tab2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	step(t, tab2, "second tab", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#code")))
	for i, tab := range []context.Context{ctx, tab2} {
		step(t, tab, fmt.Sprintf("pay in tab %d", i+1), chromedp.SendKeys(chromedp.CSS("#code"), "987654"),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#back")))
	}
	rr.mu.Lock()
	visits := len(rr.visits)
	same := visits == 2 && rr.visits[0].Encode() == rr.visits[1].Encode()
	rr.mu.Unlock()
	if !same {
		t.Fatalf("return visits: %v", rr.visits)
	}
	r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if r.Body["status"] != "Completed" {
		t.Fatalf("lookup: %s", r.Raw)
	}
	// The payer paid 2500 once: the sandbox Rs 10 lakh less 2500, seen by
	// topping up one paisa.
	out, err := s.cli(t, "consumer", "topup", "--mobile", "9800000003", "--amount", "1")
	if err != nil || !strings.Contains(out, "balance 99997501 paisa") {
		t.Fatalf("payer balance: %v %s", err, out)
	}
	s.ledgerOK(t)
}

// TestBrowserHostedPageExpired moves a link's expiry into the past in the
// database (as if its time had run out) and opens it.
func TestBrowserHostedPageExpired(t *testing.T) {
	s := startServer(t)
	rr := newReturnRecorder(t)
	ctx := browsertest.New(t, 90*time.Second)
	pidx, payURL := browserEPayment(t, s, rr)
	raw, err := sql.Open("sqlite", s.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE payments SET expires_at = ? WHERE token = ?`, time.Now().Add(-time.Second).UnixMicro(), pidx); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open the expired link", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("main")))
	text := pageText(t, ctx)
	if !strings.Contains(strings.ToLower(text), "expired") || strings.Contains(text, "Continue") {
		t.Fatalf("expired link page: %q", text)
	}
	browsertest.Screenshot(t, ctx, "hosted-7-expired")
	r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if r.Status != 400 || r.Body["status"] != "Expired" || r.Body["transaction_id"] != nil {
		t.Fatalf("lookup of the expired link: %d %s", r.Status, r.Raw)
	}
	s.ledgerOK(t)
}

// TestBrowserDemoShopWidget pays in the demo shop with the checkout
// widget: the loader opens the /kpg/ iframe, the payer signs in and
// confirms, onSuccess hands the token to the shop, and the shop's server
// verifies it.
func TestBrowserDemoShopWidget(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 60*time.Second)
	step(t, ctx, "open the shop", chromedp.Navigate(s.URL+"/demo/"), chromedp.WaitVisible(chromedp.CSS("#widget-pay")))
	browsertest.Screenshot(t, ctx, "demo-1-shop")
	step(t, ctx, "open the widget", chromedp.Click(chromedp.CSS("#widget-pay")), chromedp.WaitVisible(chromedp.CSS("iframe")))
	frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("iframe")))
	if err != nil || len(frames) == 0 {
		t.Fatalf("widget iframe: %v", err)
	}
	in := chromedp.FromNode(frames[0])
	step(t, ctx, "sign in inside the widget", chromedp.WaitVisible(chromedp.CSS("#mobile"), in),
		chromedp.SendKeys(chromedp.CSS("#mobile"), "9800000004", in), chromedp.SendKeys(chromedp.CSS("#pin"), "1111", in))
	browsertest.Screenshot(t, ctx, "demo-2-widget")
	// Click the buttons: the widget's script handles the forms' submit
	// events, which a scripted form.submit() would bypass.
	step(t, ctx, "pay", chromedp.Click(chromedp.CSS("#wallet-form button[type=submit]"), in), chromedp.WaitVisible(chromedp.CSS("#code"), in))
	browsertest.Screenshot(t, ctx, "demo-3-widget-code")
	step(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), "987654", in), chromedp.Click(chromedp.CSS("#otp-form button[type=submit]"), in),
		chromedp.WaitVisible(chromedp.CSS(`#result[data-verified="true"]`)))
	browsertest.Screenshot(t, ctx, "demo-4-verified")
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil || !strings.Contains(result, "Completed") {
		t.Fatalf("shop result: %v %q", err, result)
	}
	list := s.do(t, "GET", "/api/v2/merchant-transaction/?state=Completed", testSK, "")
	records, _ := list.Body["records"].([]any)
	if len(records) != 1 {
		t.Fatalf("completed transactions: %s", list.Raw)
	}
	if user := records[0].(map[string]any)["user"].(map[string]any); user["mobile"] != "98XXXXXXX4" {
		t.Fatalf("payer: %v", user)
	}
	s.ledgerOK(t)
}
