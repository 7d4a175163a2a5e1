package main

// End-to-end tests of every HTTP endpoint through `thaili serve`: the wire
// contract of docs/khalti.md §1, §2, §4 and §5 and
// the decisions in NOTES.md, with exact status codes and bodies.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Exact bodies docs/khalti.md and NOTES.md fix.
const (
	bodyInvalidToken   = `{"token":["Invalid token."]}`
	bodyNotFound       = `{"detail":"Not found.","error_key":"validation_error"}`
	bodyStatusNotFound = `{"status":false,"state":"Error","detail":"Transaction not found"}`
	bodyRefundOK       = `{"detail":"Transaction refund successful."}`
	bodyNoCredentials  = `{"detail":"Authentication credentials were not provided.","status_code":401}`
	bodyBadKey         = `{"detail":"Invalid token.","status_code":401}`
	bodyStatusComplete = `{"status":true,"detail":"Transaction complete.","state":"Complete"}`
	bodyStatusFailed   = `{"status":false,"detail":"Transaction failed.","state":"Failed"}`
	demoMerchantName   = "Thaili Demo Shop"
	demoMerchantEmail  = "demo@thaili.local"
	unknownSecretKey   = "test_secret_key_00000000000040008000000000000000"
	unknownIdx         = "ZZZZZZZZZZZZZZZZZZZZZZ" // well-formed, never issued
)

