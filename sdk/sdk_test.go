package sdk_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/sdk"
)

// TestVerifyRedirectMatchesServer cross-checks the SDK's verifier with
// the server's signer and verifier, on valid and tampered redirects.
func TestVerifyRedirectMatchesServer(t *testing.T) {
	const sk = payment.DemoSecretKey
	key := payment.RedirectSigningKey(sk)
	paid := [][2]string{{"pidx", "bZQLD9wRVWo4CdESSfuSsB"}, {"txnId", "4H7AhoXDJWg5WjrcPT9ixW"}, {"amount", "1000"},
		{"total_amount", "1000"}, {"status", "Completed"}, {"mobile", "98XXXXX904"}, {"tidx", "4H7AhoXDJWg5WjrcPT9ixW"},
		{"purchase_order_id", "order 1&2=3"}, {"purchase_order_name", "Café, कलम\nline"}, {"transaction_id", "4H7AhoXDJWg5WjrcPT9ixW"}}
	canceled := [][2]string{{"pidx", "bZQLD9wRVWo4CdESSfuSsB"}, {"amount", "1000"}, {"total_amount", "1000"},
		{"status", "User canceled"}, {"mobile", ""}, {"tidx", ""}, {"purchase_order_id", "o"}, {"purchase_order_name", "n"},
		{"transaction_id", ""}}
	signed := func(params [][2]string) url.Values {
		q := url.Values{"return_own": {"x"}}
		for _, kv := range params {
			q.Add(kv[0], kv[1])
		}
		sig, names := payment.SignRedirect(key, params)
		q.Set("signature", sig)
		q.Set("signed_field_names", names)
		return q
	}
	for name, params := range map[string][][2]string{"paid": paid, "canceled": canceled} {
		q := signed(params)
		if !sdk.VerifyRedirect(sk, q) || !payment.VerifyRedirect(sk, q) {
			t.Errorf("%s: a server-signed redirect does not verify (sdk %v, server %v)", name, sdk.VerifyRedirect(sk, q), payment.VerifyRedirect(sk, q))
		}
	}
	tamper := map[string]func(q url.Values){
		"value":          func(q url.Values) { q.Set("amount", "100") },
		"status":         func(q url.Values) { q.Set("status", "Completed ") },
		"duplicate":      func(q url.Values) { q.Add("pidx", "other") },
		"missing field":  func(q url.Values) { q.Del("tidx") },
		"no signature":   func(q url.Values) { q.Del("signature") },
		"two signatures": func(q url.Values) { q.Add("signature", q.Get("signature")) },
		"bad hex":        func(q url.Values) { q.Set("signature", "zz"+q.Get("signature")[2:]) },
		"upper hex ok":   func(q url.Values) { q.Set("signature", strings.ToUpper(q.Get("signature"))) },
		"fewer names":    func(q url.Values) { q.Set("signed_field_names", "pidx,amount") },
		"unknown name":   func(q url.Values) { q.Set("signed_field_names", q.Get("signed_field_names")+",return_own") },
		"repeated name":  func(q url.Values) { q.Set("signed_field_names", q.Get("signed_field_names")+",pidx") },
		"empty names":    func(q url.Values) { q.Set("signed_field_names", "") },
		"reordered": func(q url.Values) {
			n := strings.Split(q.Get("signed_field_names"), ",")
			n[0], n[1] = n[1], n[0]
			q.Set("signed_field_names", strings.Join(n, ","))
		},
		"own param": func(q url.Values) { q.Set("return_own", "changed") }, // not signed: still valid
	}
	for name, f := range tamper {
		for _, params := range [][][2]string{paid, canceled} {
			q := signed(params)
			f(q)
			got, want := sdk.VerifyRedirect(sk, q), payment.VerifyRedirect(sk, q)
			if got != want {
				t.Errorf("%s: sdk says %v, server says %v", name, got, want)
			}
			if ok := name == "upper hex ok" || name == "own param"; got != ok {
				t.Errorf("%s: VerifyRedirect = %v, want %v", name, got, ok)
			}
		}
	}
	if q := signed(paid); sdk.VerifyRedirect("test_secret_key_00000000000000000000000000000000", q) {
		t.Error("another merchant's key verifies")
	}
}

