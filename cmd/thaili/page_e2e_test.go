package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// page is a browser of the hosted payment page: it keeps its cookies, and
// does not follow redirects, so the return_url redirect can be inspected.
type page struct {
	t      *testing.T
	s      *testServer
	client *http.Client
}

func newPage(t *testing.T, s *testServer) *page {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &page{t: t, s: s, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// pageResponse is one answer from the page.
type pageResponse struct {
	Status int
	Header http.Header
	Body   string
}

func (p *page) get(path string) pageResponse {
	p.t.Helper()
	res, err := p.client.Get(p.s.URL + path)
	if err != nil {
		p.t.Fatal(err)
	}
	return readPage(p.t, res)
}

func (p *page) post(path string, form url.Values) pageResponse {
	p.t.Helper()
	res, err := p.client.PostForm(p.s.URL+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	return readPage(p.t, res)
}

func readPage(t *testing.T, res *http.Response) pageResponse {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pageResponse{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page's forms.
func csrf(t *testing.T, r pageResponse) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no csrf token in page:\n%s", r.Body)
	}
	return m[1]
}

func mustContain(t *testing.T, what string, r pageResponse, status int, parts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.Status, status, r.Body)
	}
	for _, s := range parts {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("%s: no %q in\n%s", what, s, r.Body)
		}
	}
}

// initiateEPayment starts an ePayment for the sandbox merchant and returns
// its pidx and the path of its payment_url.
func initiateEPayment(t *testing.T, s *testServer) (pidx, pagePath string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v2/epayment/initiate/", testSK, epaymentBody(t, nil))
	mustStatus(t, r, 200)
	u, err := url.Parse(r.Body["payment_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return r.Body["pidx"].(string), u.RequestURI()
}

func TestHostedPagePay(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newPage(t, s)
	pidx, path := initiateEPayment(t, s)

	r := p.get(path)
	mustContain(t, "page", r, 200, "Book", "Rs 13.00", "TEST MODE", "expires in 30 min", `action="/pay/`+pidx+`/signin"`, `<label for="mpin">`)
	csp := r.Header.Get("Content-Security-Policy")
	if csp != "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self' https://shop.example; frame-ancestors 'none'; base-uri 'none'" ||
		r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers: %v", r.Header)
	}
	token := csrf(t, r)
	if r2 := p.get("/wallet/?pidx=" + pidx + "&mode=wallet"); r2.Status != 200 || csrf(t, r2) != token {
		t.Fatalf("/wallet/: %d", r2.Status)
	}
	if css := p.get("/static/thaili.css"); css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %v", css.Status, css.Header)
	}

	base := "/pay/" + pidx
	r = p.post(base+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000001"}, "mpin": {"0000"}})
	mustContain(t, "wrong MPIN", r, 400, "Wrong mobile number or MPIN.",
		"2 tries left. 3 wrong MPINs in a row lock your wallet for payments (for 30 minutes the first time).", `value="9800000001"`)
	r = p.post(base+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000001"}, "mpin": {"1111"}})
	mustContain(t, "signin", r, 200, `action="/pay/`+pidx+`/confirm"`, `name="code"`, "98XXXXX001", `action="/pay/`+pidx+`/resend"`)
	if strings.Contains(r.Body, `name="mpin"`) {
		t.Fatal("the code step asks for the MPIN again")
	}
	r = p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"111111"}})
	mustContain(t, "wrong code", r, 400, "Wrong confirmation code.",
		"2 tries left. After 3 wrong codes this payment stops, and you start again from the shop.", `name="code"`)

	r = p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}})
	if r.Status != 303 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != "https://shop.example/return" {
		t.Fatalf("Location %q", r.Header.Get("Location"))
	}
	q := loc.Query()
	txn := q.Get("transaction_id")
	want := url.Values{"order": {"7"}, "pidx": {pidx}, "txnId": {txn}, "amount": {"1300"}, "total_amount": {"1300"},
		"status": {"Completed"}, "mobile": {"98XXXXX001"}, "tidx": {txn}, "purchase_order_id": {"7"},
		"purchase_order_name": {"Book"}, "transaction_id": {txn}}
	if len(txn) != 22 || !equalValues(q, want) || !strings.HasPrefix(loc.RawQuery, "order=7&pidx=") {
		t.Fatalf("return query %q", loc.RawQuery)
	}
	lookup := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if lookup.Body["status"] != "Completed" || lookup.Body["transaction_id"] != txn {
		t.Fatalf("lookup: %s", lookup.Raw)
	}

	// A second submit returns the paid payment and charges nothing more.
	r = p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}})
	if r.Status != 303 || r.Header.Get("Location") != loc.String() {
		t.Fatalf("re-confirm: %d %q", r.Status, r.Header.Get("Location"))
	}
	list := s.do(t, "GET", "/api/v2/merchant-transaction/", testSK, "")
	if list.Body["total_records"] != json.Number("1") {
		t.Fatalf("list: %s", list.Raw)
	}
	if again := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`); again.Raw != lookup.Raw {
		t.Fatalf("lookup changed: %s", again.Raw)
	}
	// The paid page shows no form.
	r = p.get(path)
	mustContain(t, "paid page", r, 200, "This payment is already paid.")
	if strings.Contains(r.Body, "<form") {
		t.Fatalf("paid page has a form:\n%s", r.Body)
	}
	s.ledgerOK(t)
}

func TestHostedPageCancelAndRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))

	// A bad or missing CSRF token, or one for another pidx, is refused.
	other, otherPath := initiateEPayment(t, s)
	otherToken := csrf(t, p.get(otherPath))
	for _, tok := range []string{"", "x", otherToken} {
		if r := p.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {tok}}); r.Status != 403 {
			t.Fatalf("csrf %q: %d", tok, r.Status)
		}
	}
	if otherToken == token || other == pidx {
		t.Fatal("tokens not per payment")
	}

	r := p.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {token}})
	if r.Status != 303 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	want := url.Values{"order": {"7"}, "pidx": {pidx}, "transaction_id": {""}, "tidx": {""}, "amount": {"1300"},
		"total_amount": {"1300"}, "mobile": {""}, "status": {"User canceled"}, "purchase_order_id": {"7"}, "purchase_order_name": {"Book"}}
	if !equalValues(loc.Query(), want) {
		t.Fatalf("cancel query %q", loc.RawQuery)
	}
	if lookup := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`); lookup.Body["status"] != "User canceled" {
		t.Fatalf("lookup: %s", lookup.Raw)
	}
	r = p.get(path)
	mustContain(t, "canceled page", r, 410, "This payment was canceled.")
	if strings.Contains(r.Body, "<form") {
		t.Fatal("canceled page has a form")
	}
	r = p.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000001"}, "mpin": {"1111"}})
	mustContain(t, "signin after cancel", r, 400, "This payment was canceled.")

	// Unknown and missing pidx.
	mustContain(t, "unknown pidx", p.get("/?pidx=bZQLD9wRVWo4CdESSfuSsB"), 404, "Payment not found")
	mustContain(t, "missing pidx", p.get("/wallet/"), 404, "Payment not found")
	s.ledgerOK(t)
}