var (
	idRE        = regexp.MustCompile(`^[23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]{22}$`)
	createdOnRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+05:45$`)
)

// --- helpers ---

// doHeaders sends a request with exactly the given headers (no
// Content-Type or Authorization is added).
func (s *testServer) doHeaders(t testing.TB, method, path string, hdr map[string]string, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return s.send(t, req)
}

// decodeExact decodes JSON keeping numbers as json.Number, so 1000 and
// 1000.0 differ.
func decodeExact(t testing.TB, raw string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, raw)
	}
	return v
}

// checkBody reports (with t.Errorf) unless r has the status and exactly
// the JSON body want (same keys, same values, same number spelling).
func checkBody(t testing.TB, what string, r response, status int, want string) bool {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, r.Status, status, r.Raw)
		return false
	}
	got, exp := decodeExact(t, r.Raw), decodeExact(t, want)
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s: body\n  %s\nwant\n  %s", what, strings.TrimSpace(r.Raw), want)
		return false
	}
	return true
}

// mustBody is checkBody that stops the test.
func mustBody(t testing.TB, what string, r response, status int, want string) {
	t.Helper()
	if !checkBody(t, what, r, status, want) {
		t.FailNow()
	}
}

// keysOf returns the sorted keys of a JSON object.
func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mustKeys(t testing.TB, what string, v any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keysOf(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: keys %v, want %v", what, got, want)
	}
}

// initiateFields is a valid initiate request body.
func initiateFields(pk, mobile string, amount any) map[string]any {
	return map[string]any{"public_key": pk, "mobile": mobile, "transaction_pin": "1111", "amount": amount,
		"product_identity": "book-1", "product_name": "A book", "product_url": "https://shop.example/book-1"}
}

// confirmWith sends a confirm with the given code and PIN.
func (s *testServer) confirmWith(t testing.TB, pk, token, code, pin string) response {
	t.Helper()
	return s.do(t, "POST", "/api/v2/payment/confirm/", "", jsonBody(t, map[string]any{
		"public_key": pk, "token": token, "confirmation_code": code, "transaction_pin": pin}))
}

// status asks the status API about a token or idx.
func (s *testServer) status(t testing.TB, sk, tokenOrIdx string, amount int) response {
	t.Helper()
	return s.do(t, "GET", fmt.Sprintf("/api/v2/payment/status/?token=%s&amount=%d", tokenOrIdx, amount), sk, "")
}

// statusBody is the status API's exact body for a state.
func statusBody(status bool, detail, state string) string {
	return fmt.Sprintf(`{"status":%t,"detail":%q,"state":%q}`, status, detail, state)
}

// createMerchant runs `merchant create` and returns the merchant idx and its test keys.
func (s *testServer) createMerchant(t testing.TB, name, email string, extra ...string) (idx, pk, sk string) {
	t.Helper()
	out, err := s.cli(t, append([]string{"merchant", "create", "--name", name, "--email", email}, extra...)...)
	if err != nil {
		t.Fatalf("merchant create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`created merchant (\S+) `).FindStringSubmatch(out)
	pk = regexp.MustCompile(`test public key: (test_public_key_[0-9a-f]{32})\n`).FindStringSubmatch(out)[1]
	sk = regexp.MustCompile(`test secret key: (test_secret_key_[0-9a-f]{32})\n`).FindStringSubmatch(out)[1]
	if m == nil || !idRE.MatchString(m[1]) {
		t.Fatalf("merchant create output: %s", out)
	}
	return m[1], pk, sk
}

// showMerchant runs `merchant show`.
func (s *testServer) showMerchant(t testing.TB, ref string) string {
	t.Helper()
	out, err := s.cli(t, "merchant", "show", "--merchant", ref)
	if err != nil {
		t.Fatalf("merchant show: %v\n%s", err, out)
	}
	return out
}

var (
	livePublicRE = regexp.MustCompile(`(?m)^live public key: (live_public_key_[0-9a-f]{32}) \[active\]$`)
	liveSecretRE = regexp.MustCompile(`(?m)^live secret key: (live_secret_key_[0-9a-f]{32})  \(shown once; store it now\) \[active\]$`)
	balanceRE    = regexp.MustCompile(`(?m)^balance: test (-?\d+) paisa, live (-?\d+) paisa$`)
)

// liveKeys reads the live keys from the first `merchant show` after go-live.
func (s *testServer) liveKeys(t testing.TB, ref string) (pk, sk string) {
	t.Helper()
	out := s.showMerchant(t, ref)
	p, q := livePublicRE.FindStringSubmatch(out), liveSecretRE.FindStringSubmatch(out)
	if p == nil || q == nil {
		t.Fatalf("merchant show does not reveal the live keys:\n%s", out)
	}
	return p[1], q[1]
}

// merchantBalances reads a merchant's test and live balances in paisa.
func (s *testServer) merchantBalances(t testing.TB, ref string) (test, live int64) {
	t.Helper()
	out := s.showMerchant(t, ref)
	m := balanceRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no balance line in merchant show:\n%s", out)
	}
	test, _ = strconv.ParseInt(m[1], 10, 64)
	live, _ = strconv.ParseInt(m[2], 10, 64)
	return test, live
}

// cliOK runs a CLI command that must succeed.
func (s *testServer) cliOK(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.cli(t, args...)
	if err != nil {
		t.Fatalf("thaili %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// list fetches a transaction list page.
func (s *testServer) list(t testing.TB, sk, query string) response {
	t.Helper()
	r := s.do(t, "GET", "/api/v2/merchant-transaction/?"+query, sk, "")
	mustStatus(t, r, 200)
	return r
}

// listIdxs returns the idx of each record of a list response.
func listIdxs(t testing.TB, r response) []string {
	t.Helper()
	recs, ok := r.Body["records"].([]any)
	if !ok {
		t.Fatalf("no records array: %s", r.Raw)
	}
	out := []string{}
	for _, rec := range recs {
		out = append(out, rec.(map[string]any)["idx"].(string))
	}
	return out
}

// expectedRecord is the exact record verify, list and detail show for a
// sandbox-merchant payment of 1000 paisa by payer mobile 98000000<n>.
func expectedRecord(t testing.TB, got map[string]any, idx, state, template, userName, userMobile string, amount, fee int, refunded bool) map[string]any {
	t.Helper()
	user, _ := got["user"].(map[string]any)
	merchant, _ := got["merchant"].(map[string]any)
	stateIdx := map[string]string{"Completed": "DhvMj9hdRufLqkP8ZY4d8g", "Confirmed": "Dhvaj9hdRufLqkP8ZY4d8g",
		"Initiated": "DhvNj9hdRufLqkP8ZY4d8g", "Refunded": "DhvQj9hdRufLqkP8ZY4d8g", "Partially refunded": "DhvRj9hdRufLqkP8ZY4d8g"}[state]
	if stateIdx == "" {
		t.Fatalf("no state idx for %q", state)
	}
	created, _ := got["created_on"].(string)
	if !createdOnRE.MatchString(created) {
		t.Errorf("created_on %q does not match %s", created, createdOnRE)
	}
	if id, _ := user["idx"].(string); !idRE.MatchString(id) {
		t.Errorf("user.idx %q is not a 22-char id", id)
	}
	if id, _ := merchant["idx"].(string); !idRE.MatchString(id) {
		t.Errorf("merchant.idx %q is not a 22-char id", id)
	}
	return map[string]any{
		"idx":        idx,
		"type":       map[string]any{"idx": "e476BL6jt9kgagEmsakyTL", "name": "Wallet payment"},
		"state":      map[string]any{"idx": stateIdx, "name": state, "template": template},
		"amount":     json.Number(strconv.Itoa(amount)),
		"fee_amount": json.Number(strconv.Itoa(fee)),
		"refunded":   refunded,
		"created_on": created,
		"ebanker":    nil,
		"user":       map[string]any{"idx": user["idx"], "name": userName, "mobile": userMobile},
		"merchant":   map[string]any{"idx": merchant["idx"], "name": demoMerchantName, "mobile": demoMerchantEmail},
	}
}

// mustEqualJSON compares a decoded object with an expected one.
func mustEqualJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// --- initiate ---

func TestInitiateEncodingsAndSuccessBody(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	base := `"public_key":"` + testPK + `","mobile":"9800000001","transaction_pin":"1111","product_identity":"b","product_name":"B"`
	form := "public_key=" + testPK + "&mobile=9800000001&transaction_pin=1111&product_identity=b&product_name=B"
	cases := []struct {
		name string
		hdr  map[string]string
		body string
	}{
		{"json int", map[string]string{"Content-Type": "application/json"}, `{` + base + `,"amount":1000}`},
		{"json string", map[string]string{"Content-Type": "application/json"}, `{` + base + `,"amount":"1000"}`},
		{"json float", map[string]string{"Content-Type": "application/json"}, `{` + base + `,"amount":1000.0}`},
		{"json float string", map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{` + base + `,"amount":"1000.0"}`},
		{"json without content type", nil, `{` + base + `,"amount":1000}`},
		{"form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form + "&amount=1000"},
		{"form float", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form + "&amount=1000.0"},
		{"unknown keys ignored", map[string]string{"Content-Type": "application/json"},
			`{` + base + `,"amount":1000,"widgetId":"khalti-widget-1","source":"checkout_v2.1","merchantData":{"a":[1,2]},"extra":null}`},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		r := s.doHeaders(t, "POST", "/api/v2/payment/initiate/", c.hdr, c.body)
		if r.Status != 200 {
			t.Errorf("%s: status %d: %s", c.name, r.Status, r.Raw)
			continue
		}
		mustKeys(t, c.name, r.Body, "token", "pin_created", "pin_created_message")
		token, _ := r.Body["token"].(string)
		if !idRE.MatchString(token) || r.Body["pin_created"] != false || r.Body["pin_created_message"] != "" {
			t.Errorf("%s: success body %s", c.name, r.Raw)
		}
		if seen[token] {
			t.Errorf("%s: token %s issued twice", c.name, token)
		}
		seen[token] = true
		// The amount was read as 1000 paisa: status finds it only with 1000.
		checkBody(t, c.name+": status", s.status(t, testSK, token, 1000), 200, statusBody(true, "Transaciton initiated.", "Initiated"))
		checkBody(t, c.name+": status 100000", s.status(t, testSK, token, 100000), 200, bodyStatusNotFound)
	}
	if ct := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(testPK, "9800000001", 1000))).Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestInitiateValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const required = `["This field is required."]`
	allRequired := `{"public_key":` + required + `,"mobile":` + required + `,"transaction_pin":` + required +
		`,"amount":` + required + `,"product_identity":` + required + `,"product_name":` + required + `,"error_key":"validation_error"}`
	checkBody(t, "empty JSON", s.do(t, "POST", "/api/v2/payment/initiate/", "", "{}"), 400, allRequired)
	checkBody(t, "empty body", s.do(t, "POST", "/api/v2/payment/initiate/", "", ""), 400, allRequired)

	with := func(k string, v any) string {
		f := initiateFields(testPK, "9800000001", 1000)
		f[k] = v
		return jsonBody(t, f)
	}
	amountErr := func(msg string) string {
		return `{"amount":[` + strconv.Quote(msg) + `],"error_key":"validation_error"}`
	}
	for _, c := range []struct {
		name string
		body string
		want string
	}{
		{"amount abc", with("amount", "abc"), amountErr("A valid integer is required.")},
		{"amount fraction", with("amount", 1000.5), amountErr("A valid integer is required.")},
		{"amount bool", with("amount", true), amountErr("A valid integer is required.")},
		{"amount 999", with("amount", 999), amountErr("Amount should be greater than Rs. 10, that is 1000 paisa.")},
		{"amount \"999\"", with("amount", "999"), amountErr("Amount should be greater than Rs. 10, that is 1000 paisa.")},
		{"amount negative", with("amount", -1000), amountErr("Amount should be greater than Rs. 10, that is 1000 paisa.")},
		{"product_name blank", with("product_name", "  "), `{"product_name":["This field may not be blank."],"error_key":"validation_error"}`},
		{"mobile null", with("mobile", nil), `{"mobile":["This field may not be null."],"error_key":"validation_error"}`},
		// An unknown mobile answers like a wrong PIN (NOTES.md).
		{"unknown mobile", with("mobile", "9811111119"), `{"detail":"Mobile or pin invalid.","tries_remaining":"2","error_key":"validation_error"}`},
	} {
		checkBody(t, c.name, s.do(t, "POST", "/api/v2/payment/initiate/", "", c.body), 400, c.want)
	}
	for _, pk := range []string{"nonsense", testSK, "test_public_key_00000000000040008000000000000000"} {
		r := s.do(t, "POST", "/api/v2/payment/initiate/", "", with("public_key", pk))
		if r.Status != 400 || r.Body["public_key"] == nil || r.Body["error_key"] != "validation_error" {
			t.Errorf("public_key %q: %d %s", pk, r.Status, r.Raw)
		}
	}

	// A merchant without approved KYC: NPR 200 per payment at most.
	_, pk, sk := s.createMerchant(t, "Corner Shop", "x@example.com")
	checkBody(t, "non-KYC 20001", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(pk, "9800000001", 20001))),
		400, `{"amount":["Amount must be less than 200."],"error_key":"validation_error"}`)
	_, idx := s.pay(t, pk, sk, "9800000001", 20000)
	if !idRE.MatchString(idx) {
		t.Fatalf("idx %q", idx)
	}
	// A merchant's own wallet may not pay it.
	_, opk, _ := s.createMerchant(t, "Owner Shop", "owner@example.com", "--mobile", "9800000005", "--kyc", "approved")
	checkBody(t, "self-payment", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(opk, "9800000005", 1000))),
		400, `{"mobile":["A merchant cannot pay itself."],"error_key":"validation_error"}`)
	s.initiate(t, opk, "9800000001", 1000)
	// The sandbox merchant is KYC approved: no cap.
	s.pay(t, testPK, testSK, "9800000001", 20001)
	s.ledgerOK(t)
}