// TestVerifyRedirectHostedPage verifies the redirect the real hosted page
// sends when the payer cancels.
func TestVerifyRedirectHostedPage(t *testing.T) {
	ctx := context.Background()
	client := sdk.New(baseURL, secretKey)
	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{ReturnURL: "https://shop.example/return?cart=7",
		WebsiteURL: "https://shop.example", Amount: 1000, PurchaseOrderID: "o-hosted", PurchaseOrderName: "Hosted"})
	if err != nil {
		t.Fatal(err)
	}
	// A browser: it keeps the page's cookie, which the form's token is
	// bound to, and does not follow the redirect.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(p.PaymentURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the hosted page:\n%s", page)
	}
	resp, err = browser.PostForm(baseURL+"/pay/"+p.Pidx+"/cancel", url.Values{"csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("cancel: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	if !sdk.VerifyRedirect(secretKey, q) {
		t.Fatalf("the hosted page's redirect does not verify: %s", loc)
	}
	if q.Get("status") != sdk.StatusUserCanceled || q.Get("cart") != "7" {
		t.Errorf("redirect query = %v", q)
	}
	q.Set("status", sdk.StatusCompleted)
	if sdk.VerifyRedirect(secretKey, q) {
		t.Error("a redirect with its status changed verifies")
	}
}

func webhookHeader(secret string, ts int64, body string) string {
	t := strconv.FormatInt(ts, 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t + "." + body))
	return "t=" + t + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerifyWebhook(t *testing.T) {
	const secret, body = "whsec_test", `{"pidx":"x","status":"Completed"}`
	now := time.Unix(1700000000, 0)
	good := webhookHeader(secret, now.Unix(), body)
	// A fixed vector, so the scheme cannot drift with the helper above.
	// (openssl dgst -sha256 -hmac whsec_test over `1700000000.` + body)
	const pinned = "t=1700000000,v1=4b146979ffbb6c3100a6721c686b1306b387c5ce3e07bbcb731d3b30a35ee13a"
	if good != pinned {
		t.Fatalf("header %q, want %q", good, pinned)
	}
	cases := []struct {
		name      string
		secret    string
		header    string
		body      string
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, good, body, now, 0, nil},
		{"spaces", secret, strings.ReplaceAll(good, ",", ", "), body, now, 0, nil},
		{"rotation", secret, good + ",v1=" + strings.Repeat("ab", 32), body, now, 0, nil},
		{"rotation first", secret, "t=1700000000,v1=" + strings.Repeat("ab", 32) + "," + strings.SplitN(good, ",", 2)[1], body, now, 0, nil},
		{"unknown scheme ignored", secret, good + ",v0=deadbeef", body, now, 0, nil},
		{"within default 5m", secret, good, body, now.Add(5 * time.Minute), 0, nil},
		{"past default 5m", secret, good, body, now.Add(5*time.Minute + time.Second), 0, sdk.ErrWebhookTimestamp},
		{"future beyond 5m", secret, good, body, now.Add(-6 * time.Minute), 0, sdk.ErrWebhookTimestamp},
		{"custom tolerance", secret, good, body, now.Add(time.Hour), 2 * time.Hour, nil},
		{"tight tolerance", secret, good, body, now.Add(2 * time.Second), time.Second, sdk.ErrWebhookTimestamp},
		{"body changed", secret, good, body + " ", now, 0, sdk.ErrWebhookSignature},
		{"wrong secret", "whsec_other", good, body, now, 0, sdk.ErrWebhookSignature},
		{"timestamp changed", secret, strings.Replace(good, "t=1700000000", "t=1700000001", 1), body, now, 0, sdk.ErrWebhookSignature},
		{"no v1", secret, "t=1700000000", body, now, 0, sdk.ErrWebhookSignature},
		{"bad v1", secret, "t=1700000000,v1=xyz", body, now, 0, sdk.ErrWebhookSignature},
		{"no t", secret, "v1=" + strings.Repeat("ab", 32), body, now, 0, sdk.ErrWebhookHeader},
		{"two t", secret, "t=1,t=2,v1=ab", body, now, 0, sdk.ErrWebhookHeader},
		{"bad t", secret, "t=soon,v1=ab", body, now, 0, sdk.ErrWebhookHeader},
		{"empty", secret, "", body, now, 0, sdk.ErrWebhookHeader},
		{"garbage", secret, "sha256=abc;t", body, now, 0, sdk.ErrWebhookHeader},
	}
	for _, c := range cases {
		if err := sdk.VerifyWebhook(c.secret, c.header, []byte(c.body), c.now, c.tolerance); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// fake serves one canned answer and records the request.
type fake struct {
	status int
	body   string
	got    *http.Request
	gotB   string
}

func (f *fake) start(t *testing.T) *sdk.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.got, f.gotB = r, string(b)
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
	}))
	t.Cleanup(srv.Close)
	return sdk.New(srv.URL+"/", "sk", sdk.WithHTTPClient(srv.Client()))
}

