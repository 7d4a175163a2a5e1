package main

// Hostile input against every legacy endpoint: malformed and mistyped
// bodies, out-of-range amounts, SQL metacharacters, NUL bytes, invalid
// UTF-8, huge bodies and wrong content types. Each must be answered with
// a 4xx and a Khalti-shaped JSON error, never a 5xx, and must not move a
// paisa.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// hostile is one request the server must refuse.
type hostile struct {
	name   string
	method string
	path   string
	key    string // secret key for Authorization, if any
	ctype  string // Content-Type; "" sends none
	body   string
	// okStatus, if set, is a non-4xx status this request may get instead
	// (the status API answers an unknown token with 200 and state Error).
	okStatus int
}

// khaltiError reports whether body is a Khalti error: a JSON object with
// a non-empty "detail" string or a field whose value is a non-empty list
// of strings.
func khaltiError(raw string) (bool, string) {
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return false, "not a JSON object"
	}
	if d, ok := obj["detail"].(string); ok && d != "" {
		return true, ""
	}
	for k, v := range obj {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			continue
		}
		all := true
		for _, m := range list {
			if s, ok := m.(string); !ok || s == "" {
				all = false
			}
		}
		if all {
			return true, k
		}
	}
	return false, "no detail and no field error list"
}

// withField returns the JSON of base with field set to the raw JSON value.
func withField(base map[string]any, field, rawValue string) string {
	m := map[string]json.RawMessage{}
	for k, v := range base {
		b, _ := json.Marshal(v)
		m[k] = b
	}
	if rawValue == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(rawValue)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("%s=%s: %v", field, rawValue, err))
	}
	return string(b)
}

func rawJSONString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Hostile strings for identifier and text fields.
var (
	attackSQLOr   = "' OR 1=1 --"
	attackSQLDrop = `"; DROP TABLE payments; --`
	attackNUL     = "abc\x00def"
	attackLong    = strings.Repeat("x", 5000)
	attackUnicode = "९८००००००००🙂\u202e\ufeff"
	attackBadUTF8 = "\xff\xfe\xfd"
)

// freeText reports whether a field takes any text (so quotes, SQL and
// unicode are valid values there).
func freeText(field string) bool { return strings.HasPrefix(field, "product_") }

// Hostile amounts, as raw JSON values.
var hostileAmounts = []string{
	`true`, `false`, `{}`, `{"amount":1000}`, `[]`, `[1000]`, `null`, `""`, `" "`,
	`"10.5"`, `10.5`, `1000.5`, `"1e3"`, `1e3`, `1E3`, `"0x3e8"`, `"1000abc"`, `"1_000"`, `"1,000"`,
	`"99999999999999999999999"`, `99999999999999999999999`, `-99999999999999999999999`, `1e400`,
	`-1000`, `"-1000"`, `0`, `"0"`, `-0`, `"NaN"`, `"Infinity"`, `"١٠٠٠"`, `"1000\u0000"`,
}

// Hostile strings, as raw JSON values (non-string types included).
func hostileStrings() []string {
	return []string{
		rawJSONString(attackSQLOr), rawJSONString(attackSQLDrop), rawJSONString(attackNUL), rawJSONString(attackLong),
		rawJSONString(attackUnicode), `{}`, `[]`, `["a"]`, `true`, `null`, `""`, `"   "`, rawJSONString("\x00"),
	}
}