func TestInitiateMPINLock(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const mobile = "9800000004"
	wrong := initiateFields(testPK, mobile, 1000)
	wrong["transaction_pin"] = "2222"
	mustBody(t, "1st wrong MPIN", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, wrong)), 400,
		`{"detail":"Mobile or pin invalid.","tries_remaining":"2","error_key":"validation_error"}`)
	mustBody(t, "2nd wrong MPIN", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, wrong)), 400,
		`{"detail":"Mobile or pin invalid.","tries_remaining":"1","error_key":"validation_error"}`)
	locked := func(what string, r response) {
		t.Helper()
		if r.Status != 400 || r.Body["error_key"] != "third_party_transaction_locked" {
			t.Fatalf("%s: %d %s, want 400 third_party_transaction_locked", what, r.Status, r.Raw)
		}
		mustKeys(t, what, r.Body, "detail", "error_key")
		if d, _ := r.Body["detail"].(string); d == "" {
			t.Fatalf("%s: empty detail", what)
		}
	}
	locked("3rd wrong MPIN", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, wrong)))
	locked("right MPIN while locked", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(testPK, mobile, 1000))))
	locked("wrong MPIN while locked", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, wrong)))
	// Other wallets are unaffected.
	s.initiate(t, testPK, "9800000003", 1000)

	if out := s.cliOK(t, "consumer", "reset-mpin", "--mobile", mobile, "--mpin", "1111"); !strings.Contains(out, "unlocked") {
		t.Fatalf("reset-mpin: %s", out)
	}
	s.pay(t, testPK, testSK, mobile, 1000)
	// The count starts again after the reset...
	mustBody(t, "wrong MPIN after reset", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, wrong)), 400,
		`{"detail":"Mobile or pin invalid.","tries_remaining":"2","error_key":"validation_error"}`)
	// ...and a right MPIN resets it too.
	s.initiate(t, testPK, mobile, 1000)
	mustBody(t, "wrong MPIN after a right one", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, wrong)), 400,
		`{"detail":"Mobile or pin invalid.","tries_remaining":"2","error_key":"validation_error"}`)
	s.ledgerOK(t)
}

// --- confirm ---

func TestConfirmSuccessAndExtras(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	// Raw JSON so the large integers are sent exactly as written.
	body := `{"public_key":"` + testPK + `","mobile":"9800000001","transaction_pin":"1111","amount":"1000",` +
		`"product_identity":"book/id-120","product_name":"A Song of Ice and Fire","product_url":"http://bookexample.com",` +
		`"merchant_extra":"gift wrap","merchant_order":9007199254740993,"merchant_huge":123456789012345678901234567890,` +
		`"merchant_nested":{"a":[1,"b"]},"not_merchant":"dropped"}`
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", body)
	mustStatus(t, r, 200)
	token := r.Body["token"].(string)

	c := s.confirmWith(t, testPK, token, "987654", "1111")
	mustStatus(t, c, 200)
	idx, _ := c.Body["idx"].(string)
	if !idRE.MatchString(idx) || idx == token {
		t.Fatalf("confirm idx %q (token %q)", idx, token)
	}
	want := `{"idx":"` + idx + `","token":"` + token + `","amount":1000,"mobile":"98XXXXX001","product_identity":"book/id-120",` +
		`"product_name":"A Song of Ice and Fire","product_url":"http://bookexample.com","merchant_extra":"gift wrap",` +
		`"merchant_order":9007199254740993,"merchant_huge":123456789012345678901234567890,"merchant_nested":{"a":[1,"b"]}}`
	mustBody(t, "confirm", c, 200, want)
	for _, exact := range []string{`"merchant_order":9007199254740993`, `"merchant_huge":123456789012345678901234567890`, `"amount":1000,`} {
		if !strings.Contains(c.Raw, exact) {
			t.Errorf("confirm body lacks %s: %s", exact, c.Raw)
		}
	}
	// A retried confirm returns the same answer.
	mustBody(t, "repeated confirm", s.confirmWith(t, testPK, token, "987654", "1111"), 200, want)
	// A wrong code on a confirmed payment does not undo it.
	if r := s.confirmWith(t, testPK, token, "111111", "1111"); r.Status != 400 {
		t.Errorf("wrong code after confirm: %d %s", r.Status, r.Raw)
	}
	checkBody(t, "status", s.status(t, testSK, token, 1000), 200, statusBody(true, "Transaciton not verified.", "Confirmed"))
	// Confirm still answers the same after verify.
	mustStatus(t, s.verify(t, testSK, token, 1000), 200)
	mustBody(t, "confirm after verify", s.confirmWith(t, testPK, token, "987654", "1111"), 200, want)

	// Form bodies: extras come back as the strings sent.
	form := "public_key=" + testPK + "&mobile=9800000002&transaction_pin=1111&amount=1500&product_identity=p%2F2" +
		"&product_name=Tea&merchant_username=ram&merchant_order_id=42"
	r = s.do(t, "POST", "/api/v2/payment/initiate/", "", form)
	mustStatus(t, r, 200)
	token2 := r.Body["token"].(string)
	c = s.do(t, "POST", "/api/v2/payment/confirm/", "", "public_key="+testPK+"&token="+token2+"&confirmation_code=987654&transaction_pin=1111")
	mustStatus(t, c, 200)
	mustBody(t, "form confirm", c, 200, `{"idx":"`+c.Body["idx"].(string)+`","token":"`+token2+`","amount":1500,"mobile":"98XXXXX002",`+
		`"product_identity":"p/2","product_name":"Tea","product_url":"","merchant_username":"ram","merchant_order_id":"42"}`)
	s.ledgerOK(t)
}

func TestConfirmErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const required = `["This field is required."]`
	checkBody(t, "empty confirm", s.do(t, "POST", "/api/v2/payment/confirm/", "", "{}"), 400,
		`{"public_key":`+required+`,"token":`+required+`,"confirmation_code":`+required+`,"transaction_pin":`+required+`,"error_key":"validation_error"}`)
	checkBody(t, "bad token", s.confirmWith(t, testPK, unknownIdx, "987654", "1111"), 400, bodyInvalidToken)
	checkBody(t, "garbage token", s.confirmWith(t, testPK, "nope", "987654", "1111"), 400, bodyInvalidToken)
	if r := s.confirmWith(t, "test_public_key_00000000000040008000000000000000", unknownIdx, "987654", "1111"); r.Status != 400 || r.Body["public_key"] == nil {
		t.Errorf("unknown public key: %d %s", r.Status, r.Raw)
	}

	// Three wrong codes or PINs disable the payment.
	token := s.initiate(t, testPK, "9800000001", 1000)
	mustBody(t, "wrong code 1", s.confirmWith(t, testPK, token, "123456", "1111"), 400,
		`{"detail":"Confirmation code or transaction pin does not match.","tries_remaining":"2"}`)
	mustBody(t, "wrong PIN 2", s.confirmWith(t, testPK, token, "987654", "9999"), 400,
		`{"detail":"Confirmation code or transaction pin does not match.","tries_remaining":"1"}`)
	checkBody(t, "still initiated", s.status(t, testSK, token, 1000), 200, statusBody(true, "Transaciton initiated.", "Initiated"))
	mustBody(t, "wrong code 3", s.confirmWith(t, testPK, token, "000000", "1111"), 400,
		`{"detail":"Confirmation code or transaction pin does not match.","tries_remaining":"0"}`)
	checkBody(t, "status after 3 wrong", s.status(t, testSK, token, 1000), 200, bodyStatusFailed)
	if r := s.confirmWith(t, testPK, token, "987654", "1111"); r.Status != 400 || r.Body["idx"] != nil {
		t.Errorf("confirm of a disabled payment with the right code: %d %s", r.Status, r.Raw)
	}
	checkBody(t, "status still failed", s.status(t, testSK, token, 1000), 200, bodyStatusFailed)
	if r := s.verify(t, testSK, token, 1000); r.Status != 400 {
		t.Errorf("verify of a disabled payment: %d %s", r.Status, r.Raw)
	}
	// The payer's wallet was never touched and nothing is held.
	s.ledgerOK(t)
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, path := range []string{"/api/v2/payment/initiate/", "/api/v2/payment/confirm/"} {
		r := s.doHeaders(t, "OPTIONS", path, map[string]string{
			"Origin":                         "https://khalti.s3.ap-south-1.amazonaws.com",
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "content-type,x-requested-with",
		}, "")
		if r.Status != 200 {
			t.Errorf("preflight %s: status %d %s", path, r.Status, r.Raw)
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("preflight %s: Access-Control-Allow-Origin %q", path, got)
		}
		if got := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
			t.Errorf("preflight %s: Access-Control-Allow-Methods %q", path, got)
		}
		if got := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "content-type") {
			t.Errorf("preflight %s: Access-Control-Allow-Headers %q", path, got)
		}
	}
	origin := map[string]string{"Origin": "https://khalti.s3.ap-south-1.amazonaws.com", "Content-Type": "application/json"}
	r := s.doHeaders(t, "POST", "/api/v2/payment/initiate/", origin, jsonBody(t, initiateFields(testPK, "9800000001", 1000)))
	mustStatus(t, r, 200)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("initiate: Access-Control-Allow-Origin %q", got)
	}
	token := r.Body["token"].(string)
	r = s.doHeaders(t, "POST", "/api/v2/payment/confirm/", origin, jsonBody(t, map[string]any{
		"public_key": testPK, "token": token, "confirmation_code": "987654", "transaction_pin": "1111"}))
	mustStatus(t, r, 200)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("confirm: Access-Control-Allow-Origin %q", got)
	}
	// Error answers carry it too, or the widget could not show them.
	r = s.doHeaders(t, "POST", "/api/v2/payment/initiate/", origin, "{}")
	if r.Status != 400 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("initiate error: %d, Access-Control-Allow-Origin %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}
	mustStatus(t, s.verify(t, testSK, token, 1000), 200)
	s.ledgerOK(t)
}