func TestErrorShapes(t *testing.T) {
	cases := []struct {
		status               int
		body                 string
		detail, key, message string
		fields               map[string][]string
	}{
		{401, `{"detail":"Invalid token.","status_code":401}`, "Invalid token.", "", "thaili: HTTP 401: Invalid token.", nil},
		{400, `{"amount":["Amount does not match the transaction amount."],"error_key":"validation_error"}`, "", "validation_error",
			"thaili: HTTP 400; amount: Amount does not match the transaction amount.",
			map[string][]string{"amount": {"Amount does not match the transaction amount."}}},
		{400, `{"detail":"Mobile or pin invalid.","tries_remaining":"2","error_key":"validation_error"}`, "Mobile or pin invalid.",
			"validation_error", "thaili: HTTP 400: Mobile or pin invalid.", nil},
		{400, `{"non_field_errors":["a","b"],"token":"Invalid token."}`, "", "", "thaili: HTTP 400; non_field_errors: a b; token: Invalid token.",
			map[string][]string{"non_field_errors": {"a", "b"}, "token": {"Invalid token."}}},
		{502, `<html>Bad gateway</html>`, "", "", "thaili: HTTP 502 Bad Gateway", nil},
		{404, `{"detail":"Not found.","error_key":"validation_error"}`, "Not found.", "validation_error", "thaili: HTTP 404: Not found.", nil},
	}
	for _, c := range cases {
		f := &fake{status: c.status, body: c.body}
		_, err := f.start(t).Transaction(context.Background(), "idx")
		var e *sdk.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: err = %v, not an *sdk.Error", c.body, err)
		}
		if e.StatusCode != c.status || e.Detail != c.detail || e.ErrorKey != c.key || e.Error() != c.message || string(e.Body) != c.body {
			t.Errorf("%s: got %+v (%q)", c.body, e, e.Error())
		}
		if len(e.Fields) != len(c.fields) {
			t.Errorf("%s: fields %v, want %v", c.body, e.Fields, c.fields)
		}
		for k, v := range c.fields {
			if strings.Join(e.Fields[k], "|") != strings.Join(v, "|") {
				t.Errorf("%s: fields[%s] = %v, want %v", c.body, k, e.Fields[k], v)
			}
		}
	}
}