// hostileRequests builds the table against the server's state: token is
// an Initiated payment's (confirm target), confirmed a Confirmed one's
// (verify target), idx a Completed one's (refund target). None of them
// may change state.
func hostileRequests(token, confirmed, idx string, confirmedAmount int) []hostile {
	var hs []hostile
	add := func(h hostile) { hs = append(hs, h) }
	const (
		initiate = "/api/v2/payment/initiate/"
		confirm  = "/api/v2/payment/confirm/"
		verify   = "/api/v2/payment/verify/"
		status   = "/api/v2/payment/status/"
		list     = "/api/v2/merchant-transaction/"
		jsonCT   = "application/json"
		formCT   = "application/x-www-form-urlencoded"
	)
	refund := "/api/merchant-transaction/" + idx + "/refund/"

	initiateBase := map[string]any{"public_key": testPK, "mobile": "9800000005", "transaction_pin": "1111", "amount": 1000,
		"product_identity": "p1", "product_name": "Product"}
	confirmBase := map[string]any{"public_key": testPK, "token": token, "confirmation_code": "987654", "transaction_pin": "1111"}
	verifyBase := map[string]any{"token": confirmed, "amount": confirmedAmount}

	type endpoint struct {
		name, path, key string
		base            map[string]any
	}
	posts := []endpoint{
		{"initiate", initiate, "", initiateBase},
		{"confirm", confirm, "", confirmBase},
		{"verify", verify, testSK, verifyBase},
		{"refund", refund, testSK, nil},
	}

	// Whole-body attacks on every POST endpoint.
	huge := `{"product_name":"` + strings.Repeat("a", 70<<10) + `"}`
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	multipartBody := "--XyZ\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n500\r\n--XyZ--\r\n"
	for _, ep := range posts {
		bodies := []struct{ name, ctype, body string }{
			{"malformed JSON", jsonCT, `{"amount": 1000,`},
			{"truncated JSON", jsonCT, `{"amount`},
			{"JSON array", jsonCT, `[{"amount": 1000}]`},
			{"JSON array without content type", "", `[{"amount": 1000}]`},
			{"JSON null", jsonCT, `null`},
			{"JSON string", jsonCT, `"amount"`},
			{"JSON number", jsonCT, `1000`},
			{"JSON true", jsonCT, `true`},
			{"two JSON objects", jsonCT, `{"amount": 500}{"amount": 500}`},
			{"JSON object then garbage", jsonCT, `{"amount": 500} x`},
			{"deeply nested JSON", jsonCT, `{"a":` + deep + `}`},
			{"raw NUL in JSON", jsonCT, "{\"amount\": 500, \"x\": \"a\x00b\"}"},
			{"NUL bytes body", jsonCT, "\x00\x00\x00\x00"},
			{"huge JSON body", jsonCT, huge},
			{"huge form body", formCT, "amount=500&x=" + strings.Repeat("a", 70<<10)},
			{"JSON body as text/plain", "text/plain", `{"amount": 500}`},
			{"JSON body as form", formCT, `{"amount": 500}`},
			{"JSON array as form", formCT, `[{"amount": 500}]`},
			{"XML body", "application/xml", `<refund><amount>500</amount></refund>`},
			{"XML body as text/plain", "text/plain; charset=utf-8", `<refund><amount>500</amount></refund>`},
			{"form body as JSON", jsonCT, `amount=500`},
			{"bad percent-encoding", formCT, `amount=%zz&token=%`},
			{"garbage content type", "%%%/;;;", `{"amount": 500}`},
			{"octet-stream", "application/octet-stream", "\x89PNG\r\n\x1a\n\x00\x00amount=500"},
			{"multipart without boundary", "multipart/form-data", multipartBody},
			{"multipart with a blank amount", "multipart/form-data; boundary=XyZ",
				"--XyZ\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n\r\n--XyZ--\r\n"},
			{"broken multipart", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n50"},
		}
		for _, b := range bodies {
			add(hostile{name: ep.name + ": " + b.name, method: "POST", path: ep.path, key: ep.key, ctype: b.ctype, body: b.body})
		}
	}

	// Field attacks: one field of an otherwise valid request at a time.
	for _, ep := range posts[:3] {
		for field := range ep.base {
			values := hostileStrings()
			if field == "amount" {
				values = hostileAmounts
			}
			if field == "token" && ep.name == "verify" {
				// Well-formed ids that are no token: an idx, a token in
				// the wrong case.
				values = append(values, rawJSONString(idx), rawJSONString(strings.ToLower(confirmed)))
			}
			for _, v := range values {
				if freeText(field) && (v == rawJSONString(attackSQLOr) || v == rawJSONString(attackSQLDrop) || v == rawJSONString(attackUnicode)) {
					continue // valid product text: see TestHostileProductFields
				}
				add(hostile{name: fmt.Sprintf("%s: %s=%.40s", ep.name, field, v), method: "POST", path: ep.path, key: ep.key,
					ctype: jsonCT, body: withField(ep.base, field, v)})
			}
			add(hostile{name: ep.name + ": missing " + field, method: "POST", path: ep.path, key: ep.key,
				ctype: jsonCT, body: withField(ep.base, field, "")})
		}
		// The same through a form body, where every value is text.
		for field := range ep.base {
			for _, v := range []string{attackSQLOr, attackSQLDrop, attackNUL, attackLong, attackUnicode, attackBadUTF8, "", "10.5", "1e3", "99999999999999999999999"} {
				if freeText(field) && (v == attackSQLOr || v == attackSQLDrop || v == attackUnicode || v == attackBadUTF8 || v == "10.5" || v == "1e3" || v == "99999999999999999999999") {
					continue // valid product text
				}
				q := url.Values{}
				for k, bv := range ep.base {
					q.Set(k, fmt.Sprint(bv))
				}
				q.Set(field, v)
				add(hostile{name: fmt.Sprintf("%s (form): %s=%.20q", ep.name, field, v), method: "POST", path: ep.path, key: ep.key,
					ctype: formCT, body: q.Encode()})
			}
		}
	}
	// Refund amounts, JSON and form.
	for _, v := range hostileAmounts {
		add(hostile{name: "refund: amount=" + v, method: "POST", path: refund, key: testSK, ctype: jsonCT, body: `{"amount": ` + v + `}`})
	}
	for _, v := range []string{"", " ", "10.5", "1e3", "-1", "0", "abc", attackSQLOr, attackNUL, attackBadUTF8, "99999999999999999999999"} {
		add(hostile{name: fmt.Sprintf("refund (form): amount=%q", v), method: "POST", path: refund, key: testSK, ctype: formCT,
			body: url.Values{"amount": {v}}.Encode()})
	}
	// Hostile idx in the refund and detail paths.
	for _, v := range []string{attackSQLOr, attackSQLDrop, attackNUL, attackLong, attackUnicode, attackBadUTF8, idx + "'", strings.ToLower(idx), "%", ".."} {
		esc := url.PathEscape(v)
		add(hostile{name: fmt.Sprintf("refund: idx=%.30q", v), method: "POST", path: "/api/merchant-transaction/" + esc + "/refund/", key: testSK})
		add(hostile{name: fmt.Sprintf("refund (epayment): idx=%.30q", v), method: "POST", path: "/api/v2/epayment/merchant-transaction/" + esc + "/refund/",
			key: testSK, ctype: jsonCT, body: `{"amount": 1000}`})
		add(hostile{name: fmt.Sprintf("detail: idx=%.30q", v), method: "GET", path: "/api/v2/merchant-transaction/" + esc + "/", key: testSK})
	}

	// Status: an unknown token is 200 {"status": false, "state": "Error"},
	// a malformed amount a 400.
	for _, v := range []string{attackSQLOr, attackSQLDrop, attackNUL, attackLong, attackUnicode, attackBadUTF8, idx + "'", ""} {
		q := url.Values{"token": {v}, "amount": {"1000"}}
		add(hostile{name: fmt.Sprintf("status: token=%.30q", v), method: "GET", path: status + "?" + q.Encode(), key: testSK, okStatus: 200})
	}
	for _, v := range []string{"", "true", "{}", "10.5", "1e3", "99999999999999999999999", attackSQLOr, attackNUL, attackBadUTF8} {
		q := url.Values{"token": {confirmed}, "amount": {v}}
		add(hostile{name: fmt.Sprintf("status: amount=%q", v), method: "GET", path: status + "?" + q.Encode(), key: testSK})
	}
	// A well-formed but wrong amount is "not found", like a wrong token.
	add(hostile{name: "status: amount=-1", method: "GET", path: status + "?token=" + confirmed + "&amount=-1", key: testSK, okStatus: 200})
	add(hostile{name: "status: raw percent junk", method: "GET", path: status + "?token=%zz&amount=%", key: testSK})

	// List filters and pages.
	for _, q := range []string{
		"page=0", "page=-1", "page=abc", "page=1.5", "page=1e3", "page=99999999999999999999", "page=" + url.QueryEscape(attackSQLOr),
		"page=%00", "page=9999",
		"state=" + url.QueryEscape(attackSQLOr), "state=" + url.QueryEscape(attackSQLDrop), "state=%00", "state=" + url.QueryEscape(attackUnicode),
		"state=Completed,%ff",
		"start_date=" + url.QueryEscape(attackSQLOr), "start_date=2026-13-45", "end_date=%00", "end_date=" + url.QueryEscape(attackLong),
		"start_date=99999-01-01",
	} {
		add(hostile{name: "list: " + fmt.Sprintf("%.40s", q), method: "GET", path: list + "?" + q, key: testSK})
	}

	// Hostile credentials: 401 whatever the body.
	for _, k := range []string{attackSQLOr, "test_secret_key_' OR '1'='1", strings.Repeat("k", 5000), "test_public_key_dc74e0fd57cb46cd93832aee0a507256"} {
		add(hostile{name: fmt.Sprintf("verify: key=%.30q", k), method: "POST", path: verify, key: k, ctype: jsonCT, body: withField(verifyBase, "amount", "1000")})
		add(hostile{name: fmt.Sprintf("refund: key=%.30q", k), method: "POST", path: refund, key: k})
	}
	return hs
}

// sendHostile sends h with exactly its content type and credentials.
func (s *testServer) sendHostile(t testing.TB, h hostile) response {
	t.Helper()
	req, err := http.NewRequest(h.method, s.URL+h.path, strings.NewReader(h.body))
	if err != nil {
		t.Fatalf("%s: %v", h.name, err)
	}
	if h.ctype != "" {
		req.Header.Set("Content-Type", h.ctype)
	}
	if h.key != "" {
		req.Header.Set("Authorization", "Key "+h.key)
	}
	return s.send(t, req)
}

// moneyState is everything a hostile request must not change.
type moneyState struct {
	merchant int64
	wallets  map[string]int64
}

func TestHostileInputSQLite(t *testing.T) {
	t.Parallel()
	hostileInput(t, startServer(t))
}

func TestHostileInputPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := &testServer{DB: url, env: pgEnv}
	if out, err := s.cli(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := s.cli(t, "sandbox", "seed"); err != nil {
		t.Fatalf("sandbox seed: %v\n%s", err, out)
	}
	hostileInput(t, startServerDB(t, url, pgEnv))
}

func hostileInput(t *testing.T, s *testServer) {
	const fresh, sandboxPayer, freshBalance = "9812300001", "9800000005", 5000
	s.fundedWallet(t, fresh, freshBalance)
	// Targets: an Initiated payment (confirm), a Confirmed one (verify)
	// and a Completed one (refund).
	initiated := s.initiate(t, testPK, fresh, 1000)
	confirmed := s.initiate(t, testPK, fresh, 2000)
	s.confirm(t, testPK, confirmed)
	_, completed := s.pay(t, testPK, testSK, sandboxPayer, 3000)

	snapshot := func() moneyState {
		t.Helper()
		return moneyState{merchant: s.demoTestBalance(t), wallets: map[string]int64{
			fresh: s.walletBalanceProbe(t, fresh), sandboxPayer: s.walletBalanceProbe(t, sandboxPayer)}}
	}
	before := snapshot()
	if before.wallets[fresh] != freshBalance-2000+1 {
		t.Fatalf("fresh wallet holds %d, want %d", before.wallets[fresh]-1, freshBalance-2000)
	}

	hs := hostileRequests(initiated, confirmed, completed, 2000)
	seen := map[string]bool{}
	for _, h := range hs {
		if seen[h.name] {
			t.Fatalf("duplicate case name %q", h.name)
		}
		seen[h.name] = true
		r := s.sendHostile(t, h)
		if r.Status >= 500 || (r.Status < 400 && r.Status != h.okStatus) || (h.okStatus == 0 && r.Status == 200) {
			t.Errorf("%s: status %d, want 4xx; body %.300s", h.name, r.Status, r.Raw)
			continue
		}
		// The refund target stays Completed: had a hostile refund gone
		// through, every later one would be refused for this reason.
		if r.Body["detail"] == "Transaction is already fully refunded." {
			t.Errorf("%s: the refund target has been refunded", h.name)
		}
		if ok, why := khaltiError(r.Raw); !ok {
			t.Errorf("%s: %d body is not a Khalti error (%s): %.300s", h.name, r.Status, why, r.Raw)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", h.name, ct)
		}
		if h.okStatus == 200 && r.Status == 200 && r.Body["state"] != "Error" {
			t.Errorf("%s: status API found a payment: %s", h.name, r.Raw)
		}
		if len(h.body) > 64<<10 && r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d for a %d-byte body, want 413", h.name, r.Status, len(h.body))
		}
	}
	t.Logf("%d hostile requests", len(hs))

	// Not a paisa moved: each probe added exactly 1.
	after := snapshot()
	if after.merchant != before.merchant {
		t.Errorf("merchant balance %d -> %d", before.merchant, after.merchant)
	}
	for m, b := range before.wallets {
		if after.wallets[m] != b+1 {
			t.Errorf("wallet %s: %d -> %d (want +1 from the probe)", m, b, after.wallets[m])
		}
	}
	s.ledgerOK(t)

	// The targets are as they were and still work: the Confirmed payment
	// captures, the Completed one refunds, and the fresh wallet's whole
	// balance (3000 + 2 probe paisa) still pays. Only the Initiated one
	// changed: the wrong codes and PINs sent to confirm disabled it, as
	// three wrong tries do (the status API calls that Failed).
	for token, want := range map[string]string{initiated: "Failed", confirmed: "Confirmed", completed: "Complete"} {
		amount := map[string]int{initiated: 1000, confirmed: 2000, completed: 3000}[token]
		r := s.do(t, "GET", fmt.Sprintf("/api/v2/payment/status/?token=%s&amount=%d", token, amount), testSK, "")
		if r.Status != 200 || r.Body["state"] != want {
			t.Errorf("status of %s after the attack: %d %s, want %s", token, r.Status, r.Raw, want)
		}
	}
	mustStatus(t, s.verify(t, testSK, confirmed, 2000), 200)
	mustStatus(t, s.do(t, "POST", "/api/merchant-transaction/"+completed+"/refund/", testSK, `{"amount": 3000}`), 200)
	s.pay(t, testPK, testSK, fresh, freshBalance-2000+2)
	if got := s.walletBalanceProbe(t, fresh); got != 1 {
		t.Errorf("fresh wallet after paying its whole balance: %d, want 0 (+1 probe)", got-1)
	}
	s.ledgerOK(t)
}