// --- verify ---

func TestVerify(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	token := s.initiate(t, testPK, "9800000001", 1000)
	idx := s.confirm(t, testPK, token)

	checkBody(t, "missing fields", s.do(t, "POST", "/api/v2/payment/verify/", testSK, "{}"), 400,
		`{"token":["This field is required."],"amount":["This field is required."],"error_key":"validation_error"}`)
	checkBody(t, "wrong amount", s.verify(t, testSK, token, 1001), 400,
		`{"amount":["Amount does not match the transaction amount."],"error_key":"validation_error"}`)
	checkBody(t, "amount abc", s.do(t, "POST", "/api/v2/payment/verify/", testSK, "token="+token+"&amount=abc"), 400,
		`{"amount":["A valid integer is required."],"error_key":"validation_error"}`)
	checkBody(t, "still confirmed", s.status(t, testSK, token, 1000), 200, statusBody(true, "Transaciton not verified.", "Confirmed"))
	checkBody(t, "unknown token", s.verify(t, testSK, unknownIdx, 1000), 400, bodyInvalidToken)
	checkBody(t, "idx instead of token", s.verify(t, testSK, idx, 1000), 400, bodyInvalidToken)

	// Lowercase "key", as every KPG-2 example writes it; form body as curl -d sends it.
	r := s.doHeaders(t, "POST", "/api/v2/payment/verify/", map[string]string{
		"Authorization": "key " + testSK, "Content-Type": "application/x-www-form-urlencoded"}, "token="+token+"&amount=1000")
	mustStatus(t, r, 200)
	rec := decodeExact(t, r.Raw).(map[string]any)
	mustKeys(t, "verify record", rec, "idx", "type", "state", "amount", "fee_amount", "refunded", "created_on", "ebanker", "user", "merchant")
	mustEqualJSON(t, "verify record", rec, expectedRecord(t, rec, idx, "Completed", "is complete", "Test User 1", "98XXXXXXX1", 1000, 30, false))
	if !strings.Contains(r.Raw, `"amount":1000,`) || !strings.Contains(r.Raw, `"fee_amount":30,`) || !strings.Contains(r.Raw, `"ebanker":null`) {
		t.Errorf("numbers or null not emitted as such: %s", r.Raw)
	}
	created, _ := time.Parse("2006-01-02T15:04:05.000000-07:00", rec["created_on"].(string))
	if d := time.Since(created); d < 0 || d > time.Minute {
		t.Errorf("created_on %s is %v ago", rec["created_on"], d)
	}

	// Verifying again (JSON, "Key") returns the same record.
	again := s.verify(t, testSK, token, 1000)
	mustBody(t, "second verify", again, 200, r.Raw)
	checkBody(t, "wrong amount after capture", s.verify(t, testSK, token, 999), 400,
		`{"amount":["Amount does not match the transaction amount."],"error_key":"validation_error"}`)

	// An initiated, unconfirmed payment cannot be verified.
	t2 := s.initiate(t, testPK, "9800000002", 1000)
	checkBody(t, "verify initiated", s.verify(t, testSK, t2, 1000), 400,
		`{"detail":"Transaction is not confirmed yet.","error_key":"validation_error"}`)
	checkBody(t, "initiated unchanged", s.status(t, testSK, t2, 1000), 200, statusBody(true, "Transaciton initiated.", "Initiated"))

	// The merchant received the amount less the 3% fee.
	if test, live := s.merchantBalances(t, demoMerchantEmail); test != 10_000_000+970 || live != 0 {
		t.Errorf("merchant balances test %d live %d", test, live)
	}
	s.ledgerOK(t)
}

func TestSecretKeyAuthentication(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	token, idx := s.pay(t, testPK, testSK, "9800000001", 1000)
	endpoints := []struct {
		method, path, body string
	}{
		{"POST", "/api/v2/payment/verify/", "token=" + token + "&amount=1000"},
		{"GET", "/api/v2/payment/status/?token=" + token + "&amount=1000", ""},
		{"GET", "/api/v2/merchant-transaction/", ""},
		{"GET", "/api/v2/merchant-transaction/" + idx + "/", ""},
		{"POST", "/api/merchant-transaction/" + idx + "/refund/", ""},
		{"POST", "/api/v2/epayment/merchant-transaction/" + idx + "/refund/", ""},
	}
	headers := []struct {
		name, value, want string
	}{
		{"no header", "", bodyNoCredentials},
		{"Bearer", "Bearer x", bodyNoCredentials},
		{"Token keyword", "Token " + testSK, bodyNoCredentials},
		{"keyword glued", "Key" + testSK, bodyNoCredentials},
		{"Key alone", "Key", `{"detail":"Invalid token header. No credentials provided.","status_code":401}`},
		{"Key with spaces", "Key a b", `{"detail":"Invalid token header. Token string should not contain spaces.","status_code":401}`},
		{"unknown key", "Key " + unknownSecretKey, bodyBadKey},
		{"public key as secret", "Key " + testPK, bodyBadKey},
		{"garbage key", "Key x", bodyBadKey},
		{"uppercase hex", "Key " + strings.ToUpper(testSK), bodyBadKey},
	}
	for _, e := range endpoints {
		for _, h := range headers {
			hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			if h.value != "" {
				hdr["Authorization"] = h.value
			}
			checkBody(t, e.method+" "+e.path+" with "+h.name, s.doHeaders(t, e.method, e.path, hdr, e.body), 401, h.want)
		}
	}
	// The keyword in any case, and extra whitespace, work.
	for _, auth := range []string{"KEY " + testSK, "kEy   " + testSK, " Key " + testSK + " "} {
		r := s.doHeaders(t, "GET", "/api/v2/merchant-transaction/", map[string]string{"Authorization": auth}, "")
		if r.Status != 200 {
			t.Errorf("Authorization %q: %d %s", auth, r.Status, r.Raw)
		}
	}
	// No refund happened above.
	checkBody(t, "status", s.status(t, testSK, token, 1000), 200, bodyStatusComplete)
	s.ledgerOK(t)
}

// --- status ---