func TestRequests(t *testing.T) {
	ctx := sdk.WithIdempotencyKey(context.Background(), "k-1")
	f := &fake{status: 200, body: `{"detail":"Transaction refund successful."}`}
	c := f.start(t)

	if err := c.Refund(ctx, "abc/def", nil); err != nil {
		t.Fatal(err)
	}
	if f.got.Method != "POST" || f.got.URL.EscapedPath() != "/api/merchant-transaction/abc%2Fdef/refund/" || f.gotB != "" ||
		f.got.Header.Get("Authorization") != "Key sk" || f.got.Header.Get("Idempotency-Key") != "k-1" {
		t.Errorf("full refund: %s %s %q %v", f.got.Method, f.got.URL, f.gotB, f.got.Header)
	}
	n := int64(500)
	if err := c.Refund(ctx, "abc", &n); err != nil || f.gotB != `{"amount":500}` || f.got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("partial refund: %v %q", err, f.gotB)
	}

	f.body = `{"pidx":"p","payment_url":"u","expires_at":"e","expires_in":60}`
	if _, err := c.InitiateEPayment(ctx, sdk.EPaymentRequest{Amount: 1000, TTL: 60,
		MerchantExtra: map[string]any{"merchant_cart": 7}}); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	json.Unmarshal([]byte(f.gotB), &sent)
	if sent["merchant_cart"] != 7.0 || sent["amount"] != 1000.0 || sent["ttl"] != 60.0 || sent["customer_info"] != nil || f.got.Header.Get("Idempotency-Key") != "k-1" {
		t.Errorf("initiate body %s", f.gotB)
	}
	if _, err := c.InitiateEPayment(ctx, sdk.EPaymentRequest{MerchantExtra: map[string]any{"amount": 1}}); err == nil {
		t.Error("a merchant extra named like a field was sent")
	}

	f.body = `{"status":true,"state":"Complete","detail":"Transaction complete."}`
	if s, err := c.Status(ctx, "tok en", 1000); err != nil || !s.Status || f.got.URL.RawQuery != "amount=1000&token=tok+en" || f.got.Header.Get("Idempotency-Key") != "" {
		t.Errorf("status: %+v %v %s", s, err, f.got.URL)
	}

	f.body = `{"total_pages":1,"total_records":0,"next":null,"previous":null,"record_range":[0,0],"current_page":1,"records":[]}`
	if _, err := c.Transactions(ctx, sdk.ListOptions{Page: 2, PageSize: 50, State: "Partially refunded", StartDate: "2024-01-01"}); err != nil {
		t.Fatal(err)
	}
	if q := f.got.URL.Query(); q.Get("page") != "2" || q.Get("page_size") != "50" || q.Get("state") != "Partially refunded" ||
		q.Get("start_date") != "2024-01-01" || q.Has("end_date") {
		t.Errorf("list query %s", f.got.URL.RawQuery)
	}

	f.body = `{"pidx":"p","total_amount":1000,"status":"Lookup"}`
	if _, err := c.Lookup(ctx, "p"); err != nil || f.got.Header.Get("Idempotency-Key") != "" || f.gotB != `{"pidx":"p"}` {
		t.Errorf("lookup: %v %v %q", err, f.got.Header, f.gotB)
	}
}

// TestLookupAgainstServer: a failed link's 400 is a body, a bad request's
// 400 and an unknown pidx are errors.
func TestLookupAgainstServer(t *testing.T) {
	ctx := context.Background()
	c := sdk.New(baseURL, secretKey)
	if _, err := c.Lookup(ctx, ""); err == nil {
		t.Error("lookup without pidx: no error")
	} else if e := (*sdk.Error)(nil); !errors.As(err, &e) || e.StatusCode != 400 || len(e.Fields["pidx"]) != 1 {
		t.Errorf("lookup without pidx: %v", err)
	}
	_, err := c.Lookup(ctx, "bZQLD9wRVWo4CdESSfuSsB")
	if e := (*sdk.Error)(nil); !errors.As(err, &e) || e.StatusCode != 404 {
		t.Errorf("unknown pidx: %v", err)
	}
	p, err := c.InitiateEPayment(ctx, sdk.EPaymentRequest{ReturnURL: "https://shop.example/r", WebsiteURL: "https://shop.example",
		Amount: 1000, PurchaseOrderID: "o", PurchaseOrderName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	cancelEPayment(p.Pidx)
	l, err := c.Lookup(ctx, p.Pidx)
	if err != nil || l.Status != sdk.StatusUserCanceled || l.Pidx != p.Pidx || l.TotalAmount != 1000 || l.TransactionID != nil {
		t.Errorf("canceled lookup: %+v %v", l, err)
	}
}