// TestHostileProductFields checks that SQL metacharacters, quotes and
// unicode in product fields and merchant_* extras are stored and echoed
// exactly: they are data, not an attack surface.
func TestHostileProductFields(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for i, v := range []string{attackSQLOr, attackSQLDrop, attackUnicode, `\'; --`, "%_*?", strings.Repeat("é", 500)} {
		r := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{
			"public_key": testPK, "mobile": "9800000004", "transaction_pin": "1111", "amount": 1000,
			"product_identity": v, "product_name": v, "product_url": v, "merchant_note": v}))
		mustStatus(t, r, 200)
		token := r.Body["token"].(string)
		c := s.do(t, "POST", "/api/v2/payment/confirm/", "", confirmJSON(t, token))
		mustStatus(t, c, 200)
		for _, k := range []string{"product_identity", "product_name", "product_url", "merchant_note"} {
			if c.Body[k] != v {
				t.Errorf("case %d: confirm echoes %s=%q, want %q", i, k, c.Body[k], v)
			}
		}
		mustStatus(t, s.verify(t, testSK, token, 1000), 200)
		d := s.do(t, "GET", "/api/v2/merchant-transaction/"+c.Body["idx"].(string)+"/", testSK, "")
		meta, _ := d.Body["meta"].(map[string]any)
		if meta["product_identity"] != v || meta["product_name"] != v || meta["product_url"] != v {
			t.Errorf("case %d: detail meta %v", i, meta)
		}
	}
	// The list still counts exactly these payments: no row was lost or added.
	r := s.do(t, "GET", "/api/v2/merchant-transaction/?page_size=100", testSK, "")
	if r.Status != 200 || r.Body["total_records"] != json.Number("6") {
		t.Errorf("list after hostile product fields: %d %.300s", r.Status, r.Raw)
	}
	s.ledgerOK(t)
}