func TestStatusStates(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	token := s.initiate(t, testPK, "9800000001", 1000)
	checkBody(t, "initiated", s.status(t, testSK, token, 1000), 200, statusBody(true, "Transaciton initiated.", "Initiated"))
	idx := s.confirm(t, testPK, token)
	checkBody(t, "confirmed", s.status(t, testSK, token, 1000), 200, statusBody(true, "Transaciton not verified.", "Confirmed"))
	checkBody(t, "confirmed by idx", s.status(t, testSK, idx, 1000), 200, statusBody(true, "Transaciton not verified.", "Confirmed"))
	mustStatus(t, s.verify(t, testSK, token, 1000), 200)
	checkBody(t, "completed", s.status(t, testSK, token, 1000), 200, bodyStatusComplete)
	checkBody(t, "completed by idx", s.status(t, testSK, idx, 1000), 200, bodyStatusComplete)
	checkBody(t, "unversioned, no slash", s.do(t, "GET", "/api/payment/status?token="+idx+"&amount=1000", testSK, ""), 200, bodyStatusComplete)

	checkBody(t, "wrong amount", s.status(t, testSK, token, 1001), 200, bodyStatusNotFound)
	checkBody(t, "wrong amount by idx", s.status(t, testSK, idx, 100), 200, bodyStatusNotFound)
	checkBody(t, "unknown token", s.status(t, testSK, unknownIdx, 1000), 200, bodyStatusNotFound)
	checkBody(t, "missing params", s.do(t, "GET", "/api/v2/payment/status/", testSK, ""), 400,
		`{"token":["This field is required."],"amount":["This field is required."],"error_key":"validation_error"}`)
	checkBody(t, "bad amount", s.do(t, "GET", "/api/v2/payment/status/?token="+token+"&amount=ten", testSK, ""), 400,
		`{"amount":["A valid integer is required."],"error_key":"validation_error"}`)

	mustBody(t, "partial refund", s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, `{"amount":400}`), 200, bodyRefundOK)
	checkBody(t, "partially refunded", s.status(t, testSK, token, 1000), 200, statusBody(false, "Transaction partially refunded.", "Partially refunded"))
	mustBody(t, "full refund", s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, ""), 200, bodyRefundOK)
	checkBody(t, "refunded", s.status(t, testSK, token, 1000), 200, statusBody(false, "Transaciton refunded.", "Refunded"))
	checkBody(t, "refunded by idx", s.status(t, testSK, idx, 1000), 200, statusBody(false, "Transaciton refunded.", "Refunded"))
	s.ledgerOK(t)
}

// --- list ---

func TestTransactionList(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	checkBody(t, "empty list", s.list(t, testSK, ""), 200,
		`{"total_pages":1,"total_records":0,"next":null,"previous":null,"record_range":[0,0],"current_page":1,"records":[]}`)

	// Five payments, oldest first: Completed, Confirmed, Completed, Confirmed, Completed.
	var idxs []string
	completed := map[string]bool{}
	for i := range 5 {
		token := s.initiate(t, testPK, "9800000001", 1000+i)
		idx := s.confirm(t, testPK, token)
		if i%2 == 0 {
			mustStatus(t, s.verify(t, testSK, token, 1000+i), 200)
			completed[idx] = true
		}
		idxs = append(idxs, idx)
	}
	newest := []string{idxs[4], idxs[3], idxs[2], idxs[1], idxs[0]}
	const path = "/api/v2/merchant-transaction/"

	all := s.list(t, testSK, "")
	mustKeys(t, "envelope", all.Body, "total_pages", "total_records", "next", "previous", "record_range", "current_page", "records")
	if got := listIdxs(t, all); !reflect.DeepEqual(got, newest) {
		t.Fatalf("default list order %v, want newest first %v", got, newest)
	}
	for i, rec := range all.Body["records"].([]any) {
		m := rec.(map[string]any)
		state, tmpl, fee := "Confirmed", "is confirm", m["fee_amount"]
		if completed[m["idx"].(string)] {
			state, tmpl = "Completed", "is complete"
		}
		amount := 1004 - i
		want := expectedRecord(t, m, newest[i], state, tmpl, "Test User 1", "98XXXXXXX1", amount, 0, false)
		want["fee_amount"] = fee // a Confirmed record's fee is not fixed by Khalti
		if state == "Completed" {
			want["fee_amount"] = json.Number(strconv.Itoa((amount*3 + 50) / 100))
		}
		mustEqualJSON(t, fmt.Sprintf("record %d", i), m, want)
	}

	p1 := s.list(t, testSK, "page=1&page_size=2")
	mustBody(t, "page 1", p1, 200, fmt.Sprintf(`{"total_pages":3,"total_records":5,"next":%q,"previous":null,"record_range":[1,2],"current_page":1,"records":%s}`,
		s.URL+path+"?page=2&page_size=2", mustMarshalRecords(t, p1)))
	if got := listIdxs(t, p1); !reflect.DeepEqual(got, newest[:2]) {
		t.Errorf("page 1: %v, want %v", got, newest[:2])
	}
	// Follow the absolute next link.
	next := p1.Body["next"].(string)
	p2 := s.do(t, "GET", strings.TrimPrefix(next, s.URL), testSK, "")
	mustBody(t, "page 2", p2, 200, fmt.Sprintf(`{"total_pages":3,"total_records":5,"next":%q,"previous":%q,"record_range":[3,4],"current_page":2,"records":%s}`,
		s.URL+path+"?page=3&page_size=2", s.URL+path+"?page=1&page_size=2", mustMarshalRecords(t, p2)))
	if got := listIdxs(t, p2); !reflect.DeepEqual(got, newest[2:4]) {
		t.Errorf("page 2: %v, want %v", got, newest[2:4])
	}
	p3 := s.list(t, testSK, "page=3&page_size=2")
	mustBody(t, "page 3", p3, 200, fmt.Sprintf(`{"total_pages":3,"total_records":5,"next":null,"previous":%q,"record_range":[5,5],"current_page":3,"records":%s}`,
		s.URL+path+"?page=2&page_size=2", mustMarshalRecords(t, p3)))
	if got := listIdxs(t, p3); !reflect.DeepEqual(got, newest[4:]) {
		t.Errorf("page 3: %v, want %v", got, newest[4:])
	}
	// Links keep the filters.
	f1 := s.list(t, testSK, "state=Completed&page_size=2")
	if f1.Body["next"] != s.URL+path+"?page=2&page_size=2&state=Completed" || f1.Body["total_pages"] != json.Number("2") {
		t.Errorf("filtered page 1: %s", f1.Raw)
	}

	for _, q := range []string{"page=4&page_size=2", "page=0", "page=-1", "page=abc", "page=2"} {
		checkBody(t, "invalid page "+q, s.do(t, "GET", path+"?"+q, testSK, ""), 404, `{"detail":"Invalid page."}`)
	}
	big := s.list(t, testSK, "page_size=1000")
	if got := listIdxs(t, big); !reflect.DeepEqual(got, newest) || big.Body["total_pages"] != json.Number("1") {
		t.Errorf("page_size=1000: %s", big.Raw)
	}

	for q, want := range map[string][]string{
		"state=Completed":           {idxs[4], idxs[2], idxs[0]},
		"state=complete":            {idxs[4], idxs[2], idxs[0]},
		"state=Confirmed":           {idxs[3], idxs[1]},
		"state=Completed,Confirmed": newest,
		"state=Refunded":            {},
	} {
		r := s.list(t, testSK, q)
		if got := listIdxs(t, r); !reflect.DeepEqual(got, want) || r.Body["total_records"] != json.Number(strconv.Itoa(len(want))) {
			t.Errorf("%s: %v (total %v), want %v", q, got, r.Body["total_records"], want)
		}
	}
	checkBody(t, "invalid state", s.do(t, "GET", path+"?state=Bogus", testSK, ""), 400,
		`{"state":["Select a valid choice. Bogus is not one of the available choices."],"error_key":"validation_error"}`)

	// Dates are Nepal calendar days, inclusive. Take them from the records so
	// a run across midnight still agrees.
	recs := all.Body["records"].([]any)
	last := recs[0].(map[string]any)["created_on"].(string)[:10]
	first := recs[4].(map[string]any)["created_on"].(string)[:10]
	today := time.Now().In(time.FixedZone("+0545", 5*3600+45*60)).Format("2006-01-02")
	if last != today && last != time.Now().Add(-time.Hour).In(time.FixedZone("+0545", 5*3600+45*60)).Format("2006-01-02") {
		t.Errorf("newest created_on %s is not today (%s) in Nepal", last, today)
	}
	lastDay, _ := time.Parse("2006-01-02", last)
	firstDay, _ := time.Parse("2006-01-02", first)
	for q, want := range map[string][]string{
		"start_date=" + first + "&end_date=" + last:                              newest,
		"start_date=" + first:                                                    newest,
		"end_date=" + last:                                                       newest,
		"start_date=2001-01-01&end_date=2001-12-31":                              {},
		"start_date=" + lastDay.AddDate(0, 0, 1).Format("2006-01-02"):            {},
		"end_date=" + firstDay.AddDate(0, 0, -1).Format("2006-01-02"):            {},
		"state=Confirmed&start_date=" + first + "&end_date=" + last + "&page=1":  {idxs[3], idxs[1]},
		"start_date=" + lastDay.AddDate(0, 0, -30).Format("2006-01-02") + "&x=1": newest,
	} {
		r := s.list(t, testSK, q)
		if got := listIdxs(t, r); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	empty := s.list(t, testSK, "start_date=2001-01-01&end_date=2001-12-31")
	checkBody(t, "empty range", empty, 200, `{"total_pages":1,"total_records":0,"next":null,"previous":null,"record_range":[0,0],"current_page":1,"records":[]}`)
	checkBody(t, "bad date", s.do(t, "GET", path+"?start_date=2024-13-01", testSK, ""), 400,
		`{"start_date":["Enter a valid date in the format YYYY-MM-DD."],"error_key":"validation_error"}`)
	s.ledgerOK(t)
}

func TestListLinksUsePublicURL(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--public-url", "https://pay.example.com/")
	s.pay(t, testPK, testSK, "9800000001", 1000)
	s.pay(t, testPK, testSK, "9800000002", 1000)
	r := s.list(t, testSK, "page_size=1&state=Completed")
	if r.Body["next"] != "https://pay.example.com/api/v2/merchant-transaction/?page=2&page_size=1&state=Completed" || r.Body["previous"] != nil {
		t.Errorf("page 1 links: %s", r.Raw)
	}
	r = s.do(t, "GET", "/api/merchant-transaction?page=2&page_size=1", testSK, "")
	mustStatus(t, r, 200)
	if r.Body["previous"] != "https://pay.example.com/api/merchant-transaction?page=1&page_size=1" || r.Body["next"] != nil {
		t.Errorf("page 2 links on an alias path: %s", r.Raw)
	}
	s.ledgerOK(t)
}

// mustMarshalRecords re-encodes a list response's records for an exact
// envelope comparison.
func mustMarshalRecords(t testing.TB, r response) string {
	t.Helper()
	env := decodeExact(t, r.Raw).(map[string]any)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(env["records"]); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}

// --- detail ---

func TestTransactionDetail(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	_, idx := s.pay(t, testPK, testSK, "9800000003", 3000)
	r := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", testSK, "")
	mustStatus(t, r, 200)
	d := decodeExact(t, r.Raw).(map[string]any)
	mustKeys(t, "detail", d, "idx", "type", "state", "amount", "fee_amount", "refunded", "created_on", "ebanker", "user", "merchant",
		"can_refund", "can_complete", "child_transactions", "meta")
	want := expectedRecord(t, d, idx, "Completed", "is complete", "Test User 3", "98XXXXXXX3", 3000, 90, false)
	want["can_refund"], want["can_complete"] = true, false
	want["meta"] = map[string]any{"product_identity": "p1", "product_name": "Product", "product_url": ""}
	children, _ := d["child_transactions"].([]any)
	if len(children) != 1 {
		t.Fatalf("child_transactions: %s", r.Raw)
	}
	child := children[0].(map[string]any)
	if id, _ := child["idx"].(string); !idRE.MatchString(id) || id == idx {
		t.Errorf("fee child idx %q", id)
	}
	if c, _ := child["created_on"].(string); !createdOnRE.MatchString(c) {
		t.Errorf("fee child created_on %q", c)
	}
	want["child_transactions"] = []any{map[string]any{
		"idx":                child["idx"],
		"type":               map[string]any{"idx": "YpwbDVqAnH42odGZmT5vZ8", "name": "Fee"},
		"state":              map[string]any{"idx": "DhvMj9hdRufLqkP8ZY4d8g", "name": "Completed", "template": "is complete"},
		"amount":             json.Number("90"),
		"fee_amount":         json.Number("0"),
		"refunded":           false,
		"created_on":         child["created_on"],
		"ebanker":            nil,
		"user":               d["merchant"],
		"merchant":           map[string]any{"idx": "9dUzuqrLetWo9VY3fNwB2E", "name": "", "mobile": "wallet@thaili.local"},
		"can_refund":         false,
		"can_complete":       false,
		"child_transactions": []any{},
		"meta":               nil,
	}}
	mustEqualJSON(t, "detail", d, want)

	// The detail record is the verify record with extras.
	token2 := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(testPK, "9800000001", 1000))).Body["token"].(string)
	checkBody(t, "detail of initiated by token", s.do(t, "GET", "/api/v2/merchant-transaction/"+token2+"/", testSK, ""), 404, bodyNotFound)
	idx2 := s.confirm(t, testPK, token2)
	r = s.do(t, "GET", "/api/v2/merchant-transaction/"+idx2+"/", testSK, "")
	mustStatus(t, r, 200)
	d = decodeExact(t, r.Raw).(map[string]any)
	want = expectedRecord(t, d, idx2, "Confirmed", "is confirm", "Test User 1", "98XXXXXXX1", 1000, 0, false)
	want["fee_amount"] = d["fee_amount"] // not fixed by Khalti before capture
	want["can_refund"], want["can_complete"] = false, true
	want["child_transactions"] = []any{}
	want["meta"] = map[string]any{"product_identity": "book-1", "product_name": "A book", "product_url": "https://shop.example/book-1"}
	mustEqualJSON(t, "confirmed detail", d, want)

	checkBody(t, "unknown idx", s.do(t, "GET", "/api/v2/merchant-transaction/"+unknownIdx+"/", testSK, ""), 404, bodyNotFound)
	checkBody(t, "garbage idx", s.do(t, "GET", "/api/v2/merchant-transaction/%27%3B--/", testSK, ""), 404, bodyNotFound)
	s.ledgerOK(t)
}