func TestHostedPageDisabledAfterWrongCodes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))
	base := "/pay/" + pidx
	p.post(base+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000002"}, "mpin": {"1111"}})
	// A reload after sign-in shows the code form.
	mustContain(t, "reload", p.get(path), 200, `name="code"`)
	for i := 0; i < 2; i++ {
		p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"000000"}})
	}
	r := p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"000000"}})
	mustContain(t, "third wrong code", r, 400, "Wrong confirmation code.", "can no longer be paid")
	r = p.get(path)
	mustContain(t, "disabled page", r, 410, "can no longer be paid")
	if strings.Contains(r.Body, "<form") {
		t.Fatal("disabled page has a form")
	}
}

// equalValues reports whether two query value sets are the same.
func equalValues(got, want url.Values) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok || len(g) != len(v) {
			return false
		}
		for i := range v {
			if g[i] != v[i] {
				return false
			}
		}
	}
	return true
}

// TestEPaymentLookupAfterPayAndRefunds pays an ePayment on the page and
// follows its lookup through partial and full refunds on both paths.
func TestEPaymentLookupAfterPayAndRefunds(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))
	p.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000005"}, "mpin": {"1111"}})
	if r := p.post("/pay/"+pidx+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}}); r.Status != 303 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	lookup := func(want string, refunded bool) string {
		t.Helper()
		r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
		txn, _ := r.Body["transaction_id"].(string)
		if r.Status != 200 || r.Body["status"] != want || r.Body["refunded"] != refunded || len(txn) != 22 ||
			r.Body["total_amount"] != json.Number("1300") || r.Body["fee"] != json.Number("39") {
			t.Fatalf("lookup (want %s): %d %s", want, r.Status, r.Raw)
		}
		sdk := s.do(t, "POST", "/api/v2/epayment/lookup-sdk/", testPK, "pidx="+pidx)
		if sdk.Body["status"] != want || sdk.Body["transaction_id"] != txn || sdk.Body["refunded"] != refunded {
			t.Fatalf("lookup-sdk (want %s): %s", want, sdk.Raw)
		}
		return txn
	}
	txn := lookup("Completed", false)
	// The transaction id is the record's idx: the list and both refund paths take it.
	if d := s.do(t, "GET", "/api/v2/merchant-transaction/"+txn+"/", testSK, ""); d.Status != 200 || d.Body["amount"] != json.Number("1300") {
		t.Fatalf("detail of the ePayment: %s", d.Raw)
	}
	if r := s.do(t, "POST", "/api/v2/epayment/merchant-transaction/"+txn+"/refund/", testSK, `{"amount": 300, "mobile": "9800000005"}`); r.Status != 200 {
		t.Fatalf("partial refund: %s", r.Raw)
	}
	lookup("Partially refunded", true)
	if r := s.do(t, "POST", "/api/merchant-transaction/"+txn+"/refund/", testSK, ""); r.Status != 200 {
		t.Fatalf("full refund: %s", r.Raw)
	}
	lookup("Refunded", true)
	out, err := s.cli(t, "consumer", "topup", "--mobile", "9800000005", "--amount", "1")
	if err != nil || !strings.Contains(out, "balance 100000001 paisa") {
		t.Fatalf("payer refunded in full: %v %s", err, out)
	}
	s.ledgerOK(t)
}