// TestContentTypes pins how a body's content type is read: multipart forms
// work like urlencoded ones, unknown types are DRF's 415, and a JSON body
// labelled as a form is refused rather than read as a form with no fields
// (which, for a refund, would mean "refund everything").
func TestContentTypes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	_, idx := s.pay(t, testPK, testSK, "9800000002", 3000)
	refund := "/api/merchant-transaction/" + idx + "/refund/"
	post := func(path, ctype, body string) response {
		t.Helper()
		return s.sendHostile(t, hostile{name: ctype, method: "POST", path: path, key: testSK, ctype: ctype, body: body})
	}
	multipartBody := func(fields ...string) string {
		var b strings.Builder
		for i := 0; i < len(fields); i += 2 {
			fmt.Fprintf(&b, "--XyZ\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", fields[i], fields[i+1])
		}
		return b.String() + "--XyZ--\r\n"
	}
	before := s.demoTestBalance(t)

	// Multipart, as PHP's curl sends an array: a partial refund of 500.
	r := post(refund, "multipart/form-data; boundary=XyZ", multipartBody("amount", "500"))
	if r.Status != 200 || r.Body["detail"] != "Transaction refund successful." {
		t.Fatalf("multipart refund: %d %s", r.Status, r.Raw)
	}
	st := s.do(t, "GET", "/api/v2/payment/status/?token="+idx+"&amount=3000", testSK, "")
	if st.Body["state"] != "Partially refunded" {
		t.Fatalf("after a multipart refund of 500: %s", st.Raw)
	}
	if got := before - s.demoTestBalance(t); got != 500 {
		t.Fatalf("multipart refund took %d from the merchant, want 500", got)
	}

	// Unknown content types: 415 with DRF's message.
	for ctype, body := range map[string]string{
		"text/plain":               `{"amount": 500}`,
		"text/plain;charset=UTF-8": `{"amount": 500}`,
		"application/xml":          `<amount>500</amount>`,
		"application/octet-stream": "amount=500",
	} {
		r := post(refund, ctype, body)
		want := fmt.Sprintf(`{"detail":%s}`, rawJSONString(fmt.Sprintf("Unsupported media type %q in request.", ctype)))
		if r.Status != http.StatusUnsupportedMediaType || strings.TrimSpace(r.Raw) != want {
			t.Errorf("%s: %d %s, want 415 %s", ctype, r.Status, r.Raw, want)
		}
	}
	// JSON sent as a form is refused; sent without a content type it is JSON.
	r = post(refund, "application/x-www-form-urlencoded", `{"amount": 500}`)
	if r.Status != 400 || !strings.Contains(fmt.Sprint(r.Body["detail"]), "application/json") {
		t.Errorf("JSON labelled as a form: %d %s", r.Status, r.Raw)
	}
	r = post(refund, "", `{"amount": 500}`)
	if r.Status != 200 {
		t.Errorf("JSON without a content type: %d %s", r.Status, r.Raw)
	}
	r = post(refund, "", `[{"amount": 500}]`)
	if r.Status != 400 || fmt.Sprint(r.Body["non_field_error"]) != "[Invalid data. Expected a dictionary.]" {
		t.Errorf("JSON array without a content type: %d %s", r.Status, r.Raw)
	}
	// An empty body needs no content type: it refunds the remaining 2000.
	r = post(refund, "text/plain", "")
	if r.Status != 200 {
		t.Errorf("empty text/plain refund: %d %s", r.Status, r.Raw)
	}
	if got := before - s.demoTestBalance(t); got != 3000 {
		t.Errorf("merchant paid back %d in all, want 3000", got)
	}

	// Multipart also works for the legacy flow.
	r = post("/api/v2/payment/initiate/", "multipart/form-data; boundary=XyZ", multipartBody("public_key", testPK, "mobile", "9800000002",
		"transaction_pin", "1111", "amount", "1000", "product_identity", "p", "product_name", "P"))
	mustStatus(t, r, 200)
	token := r.Body["token"].(string)
	r = post("/api/v2/payment/confirm/", "multipart/form-data; boundary=XyZ", multipartBody("public_key", testPK, "token", token,
		"confirmation_code", "987654", "transaction_pin", "1111"))
	mustStatus(t, r, 200)
	r = post("/api/v2/payment/verify/", "multipart/form-data; boundary=XyZ", multipartBody("token", token, "amount", "1000"))
	if state, _ := r.Body["state"].(map[string]any); r.Status != 200 || state["name"] != "Completed" {
		t.Errorf("multipart verify: %d %s", r.Status, r.Raw)
	}
	s.ledgerOK(t)
}