// --- refund ---

func TestRefund(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const payer = "9812345670"
	s.cliOK(t, "consumer", "create", "--mobile", payer, "--name", "Refund Payer", "--mpin", "1111")
	s.cliOK(t, "consumer", "topup", "--mobile", payer, "--amount", "1000")
	_, idx := s.pay(t, testPK, testSK, payer, 1000)
	if test, _ := s.merchantBalances(t, demoMerchantEmail); test != 10_000_970 {
		t.Fatalf("merchant balance after payment: %d", test)
	}
	// The wallet is empty now.
	checkBody(t, "insufficient", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(testPK, payer, 1000))), 400,
		`{"detail":"Insufficient balance in the wallet.","error_key":"validation_error"}`)

	refund := "/api/merchant-transaction/" + idx + "/refund/"
	epay := "/api/v2/epayment/merchant-transaction/" + idx + "/refund/"
	detail := func() map[string]any {
		t.Helper()
		r := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", testSK, "")
		mustStatus(t, r, 200)
		return r.Body
	}
	mustBody(t, "partial 300", s.do(t, "POST", refund, testSK, `{"amount":300}`), 200, bodyRefundOK)
	checkBody(t, "status partial", s.status(t, testSK, idx, 1000), 200, statusBody(false, "Transaction partially refunded.", "Partially refunded"))
	d := detail()
	mustEqualJSON(t, "partial state", d["state"], map[string]any{"idx": "DhvRj9hdRufLqkP8ZY4d8g", "name": "Partially refunded", "template": "is partially refund"})
	if d["refunded"] != true || d["can_refund"] != true || d["amount"] != json.Number("1000") {
		t.Errorf("detail after partial refund: %v", d)
	}
	// Form body on the epayment path.
	mustBody(t, "partial 200 (form, epayment path)", s.do(t, "POST", epay, testSK, "amount=200"), 200, bodyRefundOK)
	checkBody(t, "over-refund", s.do(t, "POST", refund, testSK, `{"amount":600}`), 400,
		`{"amount":["Refund amount is more than the refundable amount of Rs 5.00."],"error_key":"validation_error"}`)
	checkBody(t, "zero", s.do(t, "POST", refund, testSK, `{"amount":0}`), 400,
		`{"amount":["Ensure this value is greater than or equal to 1."],"error_key":"validation_error"}`)
	checkBody(t, "abc", s.do(t, "POST", refund, testSK, `{"amount":"abc"}`), 400,
		`{"amount":["A valid integer is required."],"error_key":"validation_error"}`)
	// A mobile (bank refunds) is accepted and ignored.
	mustBody(t, "partial 100 with mobile", s.do(t, "POST", refund, testSK, `{"mobile":"`+payer+`","amount":"100"}`), 200, bodyRefundOK)
	checkBody(t, "still partial", s.status(t, testSK, idx, 1000), 200, statusBody(false, "Transaction partially refunded.", "Partially refunded"))
	// No body: the remaining 400.
	mustBody(t, "full remainder", s.doHeaders(t, "POST", refund, map[string]string{"Authorization": "Key " + testSK}, ""), 200, bodyRefundOK)
	checkBody(t, "status refunded", s.status(t, testSK, idx, 1000), 200, statusBody(false, "Transaciton refunded.", "Refunded"))
	d = detail()
	mustEqualJSON(t, "refunded state", d["state"], map[string]any{"idx": "DhvQj9hdRufLqkP8ZY4d8g", "name": "Refunded", "template": "is refund"})
	if d["refunded"] != true || d["can_refund"] != false {
		t.Errorf("detail after full refund: %v", d)
	}
	checkBody(t, "refund again", s.do(t, "POST", refund, testSK, ""), 400,
		`{"detail":"Transaction is already fully refunded.","error_key":"validation_error"}`)
	checkBody(t, "refund 1 more", s.do(t, "POST", epay, testSK, `{"amount":1}`), 400,
		`{"detail":"Transaction is already fully refunded.","error_key":"validation_error"}`)

	// The merchant paid back 1000 (the fee of 30 is not returned)...
	if test, _ := s.merchantBalances(t, demoMerchantEmail); test != 10_000_970-1000 {
		t.Errorf("merchant balance after refunds: %d, want %d", test, 10_000_970-1000)
	}
	// ...and the payer has the whole 1000 back: topup 1 reports 1001 and a
	// new payment of 1000 goes through.
	if out := s.cliOK(t, "consumer", "topup", "--mobile", payer, "--amount", "1"); !strings.Contains(out, "balance 1001 paisa") {
		t.Errorf("wallet after refund: %s", out)
	}
	tokenC := s.initiate(t, testPK, payer, 1000)
	idxC := s.confirm(t, testPK, tokenC)
	checkBody(t, "refund of a confirmed payment", s.do(t, "POST", "/api/merchant-transaction/"+idxC+"/refund/", testSK, ""), 400,
		`{"detail":"Only completed transactions can be refunded.","error_key":"validation_error"}`)
	checkBody(t, "refund of an unknown idx", s.do(t, "POST", "/api/merchant-transaction/"+unknownIdx+"/refund/", testSK, ""), 404, bodyNotFound)
	checkBody(t, "refund by token", s.do(t, "POST", "/api/merchant-transaction/"+tokenC+"/refund/", testSK, ""), 404, bodyNotFound)
	mustStatus(t, s.verify(t, testSK, tokenC, 1000), 200)
	// An empty JSON object also refunds everything.
	mustBody(t, "full refund {}", s.do(t, "POST", "/api/v2/epayment/merchant-transaction/"+idxC+"/refund/", testSK, `{}`), 200, bodyRefundOK)
	checkBody(t, "second refunded", s.status(t, testSK, idxC, 1000), 200, statusBody(false, "Transaciton refunded.", "Refunded"))

	// A refund is paid from the merchant's balance, which lacks the fee.
	_, pk, sk := s.createMerchant(t, "Small Shop", "small@example.com")
	_, idxS := s.pay(t, pk, sk, "9800000002", 1000)
	checkBody(t, "refund beyond balance", s.do(t, "POST", "/api/merchant-transaction/"+idxS+"/refund/", sk, ""), 400,
		`{"detail":"Merchant balance is not enough for this refund.","error_key":"validation_error"}`)
	mustBody(t, "refund of the balance", s.do(t, "POST", "/api/merchant-transaction/"+idxS+"/refund/", sk, `{"amount":970}`), 200, bodyRefundOK)
	if test, _ := s.merchantBalances(t, "small@example.com"); test != 0 {
		t.Errorf("small merchant balance %d", test)
	}
	s.ledgerOK(t)
}