// TestHostedPageResendCode: "Send the code again" on the code step. A
// second code within 30 s is refused with the wait; later it is sent, the
// wrong code entered before still counts, and the code pays. Another
// browser with the pidx gets nothing sent.
func TestHostedPageResendCode(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p, stranger := newPage(t, s), newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))
	strangerToken := csrf(t, stranger.get(path))
	base := "/pay/" + pidx
	mustContain(t, "resend before sign-in", p.post(base+"/resend", url.Values{"csrf": {token}}), 400,
		"Sign in with your mobile number and MPIN first.", `action="`+base+`/signin"`)
	mustContain(t, "sign in", p.post(base+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000004"}, "mpin": {"1111"}}), 200,
		`action="`+base+`/resend"`, "Send the code again")
	mustContain(t, "wrong code", p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"000000"}}), 400, "2 tries left.")

	r := p.post(base+"/resend", url.Values{"csrf": {token}})
	mustContain(t, "resend at once", r, 429, "We sent you a code a moment ago. You can ask for another in", `name="code"`)
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 30 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	mustContain(t, "a stranger's resend", stranger.post(base+"/resend", url.Values{"csrf": {strangerToken}}), 400,
		"This payment is being paid in another browser.")

	// As if the code had been sent 31 s ago.
	raw, err := sql.Open("sqlite", s.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE payments SET otp_expires_at = otp_expires_at - ? WHERE token = ?`, (31 * time.Second).Microseconds(), pidx); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "resend", p.post(base+"/resend", url.Values{"csrf": {token}}), 200, "Test mode sends no SMS: the code is 987654.", `name="code"`)
	mustContain(t, "wrong code after the resend", p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"000000"}}), 400, "1 try left.")
	if r := p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}}); r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "status=Completed") {
		t.Fatalf("pay after the resend: %d %s", r.Status, r.Header.Get("Location"))
	}
	s.ledgerOK(t)
}

// TestHostedPageLiveShowsNoTestCredentials: in the sandbox a test
// payment's page shows the test payers, MPIN and code; a live payment's
// page, at every step, shows none of them and says a code was sent.
func TestHostedPageLiveShowsNoTestCredentials(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	_, testPath := initiateEPayment(t, s)
	mustContain(t, "test payment", newPage(t, s).get(testPath), 200, `id="test-credentials"`, "<code>9800000001</code>", "<code>1111</code>", "<code>987654</code>")

	// The demo merchant goes live with its first test payment.
	s.pay(t, testPK, testSK, "9800000001", 1000)
	_, liveSK := s.liveKeys(t, "demo@thaili.local")
	s.cliOK(t, "consumer", "topup", "--mobile", "9800000002", "--amount", "100000", "--book", "live")
	r := s.do(t, "POST", "/api/v2/epayment/initiate/", liveSK, epaymentBody(t, nil))
	mustStatus(t, r, 200)
	pidx := r.Body["pidx"].(string)
	u, _ := url.Parse(r.Body["payment_url"].(string))
	p := newPage(t, s)
	signin := p.get(u.RequestURI())
	token := csrf(t, signin)
	code := p.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000002"}, "mpin": {"1111"}})
	mustContain(t, "live code step", code, 200, "We sent a confirmation code to your mobile.", `name="code"`)
	wrong := p.post("/pay/"+pidx+"/confirm", url.Values{"csrf": {token}, "code": {"000000"}})
	mustContain(t, "live wrong code", wrong, 400, "Wrong confirmation code.")
	for what, page := range map[string]pageResponse{"sign-in": signin, "code": code, "wrong code": wrong} {
		for _, secret := range []string{"TEST MODE", "test-credentials", "987654", "<code>1111</code>", "9800000000", "9800000013"} {
			if strings.Contains(page.Body, secret) {
				t.Fatalf("the live %s page shows %q", what, secret)
			}
		}
	}
}