// --- paths and methods ---

func TestPathAliasesAndMethods(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var tokens []string
	for _, path := range []string{"/api/payment/initiate/", "/api/payment/initiate", "/api/v2/payment/initiate"} {
		r := s.do(t, "POST", path, "", jsonBody(t, initiateFields(testPK, "9800000001", 1000)))
		if r.Status != 200 || !idRE.MatchString(fmt.Sprint(r.Body["token"])) {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Raw)
		}
		tokens = append(tokens, r.Body["token"].(string))
	}
	var idxs []string
	for i, path := range []string{"/api/payment/confirm/", "/api/payment/confirm", "/api/v2/payment/confirm"} {
		r := s.do(t, "POST", path, "", jsonBody(t, map[string]any{"public_key": testPK, "token": tokens[i], "confirmation_code": "987654", "transaction_pin": "1111"}))
		if r.Status != 200 || r.Body["token"] != tokens[i] {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Raw)
		}
		idxs = append(idxs, r.Body["idx"].(string))
	}
	for i, path := range []string{"/api/payment/verify/", "/api/payment/verify", "/api/v2/payment/verify"} {
		r := s.do(t, "POST", path, testSK, "token="+tokens[i]+"&amount=1000")
		if r.Status != 200 || r.Body["idx"] != idxs[i] {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Raw)
		}
	}
	for _, path := range []string{"/api/v2/payment/status", "/api/payment/status/", "/api/payment/status"} {
		checkBody(t, "GET "+path, s.do(t, "GET", path+"?token="+tokens[0]+"&amount=1000", testSK, ""), 200, bodyStatusComplete)
	}
	for _, path := range []string{"/api/v2/merchant-transaction", "/api/merchant-transaction/", "/api/merchant-transaction"} {
		r := s.do(t, "GET", path, testSK, "")
		if r.Status != 200 || r.Body["total_records"] != json.Number("3") {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Raw)
		}
	}
	for _, path := range []string{"/api/v2/merchant-transaction/" + idxs[0], "/api/merchant-transaction/" + idxs[0] + "/", "/api/merchant-transaction/" + idxs[0]} {
		r := s.do(t, "GET", path, testSK, "")
		if r.Status != 200 || r.Body["idx"] != idxs[0] || r.Body["can_refund"] != true {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Raw)
		}
	}
	mustBody(t, "refund without slash", s.do(t, "POST", "/api/merchant-transaction/"+idxs[1]+"/refund", testSK, ""), 200, bodyRefundOK)
	mustBody(t, "epayment refund without slash", s.do(t, "POST", "/api/v2/epayment/merchant-transaction/"+idxs[2]+"/refund", testSK, `{"amount":100}`), 200, bodyRefundOK)
	checkBody(t, "refunded", s.status(t, testSK, idxs[1], 1000), 200, statusBody(false, "Transaciton refunded.", "Refunded"))
	checkBody(t, "partially refunded", s.status(t, testSK, idxs[2], 1000), 200, statusBody(false, "Transaction partially refunded.", "Partially refunded"))

	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v2/payment/verify/"},
		{"GET", "/api/payment/verify"},
		{"GET", "/api/v2/payment/initiate/"},
		{"GET", "/api/v2/payment/confirm/"},
		{"GET", "/api/merchant-transaction/" + idxs[0] + "/refund/"},
		{"POST", "/api/v2/payment/status/"},
		{"POST", "/api/v2/merchant-transaction/"},
		{"DELETE", "/api/v2/merchant-transaction/" + idxs[0] + "/"},
		{"PUT", "/api/v2/payment/verify/"},
	} {
		r := s.do(t, c.method, c.path, testSK, "")
		checkBody(t, c.method+" "+c.path, r, 405, `{"detail":`+strconv.Quote(`Method "`+c.method+`" not allowed.`)+`}`)
	}
	// GET / is the hosted payment page with a pidx (a 404 page for an
	// unknown one) and the home page without; other methods stay JSON.
	if r := s.do(t, "GET", "/?pidx=unknown", "", ""); r.Status != 404 || !strings.Contains(r.Raw, "Payment not found") {
		t.Errorf("GET / with an unknown pidx: %d %s", r.Status, r.Raw)
	}
	if r := s.do(t, "GET", "/", "", ""); r.Status != 200 || !strings.Contains(r.Raw, `id="links"`) {
		t.Errorf("GET / without pidx: %d %s", r.Status, r.Raw)
	}
	checkBody(t, "POST /", s.do(t, "POST", "/", "", "{}"), 404, `{"detail":"Not found."}`)
	for _, path := range []string{"/api/", "/api/v2/payment/", "/api/v2/payment/initiate/extra/", "/api/v3/payment/initiate/", "/api/epayment/merchant-transaction/" + idxs[0] + "/refund/"} {
		checkBody(t, "GET "+path, s.do(t, "GET", path, "", ""), 404, `{"detail":"Not found."}`)
		checkBody(t, "POST "+path, s.do(t, "POST", path, "", "{}"), 404, `{"detail":"Not found."}`)
	}
	if r := s.do(t, "GET", "/healthz", "", ""); r.Status != 200 {
		t.Errorf("healthz: %d %s", r.Status, r.Raw)
	}
	// Every response carries X-Request-Id: the client's if sane, else a new one.
	if r := s.doHeaders(t, "GET", "/nowhere", map[string]string{"X-Request-Id": "req-42.a_b"}, ""); r.Header.Get("X-Request-Id") != "req-42.a_b" {
		t.Errorf("X-Request-Id %q, want the client's", r.Header.Get("X-Request-Id"))
	}
	if r := s.doHeaders(t, "GET", "/api/v2/payment/verify/", map[string]string{"X-Request-Id": "bad id\t<x>"}, ""); !idRE.MatchString(r.Header.Get("X-Request-Id")) {
		t.Errorf("X-Request-Id %q, want a fresh id", r.Header.Get("X-Request-Id"))
	}
	s.ledgerOK(t)
}

// --- go-live ---

func TestGoLive(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	out := s.showMerchant(t, demoMerchantEmail)
	if !strings.Contains(out, "live keys: not yet issued") || strings.Contains(out, "live_") {
		t.Fatalf("live keys before any payment:\n%s", out)
	}
	// A confirmed but unverified payment does not issue them.
	s.confirm(t, testPK, s.initiate(t, testPK, "9800000001", 1000))
	if out := s.showMerchant(t, demoMerchantEmail); strings.Contains(out, "live_") {
		t.Fatalf("live keys before a completed payment:\n%s", out)
	}
	testToken, _ := s.pay(t, testPK, testSK, "9800000001", 1000)
	lpk, lsk := s.liveKeys(t, demoMerchantEmail)
	for _, k := range []string{lpk, lsk} {
		hex := k[strings.LastIndexByte(k, '_')+1:]
		if hex[12] != '4' || !strings.ContainsRune("89ab", rune(hex[16])) {
			t.Errorf("key %s is not UUID-v4 shaped", k)
		}
	}
	out = s.showMerchant(t, demoMerchantEmail)
	if strings.Contains(out, lsk) || !strings.Contains(out, "live public key: "+lpk+" [active]") ||
		!regexp.MustCompile(`(?m)^live secret key: live_secret_key_[0-9a-f]{4}… \[active\]$`).MatchString(out) {
		t.Fatalf("second merchant show:\n%s", out)
	}

	const payer = "9800000002"
	// Live wallets start empty.
	checkBody(t, "live initiate without balance", s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, initiateFields(lpk, payer, 1000))), 400,
		`{"detail":"Insufficient balance in the wallet.","error_key":"validation_error"}`)
	s.cliOK(t, "consumer", "topup", "--mobile", payer, "--amount", "500000", "--book", "live")
	if strings.Contains(s.Stderr.String(), "mobile="+payer) {
		t.Fatal("a confirmation code was logged before any live initiate")
	}
	token := s.initiate(t, lpk, payer, 1000)
	code := s.lastOTP(t, payer)
	if code == "987654" {
		t.Logf("live OTP happened to equal the test OTP")
	}
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	mustBody(t, "live wrong code", s.confirmWith(t, lpk, token, wrong, "1111"), 400,
		`{"detail":"Confirmation code or transaction pin does not match.","tries_remaining":"2"}`)
	checkBody(t, "live token with test public key", s.confirmWith(t, testPK, token, code, "1111"), 400, bodyInvalidToken)
	if code != "987654" { // the sandbox code means nothing in the live book
		mustBody(t, "live confirm with the sandbox code", s.confirmWith(t, lpk, token, "987654", "1111"), 400,
			`{"detail":"Confirmation code or transaction pin does not match.","tries_remaining":"1"}`)
	}
	c := s.confirmWith(t, lpk, token, code, "1111")
	mustStatus(t, c, 200)
	idx := c.Body["idx"].(string)
	if c.Body["mobile"] != "98XXXXX002" || c.Body["amount"] != json.Number("1000") {
		t.Errorf("live confirm: %s", c.Raw)
	}

	// The test book cannot see the live payment.
	checkBody(t, "verify live with test key", s.verify(t, testSK, token, 1000), 400, bodyInvalidToken)
	checkBody(t, "status live with test key", s.status(t, testSK, token, 1000), 200, bodyStatusNotFound)
	checkBody(t, "detail live with test key", s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", testSK, ""), 404, bodyNotFound)
	// Nor the live book the test one.
	checkBody(t, "status test with live key", s.status(t, lsk, testToken, 1000), 200, bodyStatusNotFound)
	checkBody(t, "verify test with live key", s.verify(t, lsk, testToken, 1000), 400, bodyInvalidToken)

	r := s.verify(t, lsk, token, 1000)
	mustStatus(t, r, 200)
	rec := decodeExact(t, r.Raw).(map[string]any)
	mustEqualJSON(t, "live verify", rec, expectedRecord(t, rec, idx, "Completed", "is complete", "Test User 2", "98XXXXXXX2", 1000, 30, false))
	checkBody(t, "live status", s.status(t, lsk, token, 1000), 200, bodyStatusComplete)
	if got := listIdxs(t, s.list(t, lsk, "")); !reflect.DeepEqual(got, []string{idx}) {
		t.Errorf("live list %v, want [%s]", got, idx)
	}
	if got := listIdxs(t, s.list(t, testSK, "")); len(got) != 2 || got[0] == idx || got[1] == idx {
		t.Errorf("test list %v", got)
	}
	if test, live := s.merchantBalances(t, demoMerchantEmail); test != 10_000_970 || live != 970 {
		t.Errorf("balances test %d live %d", test, live)
	}
	// A live refund needs a live balance: 970 of the 1000 can go back.
	checkBody(t, "live full refund", s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", lsk, ""), 400,
		`{"detail":"Merchant balance is not enough for this refund.","error_key":"validation_error"}`)
	mustBody(t, "live partial refund", s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", lsk, `{"amount":500}`), 200, bodyRefundOK)
	if out := s.cliOK(t, "consumer", "topup", "--mobile", payer, "--amount", "1", "--book", "live"); !strings.Contains(out, "balance 499501 paisa") {
		t.Errorf("live wallet: %s", out)
	}
	s.ledgerOK(t)
}

func mustAtoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefundBlankAmountIsNotFull guards against a merchant's blank or null
// amount being read as "refund everything".
func TestRefundBlankAmountIsNotFull(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	_, idx := s.pay(t, testPK, testSK, "9800000002", 1000)
	for body, msg := range map[string]string{
		`{"amount": ""}`:   "A valid integer is required.",
		`{"amount": null}`: "This field may not be null.",
		`amount=`:          "A valid integer is required.",
	} {
		r := s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, body)
		mustStatus(t, r, 400)
		if msgs, _ := r.Body["amount"].([]any); len(msgs) != 1 || msgs[0] != msg {
			t.Errorf("refund %s: %s", body, r.Raw)
		}
	}
	r := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", testSK, "")
	if st := r.Body["state"].(map[string]any)["name"]; st != "Completed" {
		t.Fatalf("state after refused refunds: %v", st)
	}
	// Before capture a record shows no fee, as Khalti's Confirmed sample does.
	token := s.initiate(t, testPK, "9800000002", 3000)
	cidx := s.confirm(t, testPK, token)
	r = s.do(t, "GET", "/api/v2/merchant-transaction/"+cidx+"/", testSK, "")
	if r.Body["fee_amount"] != json.Number("0") {
		t.Fatalf("confirmed record fee_amount: %s", r.Raw)
	}
	s.ledgerOK(t)
}
